"""Queue benchmark (not a test): a restart with a long queue.

    python bench/bench_queue.py [--restart 10000]

Restart: with ``--restart`` queued tasks (each with a posted card) in the database, the wall time
``VideoService.start()`` takes until the queue is refilled and every card re-rendered, the event
loop's longest block meanwhile, and the process's peak RSS (``ru_maxrss``). Target: under 3 s and
under 150 MB with 10,000.

Discord is the recording notifier, the API a stub that never answers (the submitter stays busy).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from bot.config import Secret, Settings
from bot.lifecycle import VideoService
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restart", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bench_restart(Path(tmp), args.restart))


if __name__ == "__main__":
    main()
