"""The `/videoadmin stats` chart: a PNG moderators can read at a glance.

Two panels over the period, one column per UTC day: videos requested per model (stacked bars, with
each day's success rate on a second axis), and credits spent per day against the server's cap (and
the bot-wide ceiling, when one is given). Rendered with matplotlib's Agg backend through the
object API (no ``pyplot``: no global state, safe in a worker thread), so the caller runs
:func:`render_stats_chart` off the event loop (``asyncio.to_thread``). Pure: plain numbers in, PNG
bytes out, nothing from Discord or storage beyond the plain ``GuildStats`` record.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from storage.models import GuildStats

WIDTH_PX, HEIGHT_PX, DPI = 1200, 800, 100
MAX_MODELS_SHOWN = 8  # more than this are summed as "other models": a legend of 15 reads as noise


@dataclass(frozen=True)
class ChartLimits:
    """The lines credits are drawn against (tenths per the guild's quota period), when set."""

    cap_tenths: int | None = None
    cap_period: str = "day"
    ceiling_tenths: int | None = None  # the bot-wide ceiling, for every server together
    ceiling_period: str = "day"


def _days(since: float, until: float) -> list[str]:
    first = datetime.fromtimestamp(since, UTC).date()
    last = datetime.fromtimestamp(max(since, until - 1e-6), UTC).date()
    count = (last - first).days + 1
    return [(first + timedelta(days=i)).isoformat() for i in range(count)]


def _short(day: str) -> str:
    return date.fromisoformat(day).strftime("%b %d")


def render_stats_chart(stats: GuildStats, limits: ChartLimits = ChartLimits()) -> bytes:
    """The PNG (``WIDTH_PX`` × ``HEIGHT_PX``) of ``stats``; also for a quiet period (empty axes)."""
    days = _days(stats.since, stats.until)
    index = {d: i for i, d in enumerate(days)}
    requested: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
    delivered = [0] * len(days)
    credits = [0.0] * len(days)
    for row in stats.daily:
        i = index.get(row.day)
        if i is None:
            continue
        requested[row.model][i] += row.requested
        delivered[i] += row.delivered
        credits[i] += row.credits_tenths / 10
    models = sorted(requested, key=lambda m: -sum(requested[m]))
    if len(models) > MAX_MODELS_SHOWN:
        keep, rest = models[: MAX_MODELS_SHOWN - 1], models[MAX_MODELS_SHOWN - 1 :]
        other = [sum(requested[m][i] for m in rest) for i in range(len(days))]
        requested = defaultdict(lambda: [0] * len(days), {m: requested[m] for m in keep})
        requested["other models"] = other
        models = [*keep, "other models"]

    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    videos_ax, credits_ax = figure.subplots(2, 1, sharex=True)
    xs = list(range(len(days)))

    bottom = [0] * len(days)
    for model in models:
        counts = requested[model]
        videos_ax.bar(xs, counts, bottom=bottom, label=model)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    videos_ax.set_ylabel("videos requested")
    rate_text = "—" if stats.success_rate is None else f"{stats.success_rate * 100:.1f} %"
    videos_ax.set_title(
        f"Videos per day per model · {stats.requested} requested, {stats.delivered} delivered, "
        f"success rate {rate_text}"
    )
    if models:
        videos_ax.legend(loc="best", fontsize="small")
    rate_ax = videos_ax.twinx()
    rates = [(delivered[i] / bottom[i] * 100) if bottom[i] else float("nan") for i in xs]
    rate_ax.plot(xs, rates, color="black", marker="o", linewidth=1, label="delivered / requested")
    rate_ax.set_ylim(0, 105)
    rate_ax.set_ylabel("delivered %")

    credits_ax.bar(xs, credits, color="tab:green", label="credits spent that day")
    running = [sum(credits[: i + 1]) for i in xs]  # against a weekly or monthly cap, the total so far
    credits_ax.plot(xs, running, color="tab:olive", marker=".", label="spent since the start")
    if limits.cap_tenths is not None:
        credits_ax.axhline(
            limits.cap_tenths / 10,
            color="tab:red",
            linestyle="--",
            label=f"server cap ({limits.cap_tenths / 10:g} per {limits.cap_period})",
        )
    if limits.ceiling_tenths is not None:
        credits_ax.axhline(
            limits.ceiling_tenths / 10,
            color="tab:purple",
            linestyle=":",
            label=f"bot-wide ceiling ({limits.ceiling_tenths / 10:g} per {limits.ceiling_period})",
        )
    credits_ax.set_ylabel("credits")
    credits_ax.set_title(f"Credits spent per day · {stats.credits_charged_tenths / 10:g} in all")
    credits_ax.legend(loc="best", fontsize="small")
    step = max(1, len(days) // 12)  # at most a dozen date labels, however long the period
    credits_ax.set_xticks(xs[::step], [_short(d) for d in days[::step]])
    credits_ax.set_xlabel("day (UTC)")
    figure.tight_layout()

    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
