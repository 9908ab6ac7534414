"""Poll timing: near the expected time first, then bounded intervals, slower after errors."""

from __future__ import annotations

import pytest

from bot.lifecycle.timing import PollTiming

T = PollTiming(first_delay=30, min_interval=5, max_interval=60, timeout=1200)


def test_first_poll_uses_the_learned_time_or_the_default() -> None:
    assert T.first_poll_delay(None) == 30
    assert T.first_poll_delay(100) == 90  # a little before the median
    assert T.first_poll_delay(2) == 5  # never below the minimum interval


def test_next_poll_waits_for_the_expected_time_then_a_share_of_the_running_time() -> None:
    assert T.next_poll_delay(elapsed=10, expected=100, progress=None) == 60  # capped at max
    assert T.next_poll_delay(elapsed=50, expected=100, progress=None) == 40  # until 0.9 × expected
    assert T.next_poll_delay(elapsed=90, expected=100, progress=None) == pytest.approx(13.5)
    assert T.next_poll_delay(elapsed=20, expected=10, progress=None) == 5  # bounded below
    assert T.next_poll_delay(elapsed=2000, expected=100, progress=None) == 60  # bounded above
    # The API's progress can only lengthen the wait: 25 % done after 100 s → far from done.
    assert T.next_poll_delay(elapsed=100, expected=100, progress=25) == 60
    assert T.next_poll_delay(elapsed=100, expected=100, progress=95) == 15


def test_errors_back_off_exponentially_to_the_maximum() -> None:
    delays = [T.next_poll_delay(elapsed=0, expected=None, progress=None, errors=n) for n in range(1, 6)]
    assert delays == [10, 20, 40, 60, 60]


def test_eta() -> None:
    assert T.eta(submitted_at=None, now=0, expected=60, progress=None) is None
    assert T.eta(submitted_at=1000, now=1010, expected=60, progress=None) == 1060
    assert T.eta(submitted_at=1000, now=1100, expected=60, progress=50) == pytest.approx(1200)
    assert T.eta(submitted_at=1000, now=1100, expected=60, progress=None) is None
