"""Poll timing: near the expected time first, then bounded intervals, slower after errors."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest

from bot.catalog import GENERATION_PRIORS, MODELS, generation_prior
from bot.lifecycle.deps import Expectations
from bot.lifecycle.estimate import FIRST_QUANTILE, GenerationTime, finish_estimate
from bot.lifecycle.timing import PollTiming
from bot.spec import Mode
from storage import Storage, Task
from tests.builders import make_new_task

T0 = 1_700_000_000.0

T = PollTiming(first_delay=None, min_interval=5, max_interval=60, timeout=1200)


# A ±30 %-ish belief around 100 s (sigma 0.25), as after some learning.
D = GenerationTime(median=100.0, spread=0.25)


def test_first_poll_goes_out_when_a_third_of_such_videos_are_done() -> None:
    assert T.first_poll_delay(D) == pytest.approx(D.quantile(FIRST_QUANTILE))
    assert 85 < T.first_poll_delay(D) < 100  # before the median, not long before
    assert T.first_poll_delay(GenerationTime(2.0, 0.3)) == 5  # never below the minimum interval


def test_the_schedule_is_sparse_before_the_finish_dense_around_it_and_backs_off_after() -> None:
    first = T.first_poll_delay(D)
    assert T.next_poll_delay(elapsed=10, expected=D, progress=None) == 60  # far before: capped at max
    assert T.next_poll_delay(elapsed=50, expected=D, progress=None) == pytest.approx(first - 50)
    times = [first]
    while times[-1] < 600:
        times.append(times[-1] + T.next_poll_delay(elapsed=times[-1], expected=D, progress=None))
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps[:3]) < 25  # dense around the median (100 s)
    late = [g for at, g in zip(times, gaps, strict=False) if at >= D.quantile(0.9)]
    assert late == sorted(late) and late[0] > min(gaps)  # and only ever slower when late
    assert gaps[-1] == 60  # bounded above
    assert T.next_poll_delay(elapsed=20, expected=GenerationTime(10, 0.2), progress=None) == 5  # below
    # The API's progress can only lengthen the wait: 25 % done after 100 s → far from done.
    assert T.next_poll_delay(elapsed=100, expected=D, progress=25) == 60
    assert T.next_poll_delay(elapsed=100, expected=D, progress=95) >= T.next_poll_delay(
        elapsed=100, expected=D, progress=None
    )


def test_a_narrow_belief_polls_less_than_a_wide_one() -> None:
    def queries(belief: GenerationTime, finish: float) -> int:
        at, n = T.first_poll_delay(belief), 1
        while at < finish:
            at += T.next_poll_delay(elapsed=at, expected=belief, progress=None)
            n += 1
        return n

    finishes = [70 + 2 * i for i in range(31)]  # 70-130 s: ±30 % around 100
    narrow = sum(queries(GenerationTime(100, 0.18), f) for f in finishes) / len(finishes)
    assert narrow <= 2.5


def test_errors_back_off_exponentially_to_the_maximum() -> None:
    delays = [T.next_poll_delay(elapsed=0, expected=None, progress=None, errors=n) for n in range(1, 6)]
    assert delays == [10, 20, 40, 60, 60]


def test_eta() -> None:
    assert T.eta(submitted_at=None, now=0, expected=60, progress=None) is None
    assert T.eta(submitted_at=1000, now=1010, expected=60, progress=None) == 1060
    assert T.eta(submitted_at=1000, now=1100, expected=60, progress=50) == pytest.approx(1200)
    assert T.eta(submitted_at=1000, now=1100, expected=60, progress=None) is None


async def _delivered(
    storage: Storage, model: str, resolution: str, duration: int, seconds: float, user_id: int = 3
) -> Task:
    """A task delivered ``seconds`` after its submission, as the learning reads it."""
    task = await storage.quota.reserve(
        make_new_task(
            guild_id=1,
            channel_id=2,
            user_id=user_id,
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


async def test_the_prior_holds_until_deliveries_take_over_smoothly(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "db.sqlite3")
    try:
        expectations = Expectations(storage, clock=lambda: 0.0)
        prior = generation_prior("MiniMax-Hailuo-2.3", Mode.TEXT, "768P", 6).median
        seen = await _delivered(storage, "MiniMax-Hailuo-2.3", "768P", 6, seconds=prior * 2)
        expectations.forget(seen)
        one = await expectations.seconds(seen)
        assert prior < one < prior * 2  # one delivery moves it part of the way, not all
        medians = [one]
        for n in range(20):
            await _delivered(storage, "MiniMax-Hailuo-2.3", "768P", 6, seconds=prior * 2, user_id=10 + n)
            expectations.forget(seen)
            medians.append(await expectations.seconds(seen))
        assert medians == sorted(medians)  # step by step, no switch
        assert medians[-1] == pytest.approx(prior * 2, rel=0.1)
        # Another combination of the same model learns that this install is slower, a little.
        unseen = dataclasses.replace(seen, spec=dataclasses.replace(seen.spec, resolution="1080P"))
        unseen_prior = generation_prior("MiniMax-Hailuo-2.3", Mode.TEXT, "1080P", 6).median
        assert unseen_prior < await expectations.seconds(unseen) < unseen_prior * 2
        # Another model knows nothing of it: its prior.
        other_model = dataclasses.replace(
            seen, spec=dataclasses.replace(seen.spec, model="T2V-01", resolution=None, duration=None)
        )
        other_prior = generation_prior("T2V-01", Mode.TEXT, None, None).median
        assert await expectations.seconds(other_model) == pytest.approx(other_prior)
    finally:
        await storage.close()


async def test_the_operators_first_delay_replaces_the_prior(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "db.sqlite3")
    try:
        expectations = Expectations(storage, first_delay=12.0)
        task = await _delivered(storage, "MiniMax-Hailuo-02", "768P", 6, seconds=50.0)
        fresh = dataclasses.replace(task, spec=dataclasses.replace(task.spec, model="MiniMax-H3"))
        assert T.first_poll_delay(await expectations.distribution(fresh)) == pytest.approx(12.0)
    finally:
        await storage.close()


def test_every_catalog_combination_has_a_prior() -> None:
    for name, rules in MODELS.items():
        for mode, combos in rules.modes.items():
            for resolution, duration in combos:
                prior = GENERATION_PRIORS[(name, mode, resolution, duration)]
                assert 30 <= prior.median <= 900 and prior.spread > 0  # 30 s to "several minutes"


def test_the_poll_delay_is_not_learned_as_generation_time() -> None:
    # Seen running at 80 s, done at 120 s: the finish is the belief's median of that interval.
    estimate = finish_estimate(D, after=80, by=120)
    assert 80 < estimate < 120
    assert 1 - D.survival(estimate) == pytest.approx((2 - D.survival(80) - D.survival(120)) / 2)
    # Done at the first query: somewhere before it, not at it.
    assert finish_estimate(D, after=0, by=95) < 95
    # Far outside the belief: the middle of what is known.
    assert finish_estimate(D, after=5000, by=5100) == 5050
