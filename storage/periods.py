"""Quota periods with UTC boundaries, computed from an explicit ``now`` so tests control the clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from storage.errors import InvalidValue

PERIODS: tuple[str, ...] = ("day", "week", "month")


def check_period(period: str) -> str:
    if period not in PERIODS:
        raise InvalidValue("period", f"must be day, week or month (got {period!r}).")
    return period


def now_or(now: float | None) -> float:
    """The one place a default clock is read, so every function accepts an injected ``now``."""
    return time.time() if now is None else now


def period_bounds(period: str, now: float | None = None) -> tuple[float, float]:
    """``(start, end)`` in epoch seconds of the period holding ``now``: start inclusive, end exclusive.

    A day starts at 00:00 UTC, a week on Monday 00:00 UTC (ISO), a month on the 1st at 00:00 UTC.
    """
    check_period(period)
    moment = datetime.fromtimestamp(now_or(now), UTC)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        start, end = midnight, midnight + timedelta(days=1)
    elif period == "week":
        start = midnight - timedelta(days=midnight.weekday())
        end = start + timedelta(days=7)
    else:
        start = midnight.replace(day=1)
        end = (
            start.replace(year=start.year + 1, month=1)
            if start.month == 12
            else start.replace(month=start.month + 1)
        )
    return start.timestamp(), end.timestamp()


def utc_day(ts: float) -> str:
    """ISO date (``YYYY-MM-DD``) of an epoch timestamp in UTC; the key of per-day statistics."""
    return datetime.fromtimestamp(ts, UTC).date().isoformat()
