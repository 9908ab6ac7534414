"""The stats chart is a real PNG of the promised size, for a busy period, a quiet one and many models."""

from __future__ import annotations

import struct
import time

from bot.charts import HEIGHT_PX, WIDTH_PX, ChartLimits, render_stats_chart
from storage.models import DailyModelCount, GuildStats

T = 1_710_460_800.0  # 2024-03-15 00:00 UTC
DAY = 86_400.0


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk, which must come first."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def stats(*daily: DailyModelCount, since: float = T - 7 * DAY) -> GuildStats:
    return GuildStats(
        since=since,
        until=T,
        requested=sum(d.requested for d in daily),
        delivered=sum(d.delivered for d in daily),
        failed=1,
        cancelled=0,
        in_progress=0,
        success_rate=0.75 if daily else None,
        credits_charged_tenths=sum(d.credits_tenths for d in daily),
        daily=daily,
    )


def test_a_busy_week_is_a_real_png_of_sensible_size() -> None:
    report = stats(
        DailyModelCount("2024-03-13", "MiniMax-Hailuo-2.3", 3, 2, 20),
        DailyModelCount("2024-03-14", "MiniMax-Hailuo-02", 1, 1, 18),
        DailyModelCount("2024-03-14", "MiniMax-Hailuo-2.3", 4, 3, 30),
    )
    started = time.perf_counter()
    png = render_stats_chart(report, ChartLimits(cap_tenths=50, cap_period="day", ceiling_tenths=400))
    print(f"chart render: {(time.perf_counter() - started) * 1000:.0f} ms, {len(png)} bytes")
    assert png_size(png) == (WIDTH_PX, HEIGHT_PX)
    assert 10_000 < len(png) < 1_000_000
    assert png.endswith(b"IEND\xaeB`\x82")


def test_a_quiet_period_and_many_models_still_render() -> None:
    assert png_size(render_stats_chart(stats(since=T - DAY))) == (WIDTH_PX, HEIGHT_PX)
    crowded = stats(*(DailyModelCount("2024-03-14", f"model-{i}", i + 1, i, 10) for i in range(15)))
    assert png_size(render_stats_chart(crowded)) == (WIDTH_PX, HEIGHT_PX)
    month = stats(DailyModelCount("2024-02-20", "MiniMax-Hailuo-2.3", 2, 2, 20), since=T - 30 * DAY)
    assert png_size(render_stats_chart(month)) == (WIDTH_PX, HEIGHT_PX)
