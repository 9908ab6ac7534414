"""Lifecycle benchmark against the fake MiniMax server on a fast clock.

Prints three figures:

1. Time from a /video generate command to its first response (the defer) and to the ephemeral
   confirmation (validated, reserved, card posted), median and p99 over 200 concurrent commands.
2. API requests per delivered task (submit + queries + retrieve + download); the minimum is 4 and
   the target is at most 1.5 × that.
3. Lag between the moment the API would first report success and the moment the video is posted,
   median and p95, in production seconds (the fake clock runs ``SPEED`` times faster, and every
   timing setting is divided by ``SPEED`` so the poller behaves as it would in production).

Discord is the recording notifier (no network), so figure 1 measures the bot's own work.
Run: ``.venv/bin/python bench/bench_lifecycle.py`` (``--quick`` for a smaller run; ``--model
MiniMax-H3`` measures the V2 family, whose minimum is 3: its query names the video, so no retrieve).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import aiohttp
import discord
from discord.ext import commands

from bot.config import Secret, Settings
from bot.lifecycle import ResultPost, VideoRequest, VideoService
from bot.minimax.client import MiniMaxClient
from bot.minimax.ratelimit import SubmitRateLimiter
from bot.spec import VideoSpec
from cogs import video as video_cog
from storage import Storage, TaskState
from tests.fakes.fake_minimax import FakeMiniMax, TaskPlan
from tests.fakes.interactions import make_guild, make_interaction, make_member
from tests.fakes.recording_notifier import RecordingNotifier

ENDPOINTS = ("submit", "query", "retrieve", "download")
SPEED = 100.0  # fake seconds per real second
GUILDS = (101, 202)
CHANNEL = 555


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def production_settings(base_url: str, download_dir: Path, **overrides: Any) -> Settings:
    """The production defaults, with every duration divided by SPEED and every rate multiplied."""
    values: dict[str, Any] = {
        "discord_token": Secret("bench"),
        "minimax_api_key": Secret("test-key"),
        "minimax_base_url": base_url,
        "minimax_rpm": int(20 * SPEED),  # a paid account: 20 submits per minute
        "default_quota_tenths": 1_000_000,
        "poll_first_delay": 30.0 / SPEED,
        "poll_min_interval": 5.0 / SPEED,
        "poll_max_interval": 60.0 / SPEED,
        "poll_share_of_rate": 0.5,
        "minimax_query_rpm": int(120 * SPEED),
        "task_timeout": 20 * 60.0 / SPEED,
        "status_edit_interval": 5.0 / SPEED,
        "download_dir": download_dir,
    }
    values.update(overrides)
    return Settings(**values)


class TimedNotifier(RecordingNotifier):
    """Records the fake API clock at each result post, to measure success → posted lag."""

    def __init__(self, fake: FakeMiniMax) -> None:
        super().__init__()
        self.fake = fake
        self.posted_at: dict[int, float] = {}
        self.done = asyncio.Event()
        self.expected = 0

    async def post_result(self, result: ResultPost) -> int | None:
        self.posted_at[result.task.id] = self.fake.clock.now()
        message_id = await super().post_result(result)
        if len(self.posted_at) >= self.expected:
            self.done.set()
        return message_id


async def _service(
    fake: FakeMiniMax, session: aiohttp.ClientSession, storage: Storage, notifier: Any, settings: Settings
) -> VideoService:
    client = MiniMaxClient(
        session,
        fake.api_key,
        fake.base_url,
        timeout=10.0,
        backoff_base=0.5 / SPEED,
        backoff_max=20 / SPEED,
        submit_limiter=SubmitRateLimiter(settings.minimax_rpm),
    )
    service = VideoService(settings=settings, storage=storage, client=client, notifier=notifier, http=session)
    await service.start()
    return service


async def bench_first_response(workdir: Path, commands_count: int) -> dict[str, float]:
    async with (
        FakeMiniMax(plan=TaskPlan(5, 10, 45), speed=SPEED) as fake,
        aiohttp.ClientSession() as session,
    ):
        storage = await Storage.open(workdir / "first.sqlite3")
        settings = production_settings(fake.base_url, workdir / "dl1")
        service = await _service(fake, session, storage, RecordingNotifier(), settings)
        bot = commands.Bot(command_prefix="!", intents=discord.Intents.default())
        bot.service = service  # type: ignore[attr-defined]
        await video_cog.setup(bot)
        cog = bot.get_cog("VideoCog")
        assert isinstance(cog, video_cog.VideoCog)

        first: list[float] = []
        confirmed: list[float] = []

        async def one(n: int) -> None:
            guild = make_guild(GUILDS[n % 2])
            member = make_member(guild, 10_000 + n % 50)
            interaction = make_interaction(bot, user=member, guild=guild, channel_id=CHANNEL)
            answered = asyncio.Event()
            defer = interaction.response.defer

            async def timed_defer(**kwargs: Any) -> None:
                await defer(**kwargs)
                answered.set()

            interaction.response.defer = timed_defer  # type: ignore[method-assign]
            start = time.perf_counter()
            task = asyncio.create_task(
                cog.generate.callback(cog, interaction, prompt=f"bench clip {n}")  # type: ignore[arg-type]
            )
            await answered.wait()
            first.append(time.perf_counter() - start)
            await task
            confirmed.append(time.perf_counter() - start)
            assert "is on its way" in (interaction.last.content or ""), interaction.last.content

        await asyncio.gather(*(one(n) for n in range(commands_count)))
        await service.stop()
        await bot.close()
        await storage.close()
    return {
        "first_median_ms": statistics.median(first) * 1000,
        "first_p99_ms": percentile(first, 99) * 1000,
        "confirm_median_ms": statistics.median(confirmed) * 1000,
        "confirm_p99_ms": percentile(confirmed, 99) * 1000,
    }


async def _run_batch(
    service: VideoService,
    storage: Storage,
    notifier: TimedNotifier,
    count: int,
    offset: int,
    model: str | None = None,
) -> float:
    """Request ``count`` videos and wait until every one is delivered; returns the real seconds taken."""
    notifier.expected += count
    notifier.done.clear()
    started = time.perf_counter()
    for n in range(offset, offset + count):
        spec = VideoSpec(f"clip {n}", model=model)
        request = VideoRequest(guild_id=GUILDS[n % 2], channel_id=CHANNEL, user_id=20_000 + n % 12, spec=spec)
        await service.request(request)
    await asyncio.wait_for(notifier.done.wait(), timeout=600)
    # Posted is not yet recorded: wait (with a deadline) until every task is marked delivered.
    deadline = time.perf_counter() + 30
    while await storage.tasks.unfinished():
        if time.perf_counter() > deadline:
            raise RuntimeError("tasks still unfinished after the last post")
        await asyncio.sleep(0.01)
    return time.perf_counter() - started


async def bench_delivery(
    workdir: Path, warmup: int, tasks_count: int, seed: int = 7, model: str | None = None
) -> dict[str, Any]:
    """A cold start (nothing learned yet), then ``tasks_count`` more once generation times are known."""
    rng = random.Random(seed)
    async with (
        FakeMiniMax(plan=TaskPlan(5, 10, 45), speed=SPEED) as fake,
        aiohttp.ClientSession() as session,
    ):
        for _ in range(warmup + tasks_count):
            # Spread like real generations: some queueing, then 30-90 s of rendering.
            fake.next_task(preparing=5, queueing=rng.uniform(5, 20), processing=rng.uniform(30, 90))
        storage = await Storage.open(workdir / "delivery.sqlite3")
        notifier = TimedNotifier(fake)
        settings = production_settings(fake.base_url, workdir / "dl2")
        service = await _service(fake, session, storage, notifier, settings)
        phases: dict[str, Any] = {}
        for name, count, offset in (("cold", warmup, 0), ("warm", tasks_count, warmup)):
            before = dict(fake.counts)
            posted_before = set(notifier.posted_at)
            wall = await _run_batch(service, storage, notifier, count, offset, model)
            counts = {
                e: fake.counts[e] - before.get(e, 0) for e in ("submit", "query", "retrieve", "download")
            }
            lags = []
            for task_id in set(notifier.posted_at) - posted_before:
                task = await storage.tasks.get(task_id)
                assert task.state is TaskState.DELIVERED
                fake_task = fake.tasks[task.api_task_id or ""]
                lags.append(notifier.posted_at[task_id] - (fake_task.created_at + fake_task.plan.total))
            phases[name] = {
                "delivered": len(lags),
                **counts,
                "per_task": sum(counts.values()) / max(1, len(lags)),
                "lag_median_s": statistics.median(lags),
                "lag_p95_s": percentile(lags, 95),
                "wall_s": wall,
            }
        await service.stop()
        await storage.close()
    return phases


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_lifecycle")
    parser.add_argument("--quick", action="store_true", help="fewer commands and tasks")
    parser.add_argument("--model", default=None, help="the model of the delivered tasks (default: auto)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    commands_count, warmup, tasks_count = (50, 10, 20) if args.quick else (200, 20, 100)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        first = await bench_first_response(workdir, commands_count)
        phases = await bench_delivery(workdir, warmup, tasks_count, model=args.model)
    print(f"Lifecycle benchmark (fake MiniMax, clock x{SPEED:g}, Discord = in-memory recorder)")
    print(f"1. {commands_count} concurrent /video generate commands:")
    print(
        f"   first response (defer):  median {first['first_median_ms']:.2f} ms, "
        f"p99 {first['first_p99_ms']:.2f} ms"
    )
    print(
        f"   confirmation (validated, reserved, card posted): median {first['confirm_median_ms']:.1f} ms, "
        f"p99 {first['confirm_p99_ms']:.1f} ms"
    )
    print(
        "2. API requests per delivered task (minimum 4 = submit + query + retrieve + download; target <= 6):"
    )
    for name, label in (("cold", "cold start, nothing learned"), ("warm", "generation times learned")):
        p = phases[name]
        verdict = "OK" if p["per_task"] <= 6 else "OVER"
        print(
            f"   {label:<28} {p['delivered']:>3} tasks: {p['per_task']:.2f} per task -> {verdict} "
            f"(submit {p['submit']}, query {p['query']}, retrieve {p['retrieve']}, download {p['download']})"
        )
    print("3. API success -> video posted, in production seconds:")
    for name in ("cold", "warm"):
        p = phases[name]
        print(f"   {name}: median {p['lag_median_s']:.1f} s, p95 {p['lag_p95_s']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
