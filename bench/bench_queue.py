"""Queue benchmark (not a test): a restart with a long queue, and card edits while it drains.

    python bench/bench_queue.py [--restart 10000] [--queued 2000] [--minutes 10] [--rpm 5]

Prints two groups of figures:

1. Restart: with ``--restart`` queued tasks (each with a posted card) in the database, the wall time
   ``VideoService.start()`` takes until the queue is refilled and every card re-rendered, the event
   loop's longest block meanwhile, and the process's peak RSS (``ru_maxrss``). Target: under 3 s and
   under 150 MB with 10,000.
2. Card edits: with ``--queued`` tasks waiting, the card edits one queue move causes (a pop at the
   front, and a newcomer's fair turn), then the edits per minute, per channel at most, over
   ``--minutes`` of draining at ``--rpm`` submits a minute (``MINIMAX_RPM``, shipped 5) with a new
   member's first request every fifth move, on a simulated clock (no waiting).

Discord is the recording notifier, the API a stub that never answers (the submitter stays busy).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from bot.config import Secret, Settings
from bot.lifecycle import StatusCard, VideoRequest, VideoService
from bot.lifecycle import cards as cards_module
from bot.lifecycle.status import CHANNEL_EDIT_BUDGET, StatusUpdater
from bot.minimax.ratelimit import SubmitRateLimiter
from bot.minimax.types import FileInfo, TaskInfo
from bot.spec import VideoSpec
from storage import Storage
from tests.fakes.recording_notifier import RecordingNotifier

T0 = 1_715_774_400.0
GUILDS = (101, 202, 303)
CHANNELS = (11, 12, 13, 14)
USERS = 300


class SilentAPI:
    """Accepts nothing: a submit waits forever, so queued tasks stay queued (bar the few taken)."""

    submit_limiter: SubmitRateLimiter | None = None

    async def submit(self, spec: VideoSpec, *, retries: int | None = None) -> str:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def query(self, task_id: str, *, retries: int | None = None) -> TaskInfo:
        raise NotImplementedError

    async def retrieve(self, file_id: str, *, retries: int | None = None) -> FileInfo:
        raise NotImplementedError

    async def download(self, url: str, dest: Path, *, max_bytes: int) -> int:
        raise NotImplementedError


def settings(directory: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "discord_token": Secret("bench"),
        "minimax_api_key": Secret("bench"),
        "download_dir": directory / "downloads",
        **overrides,
    }
    return Settings(**values)


async def seed_queued(store: Storage, count: int) -> None:
    """``count`` queued tasks with posted cards, spread over guilds, channels and members."""
    rows = [
        (GUILDS[i % len(GUILDS)], CHANNELS[i % len(CHANNELS)], 1000 + i % USERS, 700_000 + i, f"clip {i}",
         "MiniMax-Hailuo-2.3", "text", 6, "768P", 10, "queued", T0 + i)
        for i in range(count)
    ]  # fmt: skip
    async with store.db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO tasks (guild_id, channel_id, user_id, status_message_id, prompt, model, mode, "
            "duration, resolution, cost_tenths, state, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )


class LagProbe:
    """The event loop's longest block: a ticker that notes how late each of its wake-ups is."""

    def __init__(self, tick: float = 0.01) -> None:
        self.tick = tick
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(self.tick)
            self.worst = max(self.worst, time.perf_counter() - started - self.tick)

    def __enter__(self) -> LagProbe:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def bench_restart(directory: Path, count: int) -> None:
    store = await Storage.open(directory / "restart.sqlite3")
    try:
        await seed_queued(store, count)
        notifier = RecordingNotifier()
        service = VideoService(
            settings=settings(directory),
            storage=store,
            client=SilentAPI(),
            notifier=notifier,
            clock=lambda: T0,
        )
        with LagProbe() as lag:
            started = time.perf_counter()
            await service.start()
            ready = time.perf_counter() - started
            await asyncio.sleep(0.05)
        queued = len(service.deps.queue)
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"restart with {count:,} queued tasks: ready in {ready:.2f} s (target < 3 s), "
            f"event loop blocked at most {lag.worst * 1000:.0f} ms, peak RSS {rss_mb:.0f} MB "
            f"(target < 150 MB); {queued:,} in the queue, {service.deps.updater.pending():,} card "
            "edits pending"
        )
        service.deps.updater.flush_all = _no_flush  # type: ignore[method-assign]
        await service.stop()
    finally:
        await store.close()


async def _no_flush(wait_seconds: float = 10.0) -> None:
    return None


class SimClock:
    """The simulated time: unix seconds for the cards, the same figure as the updater's clock."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def request(n: int, user_id: int | None = None) -> VideoRequest:
    return VideoRequest(
        guild_id=GUILDS[n % len(GUILDS)],
        channel_id=CHANNELS[n % len(CHANNELS)],
        user_id=1000 + n % USERS if user_id is None else user_id,
        spec=VideoSpec(prompt=f"clip {n}", model="MiniMax-Hailuo-2.3"),
    )


async def bench_edits(directory: Path, count: int, minutes: int, rpm: int) -> None:
    store = await Storage.open(directory / "edits.sqlite3")
    try:
        clock = SimClock()
        notifier = RecordingNotifier()
        config = settings(directory, default_quota_tenths=10_000_000, minimax_rpm=rpm)
        service = VideoService(
            settings=config, storage=store, client=SilentAPI(), notifier=notifier, clock=clock
        )
        requested: list[StatusCard] = []

        def new_updater() -> StatusUpdater:
            """An updater on the simulated clock, not started (the simulation steps it: send_due)."""
            updater = StatusUpdater(
                notifier, interval=config.status_edit_interval, on_moved=service._card_moved, clock=clock
            )
            update = updater.update

            def counting(card: StatusCard, *, final: bool = False) -> None:
                requested.append(card)
                update(card, final=final)

            updater.update = counting  # type: ignore[method-assign]
            service.deps.updater = updater
            return updater

        new_updater()
        for n in range(count):
            await service.request(request(n))
        await service.cards.settle_queue_refresh()

        async def move(newcomer: int | None = None) -> int:
            """One queue move (a pop, or a newcomer's request): the card edits it asks for."""
            before = len(requested)
            if newcomer is None:
                service.deps.queue.pop_nowait()
            else:
                await service.request(request(newcomer, user_id=newcomer))
            service.cards.request_queue_refresh()
            await service.cards.settle_queue_refresh()
            return len(requested) - before

        # What one move cost when every waiting card showed its exact place (on an updater thrown away).
        exact = cards_module.EXACT_QUEUE_POSITIONS
        cards_module.EXACT_QUEUE_POSITIONS = 10**9
        await service.cards.refresh_queue()  # every card now shows an exact place
        storm = await move()
        cards_module.EXACT_QUEUE_POSITIONS = exact
        await service.cards.refresh_queue()
        updater = new_updater()
        notifier.edits.clear()

        per_pop: list[int] = []
        per_newcomer: list[int] = []
        pop_every = 60.0 / config.minimax_rpm
        end = clock.now + minutes * 60.0
        next_pop, step = clock.now + pop_every, 0.5
        sent: list[tuple[float, int]] = []
        while clock.now < end:
            if clock.now >= next_pop:
                per_pop.append(await move())
                next_pop += pop_every
                if len(per_pop) % 5 == 0:  # now and then a new member's first video
                    per_newcomer.append(await move(newcomer=50_000 + len(per_pop)))
            before = len(notifier.edits)
            await updater.send_due()
            sent += [(clock.now, c.task.channel_id) for c in notifier.edits[before:]]
            clock.now += step
        per_channel_minute = Counter((int((at - T0) // 60), channel) for at, channel in sent)
        worst_window = (
            max(
                sum(1 for t, c in sent if c == channel and at <= t < at + CHANNEL_EDIT_BUDGET.window)
                for at, channel in sent
            )
            if sent
            else 0
        )
        print(
            f"card edits per queue move with {count:,} queued: {storm:,} when every card showed its place; "
            f"now {max(per_pop)} at most per pop (mean {sum(per_pop) / len(per_pop):.1f}), "
            f"{max(per_newcomer, default=0)} at most per newcomer's fair turn"
        )
        print(
            f"card edits per minute over {minutes} simulated minutes (MINIMAX_RPM={config.minimax_rpm}, "
            f"{len(CHANNELS)} channels): {len(sent) / minutes:.1f} in all, at most "
            f"{max(per_channel_minute.values(), default=0)} in one channel in a minute; "
            f"at most {worst_window} in one channel in any {CHANNEL_EDIT_BUDGET.window:g} s "
            f"(budget {CHANNEL_EDIT_BUDGET.edits}); "
            f"{updater.pending()} waiting at the end"
        )
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restart", type=int, default=10_000)
    parser.add_argument("--queued", type=int, default=2_000)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--rpm", type=int, default=Settings.minimax_rpm, help="MINIMAX_RPM (the pop rate)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bench_restart(Path(tmp), args.restart))
        asyncio.run(bench_edits(Path(tmp), args.queued, args.minutes, args.rpm))


if __name__ == "__main__":
    main()
