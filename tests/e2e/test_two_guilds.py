"""The real bot in two guilds at once: commands are synced to each, and each guild keeps its own books.

The fake Discord is built with two guilds (the same people are members of both, each guild with its
own roles and channels); the bot is configured for both (``DISCORD_GUILD_IDS``). A member's video in
one guild is posted there and charged there only.
"""

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


@pytest.fixture
async def minimax() -> AsyncIterator[FakeMiniMax]:
    async with FakeMiniMax(flavour="official", speed=400.0) as fake:
        yield fake


def test_the_fake_builds_one_guild_by_default_and_more_on_request() -> None:
    assert len(FakeDiscord().guilds) == 1
    fake = FakeDiscord(guild_names=("First", "Second"))
    first, second = fake.setups
    assert [g.name for g in fake.guilds.values()] == ["First", "Second"]
    assert fake.guild is first.guild and fake.general is first.general and fake.member is first.member
    assert second.member.user is first.member.user, "the same person is a member of both"
    assert second.member is not first.member and second.admin.role_ids == [second.manager_role.id]
    assert fake.guild_of(second.videos) is second.guild and fake.channel(second.videos.id) is second.videos
    with pytest.raises(ValueError, match="at least one guild"):
        FakeDiscord(guild_names=())


async def test_commands_and_videos_work_in_each_of_two_guilds(tmp_path: Path, minimax: FakeMiniMax) -> None:
    async with FakeDiscord(guild_names=("First Guild", "Second Guild")) as fake:
        first, second = fake.setups
        harness = BotHarness(
            tmp_path,
            minimax=minimax,
            env=video_env(DEFAULT_QUOTA_CREDITS="1.5"),
            expect_commands=("video", "videoadmin"),
            fake=fake,
        )
        async with harness as h:
            await fake.wait_until(
                lambda: all(fake.find_command("video", guild_id=s.guild.id) for s in fake.setups),
                10.0,
                "/video in both guilds",
            )
            for setup in fake.setups:
                video = fake.find_command("video", guild_id=setup.guild.id)
                assert video is not None and video["guild_id"] == str(setup.guild.id)

            done: dict[int, int] = {}
            for setup in (first, second):
                call = await h.invoke(
                    "video generate",
                    member=setup.member,
                    channel=setup.videos,
                    options={"prompt": f"a lighthouse in {setup.guild.name}"},
                )
                outcome = await wait_answer(call)
                assert outcome.accepted and outcome.task_id is not None, outcome.text
                result = await wait_delivered(h, outcome.task_id)
                assert result.channel_id == setup.videos.id and result.guild_id == setup.guild.id
                done[setup.guild.id] = outcome.task_id

            # 1 of 1.5 credits used in each guild: the second guild's video did not draw on the first's.
            for setup in (first, second):
                quota = await h.invoke("video quota", member=setup.member, channel=setup.videos)
                text = (await wait_answer(quota)).text
                assert "1 of 1.5" in text, text

            assert await h.stop() == 0
            with contextlib.closing(sqlite3.connect(h.database_path)) as db:
                recorded = dict(db.execute("SELECT id, guild_id FROM tasks").fetchall())
            assert recorded == {task: guild for guild, task in done.items()}
            h.assert_clean()
