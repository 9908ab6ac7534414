"""ALLOWED_GUILD_IDS with the real bot: it leaves other servers (at start-up and when added to
one), and whatever reaches it from such a server is refused before it touches storage or the API."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.harness import BotHarness
from tests.e2e.video_flow import video_env, wait_answer, wait_delivered
from tests.fakes.fake_discord import FakeDiscord
from tests.fakes.fake_minimax import FakeMiniMax

pytestmark = pytest.mark.e2e

REFUSAL = "not available in this server"


@pytest.fixture
async def minimax() -> AsyncIterator[FakeMiniMax]:
    async with FakeMiniMax(flavour="official", speed=400.0) as fake:
        yield fake


def leave_requests(fake: FakeDiscord, guild_id: int) -> list[int]:
    path = f"/users/@me/guilds/{guild_id}"
    return [r.status for r in fake.requests if r.method == "DELETE" and r.path.endswith(path)]


def task_count(h: BotHarness) -> int:
    with contextlib.closing(sqlite3.connect(h.database_path)) as db:
        return int(db.execute("SELECT COUNT(*) FROM tasks").fetchone()[0])


async def test_the_bot_leaves_servers_it_does_not_serve(tmp_path: Path) -> None:
    async with FakeDiscord(guild_names=("Served", "Someone else's")) as fake:
        served, other = fake.setups
        env = video_env(ALLOWED_GUILD_IDS=str(served.guild.id), DISCORD_GUILD_IDS=str(served.guild.id))
        async with BotHarness(tmp_path, env=env, fake=fake) as h:
            await fake.wait_until(lambda: other.guild.id in fake.left_guilds, 10.0, "leaving at start-up")
            assert leave_requests(fake, other.guild.id) == [204]
            assert served.guild.id in fake.guilds and leave_requests(fake, served.guild.id) == []
            # Added to one more server while running: it leaves that one too.
            joined = await fake.add_bot_to_guild("Joined later")
            await fake.wait_until(lambda: joined.guild.id in fake.left_guilds, 10.0, "leaving on join")
            assert f"Leaving server {joined.guild.id}" in h.log_text()
            assert f"Leaving server {other.guild.id}" in h.log_text()
            # The served server keeps working.
            quota = await wait_answer(
                await h.invoke("video quota", member=served.member, channel=served.videos)
            )
            assert "credits" in quota.text and REFUSAL not in quota.text
            h.assert_clean()


async def test_what_comes_from_an_unserved_server_is_refused(tmp_path: Path, minimax: FakeMiniMax) -> None:
    async with FakeDiscord(guild_names=("Served", "Someone else's")) as fake:
        served, other = fake.setups
        h = BotHarness(tmp_path, minimax=minimax, env=video_env(), fake=fake, expect_commands=("video",))
        async with h:
            # Before the operator set ALLOWED_GUILD_IDS, a video was made in the other server.
            first = await wait_answer(
                await h.invoke(
                    "video generate", member=other.member, channel=other.videos, options={"prompt": "a kite"}
                )
            )
            assert first.task_id is not None, first.text
            result = await wait_delivered(h, first.task_id)
            await h.stop()

            # Now only the first server is served, and leaving the other fails (say, Discord is down):
            # the bot stays in it, so every door must refuse on its own.
            fake.inject_fault("DELETE", rf"/users/@me/guilds/{other.guild.id}$", 403, times=100)
            h.extra_env.update(ALLOWED_GUILD_IDS=str(served.guild.id), DISCORD_GUILD_IDS=str(served.guild.id))
            await h.start()
            await fake.wait_until(lambda: "Could not leave server" in h.log_text(), 10.0, "the failed leave")
            submitted = len(minimax.submissions)

            command = await wait_answer(
                await h.invoke(
                    "video generate", member=other.member, channel=other.videos, options={"prompt": "a kite"}
                )
            )
            assert REFUSAL in command.text and command.call.ephemeral and command.task_id is None
            # A command that spends nothing is refused too: the server gets no service at all.
            quota = await wait_answer(
                await h.invoke("video quota", member=other.member, channel=other.videos)
            )
            assert REFUSAL in quota.text and quota.call.ephemeral, quota.text
            regenerate = await h.click(result, f"video:regen:{first.task_id}", member=other.member)
            details = await h.click(result, f"video:details:{first.task_id}", member=other.member)
            for call in (regenerate, details):
                text = (await wait_answer(call)).text
                assert REFUSAL in text and call.ephemeral, text
            assert task_count(h) == 1 and len(minimax.submissions) == submitted == 1
            assert fake.unanswered_interactions() == []
            h.assert_clean(allow_log=["Could not leave server"])
