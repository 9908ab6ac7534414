"""The operator's limits inside the reservation: the bot-wide spending ceiling and tasks in flight."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage import (
    InvalidValue,
    SpendCeiling,
    SpendLimitReached,
    Storage,
    TaskState,
    TooManyInFlight,
)
from storage.backend import fetch_one
from storage.states import IN_FLIGHT_STATES
from tests.storage.test_storage_tasks import plans_of

T0 = datetime(2024, 5, 15, 12, 0, tzinfo=UTC).timestamp()
NEXT_DAY = datetime(2024, 5, 16, 0, 0, tzinfo=UTC).timestamp()
GUILD, OTHER_GUILD, USER, OTHER = 1000, 1001, 3000, 3001
BIG = 10_000  # a member allowance far above anything these tests spend


async def ledger_rows(store: Storage) -> int:
    async with store.db.read() as conn:
        row = await fetch_one(conn, "SELECT COUNT(*) FROM ledger")
    assert row is not None
    return int(row[0])


async def test_the_ceiling_counts_every_server_and_dms_and_refuses_past_it(store: Storage, make_task) -> None:
    ceiling = SpendCeiling(30, "day")

    async def reserve(**overrides: object):
        return await store.quota.reserve(
            make_task(**overrides), now=T0, default_limit_tenths=BIG, spend_ceiling=ceiling
        )

    await reserve(guild_id=GUILD, user_id=USER)
    await reserve(guild_id=OTHER_GUILD, user_id=OTHER)
    await reserve(guild_id=None, user_id=OTHER)
    rows = await ledger_rows(store)
    with pytest.raises(SpendLimitReached) as refused:
        await reserve(guild_id=OTHER_GUILD, user_id=USER)
    assert (refused.value.used_tenths, refused.value.limit_tenths, refused.value.cost_tenths) == (30, 30, 10)
    assert (refused.value.period, refused.value.resets_at) == ("day", NEXT_DAY)
    assert await ledger_rows(store) == rows, "a refused request reserves nothing"
    spend = await store.quota.bot_spend(ceiling, now=T0)
    assert (spend.used_tenths, spend.limit_tenths, spend.resets_at) == (30, 30, NEXT_DAY)
    # Without a ceiling the same request is fine: only the operator's setting refused it.
    await store.quota.reserve(make_task(guild_id=OTHER_GUILD, user_id=USER), now=T0, default_limit_tenths=BIG)


async def test_refunds_free_the_ceiling_charges_and_grants_do_not(store: Storage, make_task) -> None:
    ceiling = SpendCeiling(20, "day")
    first = await store.quota.reserve(make_task(), now=T0, spend_ceiling=ceiling)
    second = await store.quota.reserve(make_task(user_id=OTHER), now=T0, spend_ceiling=ceiling)
    await store.tasks.transition(first.id, TaskState.CANCELLED, now=T0)
    assert (await store.quota.bot_spend(ceiling, now=T0)).used_tenths == 10
    third = await store.quota.reserve(make_task(), now=T0, spend_ceiling=ceiling)
    # A moderator's fresh allowance forgives the member, not the operator's spending.
    await store.quota.grant_fresh_allowance(GUILD, USER, actor_id=1, now=T0)
    with pytest.raises(SpendLimitReached):
        await store.quota.reserve(make_task(), now=T0, spend_ceiling=ceiling)
    for task in (second, third):
        await store.tasks.transition(task.id, TaskState.SUBMITTING, now=T0)
    assert (await store.quota.bot_spend(ceiling, now=T0)).used_tenths == 20, "running tasks still count"
    # The next UTC day starts afresh.
    await store.quota.reserve(make_task(), now=NEXT_DAY, spend_ceiling=ceiling)


async def test_bad_ceilings_are_refused(store: Storage, make_task) -> None:
    with pytest.raises(InvalidValue):
        await store.quota.reserve(make_task(), now=T0, spend_ceiling=SpendCeiling(-1, "day"))
    with pytest.raises(InvalidValue):
        await store.quota.reserve(make_task(), now=T0, spend_ceiling=SpendCeiling(10, "year"))
    with pytest.raises(InvalidValue):
        await store.quota.reserve(make_task(), now=T0, max_in_flight=0)


@pytest.mark.sqlite_only  # SQLite's query plans / trace callback
async def test_the_ceiling_reads_the_reservation_index(store: Storage, make_task) -> None:
    await store.quota.reserve(make_task(), now=T0)
    plans = await plans_of(store, lambda: store.quota.bot_spend(SpendCeiling(10, "month"), now=T0))
    assert any("ledger_reserve_created" in plan for plan in plans), plans


def test_unknown_tasks_are_not_in_flight() -> None:
    assert TaskState.UNKNOWN not in IN_FLIGHT_STATES
    assert {TaskState.QUEUED, TaskState.SUBMITTING, TaskState.DELIVERING} <= IN_FLIGHT_STATES
    assert not any(state.final for state in IN_FLIGHT_STATES)


async def test_a_member_has_at_most_max_in_flight_unfinished_tasks(store: Storage, make_task) -> None:
    async def reserve(**overrides: object):
        return await store.quota.reserve(
            make_task(**overrides), now=T0, default_limit_tenths=BIG, max_in_flight=3
        )

    queued = await reserve()
    running = await reserve()
    await store.tasks.transition(running.id, TaskState.SUBMITTING, now=T0)
    stuck = await reserve()
    rows = await ledger_rows(store)
    with pytest.raises(TooManyInFlight) as refused:
        await reserve()
    assert (refused.value.in_flight, refused.value.limit) == (3, 3)
    assert await ledger_rows(store) == rows
    # Others, and the same member in another server, have their own places.
    await reserve(user_id=OTHER)
    await reserve(guild_id=OTHER_GUILD)
    # A cancelled task frees its place; so does one whose submit outcome became unknown.
    await store.tasks.transition(queued.id, TaskState.CANCELLED, now=T0)
    await reserve()
    await store.tasks.transition(stuck.id, TaskState.SUBMITTING, now=T0)
    await store.tasks.transition(stuck.id, TaskState.UNKNOWN, now=T0)
    await reserve()
    with pytest.raises(TooManyInFlight):
        await reserve()
