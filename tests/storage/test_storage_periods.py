"""UTC period boundaries, and reservations on either side of them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage import InvalidValue, QuotaExceeded, Storage, TaskState, period_bounds

GUILD, USER, MOD = 1000, 3000, 99


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("period", "now", "start", "end"),
    [
        ("day", utc(2024, 5, 15, 12), utc(2024, 5, 15), utc(2024, 5, 16)),
        ("day", utc(2024, 5, 15, 23, 59, 59) + 0.999, utc(2024, 5, 15), utc(2024, 5, 16)),
        ("day", utc(2024, 5, 16), utc(2024, 5, 16), utc(2024, 5, 17)),
        ("week", utc(2024, 5, 15, 12), utc(2024, 5, 13), utc(2024, 5, 20)),  # Wednesday → Monday
        ("week", utc(2024, 5, 19, 23, 59), utc(2024, 5, 13), utc(2024, 5, 20)),  # Sunday night
        ("week", utc(2024, 5, 20), utc(2024, 5, 20), utc(2024, 5, 27)),  # Monday 00:00
        ("week", utc(2025, 1, 1), utc(2024, 12, 30), utc(2025, 1, 6)),  # across the new year
        ("month", utc(2024, 2, 29, 23, 59), utc(2024, 2, 1), utc(2024, 3, 1)),  # leap day
        ("month", utc(2024, 12, 31, 23, 59), utc(2024, 12, 1), utc(2025, 1, 1)),
        ("month", utc(2025, 1, 1), utc(2025, 1, 1), utc(2025, 2, 1)),
    ],
)
def test_period_bounds(period: str, now: float, start: float, end: float) -> None:
    assert period_bounds(period, now) == (start, end)


def test_unknown_period_is_refused() -> None:
    with pytest.raises(InvalidValue, match="day, week or month"):
        period_bounds("fortnight", 0)


@pytest.mark.parametrize(
    ("period", "before", "after"),
    [
        ("day", utc(2024, 5, 15, 23, 59, 59) + 0.5, utc(2024, 5, 16)),
        ("week", utc(2024, 5, 19, 23, 59, 59) + 0.5, utc(2024, 5, 20)),
        ("month", utc(2024, 5, 31, 23, 59, 59) + 0.5, utc(2024, 6, 1)),
    ],
)
async def test_reservations_on_both_sides_of_a_boundary(
    store: Storage, make_task, period: str, before: float, after: float
) -> None:
    await store.limits.set_guild_default(GUILD, 10, period, actor_id=MOD, now=before)
    await store.quota.reserve(make_task(cost_tenths=10), now=before - 1)
    with pytest.raises(QuotaExceeded) as caught:
        await store.quota.reserve(make_task(cost_tenths=10), now=before)
    assert caught.value.resets_at == after
    # One instant later the period has turned over: the same request is accepted.
    task = await store.quota.reserve(make_task(cost_tenths=10), now=after)
    assert task.created_at == after
    assert (await store.quota.usage(GUILD, USER, now=after)).used_tenths == 10


async def test_refund_after_midnight_returns_credits_to_the_day_they_came_from(
    store: Storage, make_task
) -> None:
    await store.limits.set_guild_default(GUILD, 10, "day", actor_id=MOD, now=0)
    evening, morning = utc(2024, 5, 15, 23, 59), utc(2024, 5, 16, 0, 1)
    task = await store.quota.reserve(make_task(cost_tenths=10), now=evening)
    await store.tasks.transition(task.id, TaskState.SUBMITTING, now=evening)
    await store.tasks.transition(task.id, TaskState.FAILED, now=morning)
    assert (await store.quota.usage(GUILD, USER, now=evening)).used_tenths == 0
    # The new day is untouched by yesterday's refund: still the full allowance, not more.
    assert (await store.quota.usage(GUILD, USER, now=morning)).used_tenths == 0
    await store.quota.reserve(make_task(cost_tenths=10), now=morning)
    with pytest.raises(QuotaExceeded):
        await store.quota.reserve(make_task(cost_tenths=1), now=morning)
