"""Poll timing: near the expected time first, then bounded intervals, slower after errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.lifecycle.deps import Expectations
from bot.lifecycle.timing import PollTiming
from storage import Storage, Task
from tests.builders import make_new_task

T0 = 1_700_000_000.0

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


async def _delivered(storage: Storage, model: str, resolution: str, duration: int, seconds: float) -> Task:
    """A task delivered ``seconds`` after its submission, as the learning reads it."""
    task = await storage.quota.reserve(
        make_new_task(
            guild_id=1,
            channel_id=2,
            user_id=3,
            prompt="a fox",
            model=model,
            duration=duration,
            resolution=resolution,
        ),
        now=T0,
    )
    for step in ("submitting", "submitted", "downloading", "delivering"):
        task = await storage.tasks.transition(task.id, step, now=T0)
    await storage.tasks.update_fields(task.id, submitted_at=T0)
    return await storage.tasks.transition(task.id, "delivered", finished_at=T0 + seconds, now=T0 + seconds)


async def test_an_unseen_combination_borrows_the_models_learned_time(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "db.sqlite3")
    try:
        expectations = Expectations(storage)
        seen = await _delivered(storage, "MiniMax-Hailuo-2.3", "768P", 6, seconds=80.0)
        assert await expectations.seconds(seen) == 80.0
        unseen = dataclasses.replace(seen, spec=dataclasses.replace(seen.spec, resolution="1080P"))
        assert await expectations.seconds(unseen) == 80.0
        other_model = dataclasses.replace(
            seen, spec=dataclasses.replace(seen.spec, model="T2V-01", resolution=None, duration=None)
        )
        assert await expectations.seconds(other_model) is None
    finally:
        await storage.close()
