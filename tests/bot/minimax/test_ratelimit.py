"""The submit limiter on a fake clock: its sleep advances the clock, so nothing really waits."""

from __future__ import annotations

import asyncio

import pytest

from bot.minimax.ratelimit import SubmitRateLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # let other waiters run, as a real sleep would


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def limiter(fake_time: FakeTime, rpm: int) -> SubmitRateLimiter:
    return SubmitRateLimiter(rpm, clock=fake_time.clock, sleep=fake_time.sleep)


async def test_up_to_rpm_pass_at_once(fake_time: FakeTime) -> None:
    pacer = limiter(fake_time, 3)
    for _ in range(3):
        await pacer.acquire()
    assert fake_time.slept == []
    assert pacer.delay() == 60.0


async def test_one_more_waits_for_the_oldest_to_leave_the_window(fake_time: FakeTime) -> None:
    pacer = limiter(fake_time, 2)
    await pacer.acquire()
    fake_time.now += 10
    await pacer.acquire()
    await pacer.acquire()  # the first left the window at +60
    assert fake_time.slept == [50.0]
    assert fake_time.now == 1060.0


async def test_window_slides(fake_time: FakeTime) -> None:
    pacer = limiter(fake_time, 2)
    await pacer.acquire()
    await pacer.acquire()
    fake_time.now += 61
    assert pacer.delay() == 0.0
    await pacer.acquire()
    assert fake_time.slept == []


async def test_sustained_rate_never_exceeds_rpm(fake_time: FakeTime) -> None:
    pacer = limiter(fake_time, 5)
    stamps = []
    for _ in range(23):
        await pacer.acquire()
        stamps.append(fake_time.now)
    for i, start in enumerate(stamps):
        in_window = [t for t in stamps[i:] if t < start + 60]
        assert len(in_window) <= 5


async def test_penalty_holds_everyone(fake_time: FakeTime) -> None:
    pacer = limiter(fake_time, 10)
    pacer.penalize(30)
    assert pacer.delay() == 30.0
    await pacer.acquire()
    assert fake_time.slept == [30.0]


async def test_default_penalty_is_one_slot(fake_time: FakeTime) -> None:
    pacer = limiter(fake_time, 20)
    pacer.penalize()
    assert pacer.delay() == 3.0


async def test_shorter_penalty_does_not_shorten_a_longer_one(fake_time: FakeTime) -> None:
    pacer = limiter(fake_time, 10)
    pacer.penalize(30)
    pacer.penalize(5)
    assert pacer.delay() == 30.0


async def test_concurrent_waiters_are_served_in_order(fake_time: FakeTime) -> None:
    pacer = limiter(fake_time, 1)
    order: list[int] = []

    async def take(n: int) -> None:
        await pacer.acquire()
        order.append(n)

    await asyncio.gather(*(take(n) for n in range(4)))
    assert order == [0, 1, 2, 3]
    assert fake_time.now == 1000.0 + 3 * 60


def test_rpm_must_be_positive() -> None:
    with pytest.raises(ValueError):
        SubmitRateLimiter(0)
