"""Lifecycle benchmark against the fake MiniMax server on a fast clock.

Prints issue 15's three targets in one run:

1. First answer under a burst of 100 commands from 20 members: from the burst's arrival to each
   /video generate's first response (the defer, timed where it is sent), p99, next to that of a
   bare callback that only defers, on the same machine in the same run (target: at most 1.5 × the
   bare one; the median of five alternated bursts of each). Also the confirmation (validated,
   reserved, card posted).
2. API requests per delivered task (submit + queries + retrieve; the download is the CDN's and
   printed apart). The minimum is 3 on V1 (submit, one query that sees success, retrieve) and 2 on V2
   (its query names the video); targets ≤ 4.5 and ≤ 3 on a fresh database.
3. Lag between the moment the API would first report success and the moment the video is posted,
   median and p95, in production seconds (target: median ≤ 2 s plus the transfer, p95 ≤ 5 s).

2 and 3 run on a fresh database (nothing learned: the catalog's prior decides) and then warmed, for a
V1 model (MiniMax-Hailuo-2.3) and a V2 one (MiniMax-H3). Each task's generation time is the
catalog's typical value for it × a uniform ±30 %. The fake clock runs ``SPEED`` times faster; every
timing setting (and the prior) is divided by ``SPEED`` so the poller behaves as in production. A
millisecond of real work (an HTTP round trip, a busy event loop) counts ``SPEED`` ms in the lag
figures, so they include the bot's fixed overheads ×``SPEED``: ``--speed 20`` reads them closer to
what production would see, at five times the run time.

Discord is the recording notifier (no network), so figure 1 measures the bot's own work.
Run: ``.venv/bin/python bench/bench_lifecycle.py`` (``--quick`` for a smaller run; ``--model NAME``
for one model only).
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

from bot.catalog import DEFAULT_DURATION, MODELS, generation_prior
from bot.config import Secret, Settings
from bot.lifecycle import ResultPost, VideoRequest, VideoService
from bot.lifecycle.deps import Expectations
from bot.minimax.callbacks import CallbackSwitch
from bot.minimax.client import MiniMaxClient
from bot.minimax.ratelimit import SubmitRateLimiter
from bot.spec import Mode, VideoSpec
from cogs import video as video_cog
from storage import Storage, TaskState
from tests.fakes.fake_minimax import FakeMiniMax, TaskPlan
from tests.fakes.interactions import make_guild, make_interaction, make_member
from tests.fakes.recording_notifier import RecordingNotifier

ENDPOINTS = ("submit", "query", "retrieve", "download")
API_ENDPOINTS = ("submit", "query", "retrieve")  # the download is the CDN's, not the API's
SPEED = 100.0  # fake seconds per real second
GUILDS = (101, 202)
ROUNDS = 5  # bursts of each kind in the first-answer figure
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
    switch = CallbackSwitch(settings.callback_url) if settings.callback_url else None
    client = MiniMaxClient(
        session,
        fake.api_key,
        fake.base_url,
        timeout=10.0,
        backoff_base=0.5 / SPEED,
        backoff_max=20 / SPEED,
        submit_limiter=SubmitRateLimiter(settings.minimax_rpm),
        callback=switch,
    )
    service = VideoService(
        settings=settings, storage=storage, client=client, notifier=notifier, http=session, callbacks=switch
    )
    # The catalog's prior is in production seconds; the bot's clock here runs SPEED times slower.
    service.deps.expectations = Expectations(storage, first_delay=settings.poll_first_delay, scale=1 / SPEED)
    await service.start()
    if service.push_port is not None:  # the fake calls 127.0.0.1 in place of the public URL
        fake.callback_target = f"http://127.0.0.1:{service.push_port}/push"
    return service


async def bench_first_response(workdir: Path, commands_count: int, members: int) -> dict[str, float]:
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

        async def burst(handler: Any) -> tuple[list[float], list[float]]:
            first: list[float] = []
            confirmed: list[float] = []

            async def one(n: int) -> None:
                guild = make_guild(GUILDS[n % 2])
                member = make_member(guild, 10_000 + n % members)
                interaction = make_interaction(bot, user=member, guild=guild, channel_id=CHANNEL)
                defer = interaction.response.defer

                async def timed_defer(**kwargs: Any) -> None:
                    await defer(**kwargs)
                    # From the burst's arrival to where this answer is sent (not to when this
                    # coroutine next gets the loop, which would count other commands' work).
                    first.append(time.perf_counter() - arrived)

                interaction.response.defer = timed_defer  # type: ignore[method-assign]
                await handler(interaction, n)
                confirmed.append(time.perf_counter() - arrived)

            arrived = time.perf_counter()  # every command of the burst arrives at once
            await asyncio.gather(*(one(n) for n in range(commands_count)))
            return first, confirmed

        async def generate(interaction: Any, n: int) -> None:
            await cog.generate.callback(cog, interaction, prompt=f"bench clip {n}")  # type: ignore[arg-type]
            assert "is on its way" in (interaction.last.content or ""), interaction.last.content

        async def bare(interaction: Any, n: int) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)

        await burst(bare)  # warm-up: the first burst pays one-time costs (imports, caches)
        # Alternated, five of each: one burst's p99 is nearly its maximum, which one pause of this
        # shared machine sets; the median of five p99s is the figure.
        bare_p99s, p99s = [], []
        for _ in range(ROUNDS):
            bare_first, _ = await burst(bare)
            first, confirmed = await burst(generate)
            bare_p99s.append(percentile(bare_first, 99))
            p99s.append(percentile(first, 99))
        await service.stop()
        await bot.close()
        await storage.close()
    return {
        "bare_p99_ms": statistics.median(bare_p99s) * 1000,
        "bare_median_ms": statistics.median(bare_first) * 1000,
        "first_median_ms": statistics.median(first) * 1000,
        "first_p99_ms": statistics.median(p99s) * 1000,
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
        spec = VideoSpec(f"clip {n}", model=model, resolution="768P", duration=DEFAULT_DURATION)
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
    workdir: Path,
    warmup: int,
    tasks_count: int,
    seed: int = 7,
    model: str | None = None,
    pushes: bool = False,
) -> dict[str, Any]:
    """A cold start (nothing learned yet), then ``tasks_count`` more once generation times are known."""
    rng = random.Random(seed)
    async with (
        FakeMiniMax(plan=TaskPlan(5, 10, 45), speed=SPEED) as fake,
        aiohttp.ClientSession() as session,
    ):
        name = model or "MiniMax-Hailuo-2.3"
        typical = generation_prior(name, Mode.TEXT, "768P", DEFAULT_DURATION).median
        for _ in range(warmup + tasks_count):
            # The catalog's typical time ± 30 %: a tenth preparing, a fifth queued, the rest rendering.
            total = typical * rng.uniform(0.7, 1.3)
            fake.next_task(preparing=0.1 * total, queueing=0.2 * total, processing=0.7 * total)
        storage = await Storage.open(workdir / "delivery.sqlite3")
        notifier = TimedNotifier(fake)
        push_settings = {"callback_url": "https://bench.invalid/push", "callback_port": 0} if pushes else {}
        settings = production_settings(fake.base_url, workdir / "dl2", **push_settings)
        service = await _service(fake, session, storage, notifier, settings)
        phases: dict[str, Any] = {}
        for name, count, offset in (("cold", warmup, 0), ("warm", tasks_count, warmup)):
            if count == 0:
                continue
            before = dict(fake.counts)
            posted_before = set(notifier.posted_at)
            wall = await _run_batch(service, storage, notifier, count, offset, model)
            counts = {e: fake.counts[e] - before.get(e, 0) for e in ENDPOINTS}
            lags = []
            for task_id in set(notifier.posted_at) - posted_before:
                task = await storage.tasks.get(task_id)
                assert task.state is TaskState.DELIVERED
                fake_task = fake.tasks[task.api_task_id or ""]
                lags.append(notifier.posted_at[task_id] - (fake_task.created_at + fake_task.plan.total))
            phases[name] = {
                "delivered": len(lags),
                **counts,
                "per_task": sum(counts[e] for e in API_ENDPOINTS) / max(1, len(lags)),
                "lag_median_s": statistics.median(lags),
                "lag_p95_s": percentile(lags, 95),
                "wall_s": wall,
            }
        await service.stop()
        await storage.close()
    return phases


def _report_delivery(model: str, phases: dict[str, Any]) -> None:
    v2 = MODELS[model].family.value == "v2"
    minimum, target = (2, 3.0) if v2 else (3, 4.5)
    print(f"   {model} ({'V2' if v2 else 'V1'}: minimum {minimum}, target <= {target:g} fresh):")
    for name, label in (("cold", "fresh database"), ("warm", "warmed database"), ("pushes", "pushes, fresh")):
        p = phases[name]
        verdict = "" if name != "cold" else (" OK" if p["per_task"] <= target else " OVER")
        print(
            f"     {label:<16} {p['delivered']:>3} tasks: {p['per_task']:.2f} requests per task{verdict} "
            f"(submit {p['submit']}, query {p['query']}, retrieve {p['retrieve']}; "
            f"downloads {p['download']}); success -> posted median {p['lag_median_s']:.1f} s, "
            f"p95 {p['lag_p95_s']:.1f} s"
        )


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_lifecycle")
    parser.add_argument("--quick", action="store_true", help="fewer tasks")
    parser.add_argument("--model", default=None, help="one model only (default: Hailuo-2.3 and H3)")
    parser.add_argument("--speed", type=float, default=100.0, help="fake seconds per real second")
    args = parser.parse_args(argv)
    global SPEED
    SPEED = args.speed
    logging.basicConfig(level=logging.ERROR)
    commands_count, members = 100, 20
    warmup, tasks_count = (10, 20) if args.quick else (20, 60)
    models = [args.model] if args.model else ["MiniMax-Hailuo-2.3", "MiniMax-H3"]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        first = await bench_first_response(workdir, commands_count, members)
        results = {}
        for model in models:
            (workdir / model).mkdir()
            results[model] = await bench_delivery(workdir / model, warmup, tasks_count, model=model)
            (workdir / f"{model}-push").mkdir()
            pushed = await bench_delivery(workdir / f"{model}-push", warmup, 0, model=model, pushes=True)
            results[model]["pushes"] = pushed["cold"]
    print(f"Lifecycle benchmark (fake MiniMax, clock x{SPEED:g}, Discord = in-memory recorder)")
    ratio = first["first_p99_ms"] / first["bare_p99_ms"]
    print(
        f"1. first answer, burst of {commands_count} commands from {members} members "
        f"(p99: median over {ROUNDS} bursts of each):"
    )
    print(
        f"   /video generate defer: median {first['first_median_ms']:.2f} ms, "
        f"p99 {first['first_p99_ms']:.2f} ms;"
        f" bare defer: median {first['bare_median_ms']:.2f} ms, p99 {first['bare_p99_ms']:.2f} ms"
        f" -> {ratio:.2f} x ({'OK' if ratio <= 1.5 else 'OVER'}, target <= 1.5 x)"
    )
    print(
        f"   confirmation (validated, reserved, card posted): median {first['confirm_median_ms']:.1f} ms, "
        f"p99 {first['confirm_p99_ms']:.1f} ms"
    )
    print("2./3. API requests per delivered task; API success -> video posted (production seconds):")
    for model, phases in results.items():
        _report_delivery(model, phases)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
