"""How long the `/videoadmin stats` chart takes to render (it runs in a worker thread; figures only).

.venv/bin/python bench/bench_chart.py [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from bot.charts import ChartLimits, render_stats_chart
from storage.models import DailyModelCount, GuildStats

MODELS = ("MiniMax-Hailuo-2.3", "MiniMax-Hailuo-02", "MiniMax-H3", "T2V-01")


def month_of_stats() -> GuildStats:
    until = datetime(2024, 3, 31, tzinfo=UTC)
    days = [(until - timedelta(days=i + 1)).date().isoformat() for i in range(30)]
    daily = tuple(
        DailyModelCount(day, model, 5 + (i * 7 + j) % 11, 4 + (i + j) % 6, 40 + (i * 3 + j) % 50)
        for i, day in enumerate(days)
        for j, model in enumerate(MODELS)
    )
    return GuildStats(
        since=(until - timedelta(days=30)).timestamp(),
        until=until.timestamp(),
        requested=sum(d.requested for d in daily),
        delivered=sum(d.delivered for d in daily),
        failed=40,
        cancelled=3,
        in_progress=2,
        success_rate=0.8,
        credits_charged_tenths=sum(d.credits_tenths for d in daily),
        daily=daily,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    report = month_of_stats()
    render_stats_chart(report)  # the first one loads fonts
    times = []
    size = 0
    for _ in range(args.runs):
        started = time.perf_counter()
        size = len(render_stats_chart(report, ChartLimits(cap_tenths=2000, cap_period="month")))
        times.append(time.perf_counter() - started)
    print(
        f"30 days × {len(MODELS)} models: median {statistics.median(times) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms over {args.runs} renders; PNG {size / 1024:.0f} KiB"
    )


if __name__ == "__main__":
    main()
