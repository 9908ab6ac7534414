"""Two bot processes, one PostgreSQL database, the shards split between them (SHARD_COUNT=2).

Discord sends each guild's interactions to the one connection of its shard, so each process must
answer its own guilds, and nothing may be answered, submitted or posted twice because two processes
share the books. Each guild's ``/video generate`` is checked against the process that holds its
shard (its ``reserved`` log line), and every video is posted once and charged once.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from tests.e2e.harness import BotHarness
from tests.e2e.test_metrics import free_port, ready_within
from tests.e2e.video_flow import results_by_task, video_env, wait_answer, wait_delivered
from tests.fakes.fake_discord import FakeDiscord
from tests.fakes.fake_discord.rules import shard_of
from tests.fakes.fake_minimax import FakeMiniMax

pytestmark = pytest.mark.e2e

GUILDS = ("Alpha", "Bravo", "Charlie", "Delta")
_RESERVED = re.compile(r"Task (\d+) reserved: user \d+, guild (\d+)")
_DELIVERED = re.compile(r"Task (\d+) delivered as message \d+")


def shard_bot(
    root: Path, shard: int, *, fake: FakeDiscord, minimax: FakeMiniMax, url: str, port: int
) -> BotHarness:
    env = video_env(DATABASE_URL=url, SHARD_COUNT="2", SHARD_IDS=str(shard), METRICS_PORT=str(port))
    return BotHarness(
        root / f"shard-{shard}", minimax=minimax, fake=fake, env=env, expect_commands=("video",)
    )


@contextlib.asynccontextmanager
async def two_shard_bots(
    root: Path, url: str, minimax: FakeMiniMax, fake: FakeDiscord
) -> AsyncIterator[list[BotHarness]]:
    """Shard 0's bot and shard 1's, started together on an empty database, both ready."""
    ports = (free_port(), free_port())
    bots = [shard_bot(root, s, fake=fake, minimax=minimax, url=url, port=ports[s]) for s in (0, 1)]
    async with contextlib.AsyncExitStack() as stack:
        for bot in bots:
            stack.push_async_callback(bot.stop)
        # Both at once on an empty database: the schema is migrated once, under PostgreSQL's lock.
        await asyncio.gather(*(bot.start() for bot in bots))
        http = await stack.enter_async_context(aiohttp.ClientSession())
        for port in ports:  # ready: every shard of the process connected, and the database answers
            assert await ready_within(http, f"http://127.0.0.1:{port}/readyz", 20.0)
        assert sorted(fake.shard_identifies) == [(0, 2), (1, 2)]
        yield bots


async def test_each_process_answers_its_own_shards_guilds_and_posts_each_video_once(
    tmp_path: Path, pg_url: str
) -> None:
    async with (
        FakeMiniMax(flavour="official", speed=400.0) as minimax,
        FakeDiscord(guild_names=GUILDS, spread_over_shards=2) as fake,
        two_shard_bots(tmp_path, pg_url, minimax, fake) as bots,
    ):
        # The process holding shard 0 synced each guild's commands, once; the other did not try.
        assert Counter(guild for guild, _ in fake.command_syncs) == {gid: 1 for gid in fake.guilds}
        assert "Commands are synced by the process holding shard 0" in bots[1].log_text()

        owner = {setup.guild.id: bots[shard_of(setup.guild.id, 2)] for setup in fake.setups}
        assert {id(b) for b in owner.values()} == {id(b) for b in bots}, "guilds on both shards"
        calls = [
            (
                setup,
                await owner[setup.guild.id].invoke(
                    "video generate",
                    member=setup.member,
                    channel=setup.videos,
                    options={"prompt": f"a lighthouse over {setup.guild.name}"},
                ),
            )
            for setup in fake.setups
        ]
        tasks: dict[int, int] = {}  # task → guild
        for setup, call in calls:
            assert fake.interaction_shards[call.id] == (shard_of(setup.guild.id, 2), 2)
            outcome = await wait_answer(call)
            assert outcome.accepted and outcome.task_id is not None, outcome.text
            tasks[outcome.task_id] = setup.guild.id
        for task_id, guild_id in tasks.items():
            result = await wait_delivered(owner[guild_id], task_id)
            assert result.guild_id == guild_id

        assert [await bot.stop() for bot in bots] == [0, 0]
        logs = [bot.log_text() for bot in bots]
        for shard, log in enumerate(logs):  # each request was taken by its own shard's process
            reserved = {int(task): int(guild) for task, guild in _RESERVED.findall(log)}
            assert reserved == {t: g for t, g in tasks.items() if shard_of(g, 2) == shard}
        delivered = Counter(int(task) for log in logs for task in _DELIVERED.findall(log))
        assert delivered == {task: 1 for task in tasks}, "each video delivered by one process, once"
        assert results_by_task(bots[0]) == {task: 1 for task in tasks}, "each video posted once"

        db = await asyncpg.connect(pg_url)
        try:
            rows = await db.fetch("SELECT id, guild_id, state, cost_tenths FROM tasks")
            ledger = await db.fetch(
                "SELECT task_id, kind, SUM(tenths) AS tenths FROM ledger"
                " WHERE task_id IS NOT NULL GROUP BY task_id, kind"
            )
        finally:
            await db.close()
        assert {r["id"]: (r["guild_id"], r["state"]) for r in rows} == {
            t: (g, "delivered") for t, g in tasks.items()
        }
        charged = {r["task_id"]: r["tenths"] for r in ledger if r["kind"] == "charge"}
        assert charged == {r["id"]: r["cost_tenths"] for r in rows}
        assert not [r for r in ledger if r["kind"] == "refund"]
        for bot in bots:
            bot.assert_clean()


async def test_a_video_taken_by_one_process_is_delivered_by_the_other_through_rest(
    tmp_path: Path, pg_url: str
) -> None:
    """Shard 1's process takes a request and stops before the video is done; shard 0's, restarted,
    never saw that server on its gateway yet finishes the job: it posts in that server through REST, with that
    server's own upload limit (fetched, as its cache does not hold the guild)."""
    async with (
        FakeMiniMax(flavour="official") as minimax,  # frozen: nothing finishes until finish_all()
        FakeDiscord(guild_names=GUILDS, spread_over_shards=2) as fake,
        two_shard_bots(tmp_path, pg_url, minimax, fake) as bots,
    ):
        bravo = fake.setups[1]
        assert shard_of(bravo.guild.id, 2) == 1
        call = await bots[1].invoke(
            "video generate", member=bravo.member, channel=bravo.videos, options={"prompt": "a tide pool"}
        )
        outcome = await wait_answer(call)
        assert outcome.accepted and outcome.task_id is not None, outcome.text
        await minimax.wait_for_count("submit", 1, within=15.0)
        assert await bots[1].stop() == 0
        fetched_before = len(fake.requests)
        # A start resumes every unfinished task in the database at once (an idle poller that never
        # heard of it would find it within a minute).
        await bots[0].restart(kill=False)

        minimax.finish_all()
        result = await wait_delivered(bots[0], outcome.task_id, timeout=60.0)
        assert (result.guild_id, result.channel_id) == (bravo.guild.id, bravo.videos.id)
        assert results_by_task(bots[0]) == {outcome.task_id: 1}
        assert f"Task {outcome.task_id} delivered as message" in bots[0].log_text()
        assert f"Task {outcome.task_id} reserved" in bots[1].log_text()
        assert f"Task {outcome.task_id} reserved" not in bots[0].log_text()
        asked = [f"{r.method} {r.path}" for r in fake.requests[fetched_before:]]
        assert f"GET /api/v10/guilds/{bravo.guild.id}" in asked, "Bravo's upload limit, asked through REST"
        assert await bots[0].stop() == 0
        for bot in bots:
            bot.assert_clean()


async def test_one_process_can_run_every_shard(tmp_path: Path) -> None:
    """``SHARD_COUNT`` alone: one process connects both shards (discord.py spaces the IDENTIFYs by
    Discord's 5 s) and answers the servers of each, on SQLite as a single process always could."""
    port = free_port()
    async with (
        FakeMiniMax(flavour="official", speed=400.0) as minimax,
        FakeDiscord(guild_names=GUILDS[:2], spread_over_shards=2) as fake,
        BotHarness(
            tmp_path, minimax=minimax, fake=fake, env=video_env(SHARD_COUNT="2", METRICS_PORT=str(port))
        ) as h,
        aiohttp.ClientSession() as http,
    ):
        assert sorted(fake.shard_identifies) == [(0, 2), (1, 2)]
        assert await ready_within(http, f"http://127.0.0.1:{port}/readyz", 20.0)
        for setup in fake.setups:
            call = await h.invoke(
                "video generate", member=setup.member, channel=setup.videos, options={"prompt": "dunes"}
            )
            outcome = await wait_answer(call)
            assert outcome.accepted and outcome.task_id is not None, outcome.text
            assert (await wait_delivered(h, outcome.task_id)).guild_id == setup.guild.id
        assert await h.stop() == 0
        h.assert_clean()
