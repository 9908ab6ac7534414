"""Takes reserved together (``/video generate variations:N``), on both engines.

All or none: every limit is checked against the sum, one payer pays every take, and N concurrent
groups against a limit of K credits accept exactly floor(K / N) of them. Each take is a task of its
own afterwards (charged or refunded alone); the group's reply is recorded as posted once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storage import (
    GuildCapReached,
    InvalidValue,
    PoolAccess,
    PoolExhausted,
    QuotaExceeded,
    SpendCeiling,
    SpendLimitReached,
    Storage,
    TaskState,
    TooManyInFlight,
)
from storage.backend import fetch_all
from tests.storage.conftest import GUILD, T0, USER, new_task

ROLE, MOD = 4000, 9000


async def ledger_rows(store: Storage) -> list[tuple[object, ...]]:
    async with store.db.read() as conn:
        rows = await fetch_all(conn, "SELECT task_id, kind, tenths, pool_id FROM ledger ORDER BY id")
    return [tuple(r) for r in rows]


async def deliver(store: Storage, task_id: int) -> None:
    for state in (TaskState.SUBMITTING, TaskState.SUBMITTED, TaskState.DOWNLOADING, TaskState.DELIVERING):
        await store.tasks.transition(task_id, state, now=T0)


async def test_a_group_is_n_takes_numbered_under_the_first_ones_id(store: Storage) -> None:
    takes = await store.quota.reserve_group(new_task(cost_tenths=10), takes=3, now=T0)
    first = takes[0]
    assert [(t.group_id, t.take, t.takes) for t in takes] == [(first.id, n, 3) for n in (1, 2, 3)]
    assert all(t.state is TaskState.QUEUED and t.cost_tenths == 10 for t in takes)
    assert [t.id for t in await store.tasks.group(first.id)] == [t.id for t in takes]
    assert [r[1:3] for r in await ledger_rows(store)] == [("reserve", 10)] * 3
    assert (await store.quota.usage(GUILD, USER, now=T0)).used_tenths == 30


async def test_one_take_is_a_task_alone(store: Storage) -> None:
    (task,) = await store.quota.reserve_group(new_task(), takes=1, now=T0)
    assert (task.group_id, task.take, task.takes) == (None, None, None)
    alone = await store.quota.reserve(new_task(), now=T0)
    assert alone.group_id is None


@pytest.mark.parametrize("takes", [0, 5, True])
async def test_a_bad_number_of_takes_is_refused_and_writes_nothing(store: Storage, takes: int) -> None:
    with pytest.raises(InvalidValue):
        await store.quota.reserve_group(new_task(), takes=takes, now=T0)
    assert await ledger_rows(store) == []


async def test_a_group_over_the_quota_is_refused_whole(store: Storage) -> None:
    # 5 credits a day (the fixture's default): 2 credits used, 3 takes of 1.5 credits do not fit.
    await store.quota.reserve(new_task(cost_tenths=20), now=T0)
    with pytest.raises(QuotaExceeded) as caught:
        await store.quota.reserve_group(new_task(cost_tenths=15), takes=3, now=T0)
    assert caught.value.cost_tenths == 45
    assert len(await ledger_rows(store)) == 1
    assert await store.tasks.count_for_guild(GUILD) == 1
    # Two takes of 1.5 fit exactly.
    assert len(await store.quota.reserve_group(new_task(cost_tenths=15), takes=2, now=T0)) == 2


async def test_the_in_flight_cap_counts_every_take(store: Storage) -> None:
    await store.quota.reserve(new_task(cost_tenths=1), now=T0, max_in_flight=4)
    with pytest.raises(TooManyInFlight) as caught:
        await store.quota.reserve_group(new_task(cost_tenths=1), takes=4, now=T0, max_in_flight=4)
    assert (caught.value.in_flight, caught.value.limit, caught.value.asked) == (1, 4, 4)
    fits = await store.quota.reserve_group(new_task(cost_tenths=1), takes=3, now=T0, max_in_flight=4)
    assert len(fits) == 3


async def test_the_guild_cap_and_the_ceiling_see_the_sum(store: Storage) -> None:
    await store.policy.update(GUILD, cap_tenths=25, actor_id=MOD)
    with pytest.raises(GuildCapReached):
        await store.quota.reserve_group(new_task(cost_tenths=10), takes=3, now=T0)
    with pytest.raises(SpendLimitReached):
        await store.quota.reserve_group(
            new_task(cost_tenths=10), takes=2, now=T0, spend_ceiling=SpendCeiling(15, "day")
        )
    assert await ledger_rows(store) == []


async def test_one_pool_pays_every_take(store: Storage) -> None:
    change = await store.pools.create(
        GUILD, "team", 30, "week", role_id=ROLE, channel_id=None, actor_id=MOD, now=T0
    )
    assert change.after is not None
    pool_id = change.after.id
    # The pool has room for 3 takes of 1 credit: it pays for all of them (named or not).
    takes = await store.quota.reserve_group(
        new_task(cost_tenths=10), takes=3, now=T0, role_ids=(ROLE,), pool="team"
    )
    assert {t.pool_id for t in takes} == {pool_id}
    # Now it has none left: 2 more takes fall back to the member's own credits, both of them.
    more = await store.quota.reserve_group(new_task(cost_tenths=10), takes=2, now=T0, role_ids=(ROLE,))
    assert {t.pool_id for t in more} == {None}
    assert PoolAccess(role_ids=(ROLE,)).may_use(change.after)


async def test_each_take_is_charged_or_refunded_alone_and_the_reply_posted_once(store: Storage) -> None:
    takes = await store.quota.reserve_group(new_task(cost_tenths=10), takes=3, now=T0)
    group = takes[0].id
    assert await store.tasks.unposted_groups(T0 - 1) == [group]
    await deliver(store, takes[0].id)
    await deliver(store, takes[2].id)
    await store.tasks.transition(takes[1].id, TaskState.FAILED, now=T0, error_code="x")
    stored = await store.tasks.deliver_group(group, {takes[0].id: 111, takes[2].id: 111}, now=T0 + 5)
    assert [t.state for t in stored] == [TaskState.DELIVERED, TaskState.FAILED, TaskState.DELIVERED]
    assert [t.result_message_id for t in stored] == [111, None, 111]
    assert stored[0].group_posted_at == T0 + 5
    assert await store.tasks.unposted_groups(T0 - 1) == []
    kinds = sorted((r[0], r[1]) for r in await ledger_rows(store))
    assert [k for _, k in kinds].count("charge") == 2
    assert [k for _, k in kinds].count("refund") == 1
    # Recording it again charges nothing twice.
    await store.tasks.deliver_group(group, {takes[0].id: 111}, now=T0 + 6)
    assert len(await ledger_rows(store)) == 6
    assert (await store.quota.usage(GUILD, USER, now=T0)).used_tenths == 20


async def test_a_task_of_another_group_cannot_be_recorded_in_this_one(store: Storage) -> None:
    first = await store.quota.reserve_group(new_task(), takes=2, now=T0)
    other = await store.quota.reserve(new_task(), now=T0)
    with pytest.raises(InvalidValue):
        await store.tasks.deliver_group(first[0].id, {other.id: 5}, now=T0)


GROUPS, TAKES, K = 12, 3, 10  # credits for 10 takes: exactly 3 groups of 3


async def test_concurrent_groups_accept_exactly_floor_k_over_n(backend: str | Path) -> None:
    first = await Storage.open(backend, default_limit_tenths=K * 10)
    second = await Storage.open(backend, default_limit_tenths=K * 10)

    async def one(i: int) -> list[int] | None:
        try:
            made = await (first, second)[i % 2].quota.reserve_group(
                new_task(cost_tenths=10), takes=TAKES, now=T0
            )
        except QuotaExceeded:
            return None
        return [t.id for t in made]

    try:
        results = await asyncio.gather(*(one(i) for i in range(GROUPS)))
        accepted = [r for r in results if r is not None]
        assert len(accepted) == K // TAKES
        tasks = await first.tasks.list_for_guild(GUILD, limit=100)
        assert sorted(t.id for t in tasks) == sorted(i for group in accepted for i in group)
        assert {t.group_id for t in tasks} == {group[0] for group in accepted}
        usage = await first.quota.usage(GUILD, USER, now=T0)
        assert usage.used_tenths == (K // TAKES) * TAKES * 10
    finally:
        await first.close()
        await second.close()


async def test_concurrent_groups_against_a_pool_accept_exactly_floor_k_over_n(backend: str | Path) -> None:
    first = await Storage.open(backend, default_limit_tenths=1000)
    second = await Storage.open(backend, default_limit_tenths=1000)
    try:
        created = await first.pools.create(
            GUILD, "team", K * 10, "week", role_id=ROLE, channel_id=None, actor_id=MOD, now=T0
        )
        assert created.after is not None

        async def one(i: int) -> list[int] | None:
            try:
                made = await (first, second)[i % 2].quota.reserve_group(
                    new_task(cost_tenths=10, user_id=USER + i),
                    takes=TAKES,
                    now=T0,
                    role_ids=(ROLE,),
                    pool="team",
                )
            except PoolExhausted:
                return None
            assert {t.pool_id for t in made} == {created.after.id}
            return [t.id for t in made]

        results = await asyncio.gather(*(one(i) for i in range(GROUPS)))
        assert len([r for r in results if r is not None]) == K // TAKES
        usage = await first.pools.get(GUILD, "team", now=T0)
        assert usage is not None and usage.used_tenths == (K // TAKES) * TAKES * 10
    finally:
        await first.close()
        await second.close()


async def test_every_take_keeps_the_requesters_locale_and_a_bad_one_reserves_nothing(
    store: Storage,
) -> None:
    takes = await store.quota.reserve_group(new_task(locale="pt-BR"), takes=2, now=T0)
    assert [(await store.tasks.get(t.id)).locale for t in takes] == ["pt-BR", "pt-BR"]
    assert (await store.quota.reserve(new_task(), now=T0)).locale is None
    with pytest.raises(InvalidValue):
        await store.quota.reserve(new_task(locale="x" * 17), now=T0)
    assert len(await ledger_rows(store)) == 3
