"""The one backoff: doubling from a base, capped, safe for unbounded failure counts."""

from __future__ import annotations

import math

from bot.backoff import backoff


def test_doubles_from_the_base_and_stops_at_the_cap() -> None:
    assert [backoff(n, base=0.5, cap=3.0) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_uncapped_by_default() -> None:
    assert backoff(4, base=1.5) == 12.0


def test_a_huge_attempt_count_does_not_overflow() -> None:
    assert backoff(10_000, base=1.0, cap=60.0) == 60.0
    assert math.isfinite(backoff(10_000, base=1.0))
