"""Three bot processes, one shard each, on one PostgreSQL database; one is SIGKILLed mid-flight (#14).

Sixty ``/video generate`` across six servers (two on each shard) reach the process holding their
shard. The three share one queue, one account and one submission window: the account's
``MINIMAX_RPM`` binds (twelve submits per API minute, the minute shortened to three seconds through
the launcher's ``--api-minute``), so the submits take five windows. One process (the one holding
the most tasks) is SIGKILLed and started again; its leases run out after ``LEASE_SECONDS`` and the
processes (the restarted one among them) take its tasks over. Then every task is delivered, each
video posted once, each submit sent once, the ledger charged exactly the delivered cost, and no
window of the account's minute saw more than ``MINIMAX_RPM`` submits.

Two kill moments:

- once every task was sent: the kill lands only on videos being made, polled, downloaded or posted;
- while the submits still go out (H3 videos, on the V2 API), just after a submit filled the window:
  the dead process's queued tasks go back to the shared queue, the restarted process submits with
  its own limiter forgotten, and a submit whose answer the kill lost (``unknown``) is found in the V2
  task list and tracked, never sent again.

Why those moments: a process killed between "submitting" saved and its request reaching the API
leaves a task the API never saw; by design nobody may resend it (it could bill twice), so it waits
for a moderator (V1) or for the V2 list to have had minutes to show it. Neither moment can fall in
that step: after the last submit nobody sends, and while the window is full nobody may.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import asyncpg
import pytest

from tests.e2e.harness import BotHarness
from tests.e2e.test_metrics import free_port, ready_within
from tests.e2e.video_flow import results_by_task, video_env, wait_answer
from tests.fakes.fake_discord import FakeDiscord
from tests.fakes.fake_discord.rules import shard_of
from tests.fakes.fake_minimax import FakeClock, FakeMiniMax, TaskPlan

pytestmark = pytest.mark.e2e

T = TypeVar("T")

SHARDS = 3
GUILDS = ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot")  # guild i is on shard i % 3
REQUESTS = 60
API_MINUTE = 3.0  # seconds: the API's rate-limit window, shortened
RPM = 12  # submits per API minute for the whole account: 60 submits need five windows
LEASE = 3.0
# A task is made in about 4 s after its submit: the last ones are still being made at the kill.
PLAN = TaskPlan(preparing=0.5, queueing=0.5, processing=3.0)
# Submits reach the fake a little after their slot was taken: milliseconds, but more than half a
# second once in CI, when a restarting process and two others shared two cores (13 arrivals within
# 2.497 s). A window this much shorter still catches processes spending one allowance each (three
# unshared limiters would send 36 in a window, not 13).
ARRIVAL_SLACK = 1.0
_PROMPT_MARK = re.compile(r"request #(\d+) ")
_UNKNOWN_LINE = "submit outcome unknown (the bot stopped while submitting)"
_UNKNOWN_BY_KILL = re.compile(r"Task (\d+): " + re.escape(_UNKNOWN_LINE))
_RECONCILED_ONE = re.compile(r"Task (\d+) reconciled from the V2 list: ONE")
_SENT = ("submitted", "processing", "downloading", "delivering", "delivered")


def shard_bot(
    root: Path, shard: int, *, fake: FakeDiscord, minimax: FakeMiniMax, url: str, port: int
) -> BotHarness:
    env = video_env(
        DATABASE_URL=url,
        SHARD_COUNT=str(SHARDS),
        SHARD_IDS=str(shard),
        METRICS_PORT=str(port),
        MINIMAX_RPM=str(RPM),
        LEASE_SECONDS=f"{LEASE:g}",
        MAX_QUEUED_PER_MEMBER="100",
        DEFAULT_QUOTA_CREDITS="10000",
    )
    return BotHarness(
        root / f"shard-{shard}",
        minimax=minimax,
        fake=fake,
        env=env,
        expect_commands=("video",),
        start_timeout=60.0,
        launcher_args=("--api-minute", f"{API_MINUTE:g}"),
    )


@contextlib.asynccontextmanager
async def three_shard_bots(
    root: Path, url: str, minimax: FakeMiniMax, fake: FakeDiscord
) -> AsyncIterator[list[BotHarness]]:
    """One process per shard, started together on an empty database, all ready; always stopped."""
    ports = [free_port() for _ in range(SHARDS)]
    bots = [shard_bot(root, s, fake=fake, minimax=minimax, url=url, port=ports[s]) for s in range(SHARDS)]
    async with contextlib.AsyncExitStack() as stack:
        for bot in bots:
            stack.push_async_callback(bot.stop)
        await asyncio.gather(*(bot.start() for bot in bots))
        http = await stack.enter_async_context(aiohttp.ClientSession())
        for port in ports:
            assert await ready_within(http, f"http://127.0.0.1:{port}/readyz", 30.0)
        assert sorted(fake.shard_identifies) == [(s, SHARDS) for s in range(SHARDS)]
        yield bots


async def poll(
    read: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    bots: list[BotHarness],
    what: str,
    within: float,
) -> T:
    """Read again every 0.1 s until ``done`` (the database has no event to wait on); fails at once
    when a bot died, and with the last reading at the deadline."""
    deadline = time.monotonic() + within
    while True:
        for bot in bots:
            bot.check_alive()
        value = await read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {b.tmp_path.name}\n{b.log_tail(15)}" for b in bots)
            raise AssertionError(f"timed out after {within:g}s waiting for {what}: {value}\n{tails}")
        await asyncio.sleep(0.1)


def prompt_number(body: Any) -> int:
    """The request a submit carries, from the number written into its prompt."""
    match = _PROMPT_MARK.search(json.dumps(body))
    assert match is not None, body
    return int(match.group(1))


async def sixty_videos_and_a_kill(tmp_path: Path, pg_url: str, *, mid_submits: bool) -> None:
    """The scenario (see the module docstring). ``mid_submits``: H3 videos, and the kill comes
    while the submits are still going on, once a window has just filled up."""
    options = {"model": "MiniMax-H3", "duration": 4} if mid_submits else {}
    async with (
        FakeMiniMax(flavour="official", plan=PLAN, clock=FakeClock(time.time()), speed=1.0) as minimax,
        FakeDiscord(guild_names=GUILDS, spread_over_shards=SHARDS) as fake,
        three_shard_bots(tmp_path, pg_url, minimax, fake) as bots,
    ):
        db = await asyncpg.connect(pg_url)
        try:
            owner = {setup.guild.id: bots[shard_of(setup.guild.id, SHARDS)] for setup in fake.setups}
            assert Counter(shard_of(g, SHARDS) for g in owner) == {0: 2, 1: 2, 2: 2}

            # Sixty requests, one round of six (one per server, two per process) at a time.
            tasks: dict[int, int] = {}  # task → request number
            for first in range(0, REQUESTS, len(fake.setups)):
                calls = [
                    (
                        number,
                        await owner[setup.guild.id].invoke(
                            "video generate",
                            member=setup.member,
                            channel=setup.videos,
                            options={
                                "prompt": f"request #{number} a lighthouse over {setup.guild.name}",
                                **options,
                            },
                        ),
                    )
                    for number, setup in enumerate(fake.setups, start=first)
                ]
                for number, call in calls:
                    outcome = await wait_answer(call, timeout=30.0)
                    assert outcome.accepted and outcome.task_id is not None, outcome.text
                    tasks[outcome.task_id] = number
            assert len(tasks) == REQUESTS

            async def states() -> list[asyncpg.Record]:
                return await db.fetch("SELECT id, state, lease_owner FROM tasks")

            def held(bot: BotHarness, rows: list[asyncpg.Record]) -> set[int]:
                mark = f":{bot.pid}:"
                return {
                    r["id"]
                    for r in rows
                    if r["state"] != "delivered" and r["lease_owner"] and mark in r["lease_owner"]
                }

            if mid_submits:
                # The moment a submit filled the account's window, with a second or more before
                # it slides: nobody may take a slot then, so no process is between "submitting"
                # saved and its request reaching the API (a task killed there was never made, and
                # is refunded only after the V2 list had minutes to show it). One killed waiting
                # for its answer is found in that list.
                while True:
                    sent = minimax.counts["submit"]
                    assert sent < REQUESTS - RPM, f"{sent} of {REQUESTS} sent: too few left to cut into"
                    await minimax.wait_for_count("submit", sent + 1, within=60.0)
                    arrived = sorted(r.at for r in minimax.requests if r.endpoint == "submit")
                    if len(arrived) >= RPM and arrived[-1] - arrived[-RPM] < API_MINUTE - 1.0:
                        break
                rows = await states()
                victim = max(bots, key=lambda b: len(held(b, rows)))
            else:
                # Every task sent (none queued or being sent: a kill now cannot strand an
                # "unknown"), and the process to kill holds some still being made.
                def all_sent(rows: list[asyncpg.Record]) -> bool:
                    return (
                        minimax.counts["submit"] >= REQUESTS
                        and len(rows) == REQUESTS
                        and all(r["state"] in _SENT for r in rows)
                    )

                rows = await poll(states, all_sent, bots, "every task to be sent", 90.0)
                victim = max(bots, key=lambda b: len(held(b, rows)))
                assert held(victim, rows), f"nobody holds a video in the making: {[dict(r) for r in rows]}"
            await victim.kill()
            orphaned = {
                r["id"]: r["state"]
                for r in await db.fetch(
                    "SELECT id, state FROM tasks WHERE state <> 'delivered' AND lease_owner LIKE $1",
                    f"%:{victim.pid}:%",
                )
            }
            assert orphaned, "the killed process held nothing by then: the test shows no take-over"
            await victim.start()

            def all_delivered(rows: list[asyncpg.Record]) -> bool:
                return all(r["state"] == "delivered" for r in rows)

            await poll(states, all_delivered, bots, "every task to be delivered", 90.0)
            await fake.wait_until(
                lambda: set(results_by_task(bots[0])) >= set(tasks), 30.0, "every result in Discord"
            )
            assert [await bot.stop() for bot in bots] == [0] * SHARDS

            rows = await db.fetch("SELECT id, state, cost_tenths FROM tasks")
            ledger = await db.fetch(
                "SELECT task_id, kind, COUNT(*) AS entries, SUM(tenths) AS tenths FROM ledger"
                " WHERE task_id IS NOT NULL GROUP BY task_id, kind"
            )
        finally:
            await db.close()

        assert {r["id"]: r["state"] for r in rows} == dict.fromkeys(tasks, "delivered")
        # Taken over once its leases ran out: by a survivor, or by the restarted process (at its
        # start, when they had run out by then, or later).
        restarted = victim.log_text().split(f"===== harness: launch {victim.launches} =====")[-1]
        logs = "\n".join(bot.log_text() for bot in bots)
        taken = "Took over" in logs
        assert taken or "Resumed unfinished tasks" in restarted, "the killed process's tasks never moved"

        # Each video posted once, in Discord.
        assert results_by_task(bots[0]) == dict.fromkeys(tasks, 1), "each video posted exactly once"

        # Each submit sent once: every request's prompt reached the API exactly once.
        sent = Counter(prompt_number(body) for body in minimax.submissions)
        assert sent == dict.fromkeys(tasks.values(), 1), "a request submitted twice (or never)"
        assert minimax.counts["submit"] == REQUESTS

        # Charged exactly the delivered cost: one charge per task, no refund.
        charges = {r["task_id"]: (r["entries"], r["tenths"]) for r in ledger if r["kind"] == "charge"}
        assert charges == {r["id"]: (1, r["cost_tenths"]) for r in rows}
        assert not [r for r in ledger if r["kind"] == "refund"]
        assert sum(t for _, t in charges.values()) == sum(r["cost_tenths"] for r in rows)

        # The account's rate, for the three processes together: never more than RPM submits in any
        # API minute, by when they reached the API.
        stamps = sorted(r.at for r in minimax.requests if r.endpoint == "submit")
        crowded = [
            (stamps[i], stamps[i + RPM])
            for i in range(len(stamps) - RPM)
            if stamps[i + RPM] - stamps[i] < API_MINUTE - ARRIVAL_SLACK
        ]
        assert not crowded, f"more than {RPM} submits within {API_MINUTE - ARRIVAL_SLACK} s: {crowded[:3]}"

        # A submit whose answer the kill lost: marked unknown, then found in the V2 list (ONE).
        unknown = set(_UNKNOWN_BY_KILL.findall(logs))
        assert unknown <= set(_RECONCILED_ONE.findall(logs)), "an unknown task was not found in the list"
        assert mid_submits or not unknown, "a kill after the last submit cannot leave an unknown"
        for bot in bots:
            bot.assert_clean(allow_log=(_UNKNOWN_LINE,))


async def test_three_processes_share_sixty_videos_and_survive_a_kill(tmp_path: Path, pg_url: str) -> None:
    """Killed once every task was sent: the videos being made are taken over."""
    await sixty_videos_and_a_kill(tmp_path, pg_url, mid_submits=False)


async def test_a_kill_between_submits_sends_nothing_twice_and_keeps_the_rate(
    tmp_path: Path, pg_url: str
) -> None:
    """Killed while submits still go out (H3 videos): the rest of the queue is sent by the others
    and the restarted process, which forgot its own window; a submit whose answer the kill lost is
    found in the V2 task list, never sent again."""
    await sixty_videos_and_a_kill(tmp_path, pg_url, mid_submits=True)
