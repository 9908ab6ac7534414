"""Guild statistics on a seeded database give exactly the expected numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage import DailyModelCount, DeliveredCombo, GuildStats, ModelStats, Storage, UserSpend, period_bounds

GUILD, OTHER_GUILD = 1000, 1001
U1, U2, U3 = 11, 12, 13
H23, H02, T2V = "MiniMax-Hailuo-2.3", "MiniMax-Hailuo-02", "T2V-01"


def at(day: int, hour: int) -> float:
    return datetime(2024, 5, day, hour, tzinfo=UTC).timestamp()


@pytest.fixture
async def store(backend):
    storage = await Storage.open(backend, default_limit_tenths=1_000_000)
    try:
        yield storage
    finally:
        await storage.close()


async def seed(
    store: Storage, make_task, created: float, outcome: str, *, generation: float = 0, **task
) -> None:
    t = await store.quota.reserve(make_task(**task), now=created)
    if outcome == "cancelled":
        await store.tasks.transition(t.id, "cancelled", now=created + 1)
        return
    await store.tasks.transition(t.id, "submitting", now=created + 1)
    await store.tasks.transition(t.id, "submitted", now=created + 10, api_task_id=f"api-{t.id}")
    if outcome.startswith("failed"):
        _, _, code = outcome.partition(":")
        await store.tasks.transition(t.id, "failed", now=created + 20, error_code=code or None)
    elif outcome == "processing":
        await store.tasks.transition(t.id, "processing", now=created + 20, progress=30)
    else:
        await store.tasks.transition(t.id, "downloading", now=created + 10 + generation - 1)
        await store.tasks.transition(t.id, "delivering", now=created + 10 + generation - 0.5)
        await store.tasks.transition(t.id, "delivered", now=created + 10 + generation)


async def test_weekly_stats_are_exact(store: Storage, make_task) -> None:
    since, until = period_bounds("week", at(15, 12))
    assert (since, until) == (at(13, 0), at(20, 0))

    await seed(
        store, make_task, at(13, 9), "delivered", generation=100, user_id=U1, model=H23, cost_tenths=10
    )
    await seed(store, make_task, at(13, 10), "failed:sensitive_input", user_id=U1, model=H23, cost_tenths=10)
    await seed(
        store, make_task, at(13, 11), "delivered", generation=200, user_id=U2, model=H02, cost_tenths=4
    )
    await seed(
        store,
        make_task,
        at(14, 1),
        "delivered",
        generation=400,
        user_id=U2,
        model=H02,
        cost_tenths=18,
        resolution="1080P",
    )
    await seed(store, make_task, at(14, 2), "failed:timeout", user_id=U3, model=H23, cost_tenths=10)
    await seed(store, make_task, at(14, 3), "failed:timeout", user_id=U3, model=H23, cost_tenths=10)
    await seed(store, make_task, at(14, 4), "cancelled", user_id=U1, model=T2V, cost_tenths=15)
    await seed(store, make_task, at(14, 5), "processing", user_id=U1, model=H23, cost_tenths=10)
    await seed(store, make_task, at(14, 6), "failed", user_id=U3, model=H23, cost_tenths=10)
    # Outside the window or the guild: must not count.
    await seed(
        store, make_task, at(12, 23), "delivered", generation=50, user_id=U1, model=H23, cost_tenths=10
    )
    await seed(store, make_task, at(20, 0), "delivered", generation=50, user_id=U1, model=H23, cost_tenths=10)
    await seed(
        store,
        make_task,
        at(14, 7),
        "delivered",
        generation=999,
        guild_id=OTHER_GUILD,
        user_id=U1,
        cost_tenths=99,
    )

    stats = await store.tasks.stats(GUILD, since, until)
    assert stats == GuildStats(
        since=since,
        until=until,
        requested=9,
        delivered=3,
        failed=4,
        cancelled=1,
        in_progress=1,
        failed_by_reason={"timeout": 2, "sensitive_input": 1, "unknown": 1},
        credits_charged_tenths=32,
        success_rate=3 / 7,
        median_generation_seconds=200.0,
        per_model=(
            ModelStats(H02, requested=2, delivered=2, failed=0, credits_tenths=22),
            ModelStats(H23, requested=6, delivered=1, failed=4, credits_tenths=10),
            ModelStats(T2V, requested=1, delivered=0, failed=0, credits_tenths=0),
        ),
        daily=(
            DailyModelCount("2024-05-13", H02, requested=1, delivered=1, credits_tenths=4),
            DailyModelCount("2024-05-13", H23, requested=2, delivered=1, credits_tenths=10),
            DailyModelCount("2024-05-14", H02, requested=1, delivered=1, credits_tenths=18),
            DailyModelCount("2024-05-14", H23, requested=4, delivered=0, credits_tenths=0),
            DailyModelCount("2024-05-14", T2V, requested=1, delivered=0, credits_tenths=0),
        ),
        top_users=(UserSpend(U2, 22, 2), UserSpend(U1, 10, 1)),
        # Per priced combination, so the dollars can come from the price table, not rounded credits.
        delivered_by_combo=(
            DeliveredCombo(H02, "1080P", 6, delivered=1, credits_tenths=18),
            DeliveredCombo(H02, "768P", 6, delivered=1, credits_tenths=4),
            DeliveredCombo(H23, "768P", 6, delivered=1, credits_tenths=10),
        ),
    )
    # The ledger agrees: charges in the window's tasks equal the credits reported.
    charged = 0
    for task in await store.tasks.list_for_guild(GUILD, limit=100):
        if since <= task.created_at < until:
            charged += sum(
                e.tenths for e in await store.quota.entries_for_task(task.id) if e.kind == "charge"
            )
    assert charged == stats.credits_charged_tenths

    top1 = await store.tasks.stats(GUILD, since, until, top=1)
    assert top1.top_users == (UserSpend(U2, 22, 2),)


async def test_empty_window_has_no_rates(store: Storage) -> None:
    stats = await store.tasks.stats(GUILD, at(13, 0), at(20, 0))
    assert (stats.requested, stats.success_rate, stats.median_generation_seconds) == (0, None, None)
    assert (stats.per_model, stats.daily, stats.top_users, dict(stats.failed_by_reason)) == ((), (), (), {})
    assert stats.delivered_by_combo == ()
