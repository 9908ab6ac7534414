"""Atomic reservation: N concurrent requests against a limit of K accept exactly K."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storage import QuotaExceeded, SpendCeiling, SpendLimitReached, Storage, TaskState, TooManyInFlight
from storage.backend import fetch_all

T0 = 1_715_774_400.0
GUILD, USER = 1000, 3000
N, K = 200, 37


async def reserve_all(stores: list[Storage], make_task) -> tuple[list[int], int]:
    async def one(i: int) -> int | None:
        try:
            task = await stores[i % len(stores)].quota.reserve(make_task(cost_tenths=10), now=T0)
        except QuotaExceeded:
            return None
        return task.id

    results = await asyncio.gather(*(one(i) for i in range(N)))
    accepted = [r for r in results if r is not None]
    return accepted, results.count(None)


async def check_ledger(store: Storage, accepted: list[int]) -> None:
    tasks = await store.tasks.list_for_guild(GUILD, limit=1000)
    assert sorted(t.id for t in tasks) == sorted(accepted)
    assert all(t.state is TaskState.QUEUED for t in tasks)
    async with store.db.read() as conn:
        rows = await fetch_all(conn, "SELECT kind, COUNT(*), SUM(tenths) FROM ledger GROUP BY kind")
        assert [tuple(r) for r in rows] == [("reserve", K, K * 10)]
    usage = await store.quota.usage(GUILD, USER, now=T0)
    assert (usage.used_tenths, usage.limit_tenths) == (K * 10, K * 10)


async def test_one_connection_accepts_exactly_k(backend: str | Path, make_task) -> None:
    store = await Storage.open(backend, default_limit_tenths=K * 10)
    try:
        accepted, refused = await reserve_all([store], make_task)
        assert (len(accepted), refused) == (K, N - K)
        await check_ledger(store, accepted)
    finally:
        await store.close()


async def test_two_connections_accept_exactly_k(backend: str | Path, make_task) -> None:
    first = await Storage.open(backend, default_limit_tenths=K * 10)
    second = await Storage.open(backend, default_limit_tenths=K * 10)
    try:
        accepted, refused = await reserve_all([first, second], make_task)
        assert (len(accepted), refused) == (K, N - K)
        await check_ledger(first, accepted)
        await check_ledger(second, accepted)
    finally:
        await first.close()
        await second.close()


async def test_the_bot_wide_ceiling_accepts_exactly_k_across_servers(backend: str | Path, make_task) -> None:
    """N members of several servers at once, each with room to spare, against a ceiling of K videos."""
    first = await Storage.open(backend, default_limit_tenths=N * 10)
    second = await Storage.open(backend, default_limit_tenths=N * 10)
    ceiling = SpendCeiling(K * 10, "month")

    async def one(i: int) -> int | None:
        store = (first, second)[i % 2]
        task = make_task(guild_id=GUILD + i % 5, user_id=USER + i, cost_tenths=10)
        try:
            return (await store.quota.reserve(task, now=T0, spend_ceiling=ceiling)).id
        except SpendLimitReached:
            return None

    try:
        results = await asyncio.gather(*(one(i) for i in range(N)))
        accepted = [r for r in results if r is not None]
        assert (len(accepted), results.count(None)) == (K, N - K)
        spend = await first.quota.bot_spend(ceiling, now=T0)
        assert spend.used_tenths == K * 10
    finally:
        await first.close()
        await second.close()


async def test_one_member_racing_accepts_exactly_max_in_flight(backend: str | Path, make_task) -> None:
    """N requests of one member at once, with credits for all of them, and a cap of 3 in flight."""
    first = await Storage.open(backend, default_limit_tenths=N * 10)
    second = await Storage.open(backend, default_limit_tenths=N * 10)

    async def one(i: int) -> int | None:
        try:
            task = await (first, second)[i % 2].quota.reserve(make_task(), now=T0, max_in_flight=3)
        except TooManyInFlight:
            return None
        return task.id

    try:
        results = await asyncio.gather(*(one(i) for i in range(N)))
        assert len([r for r in results if r is not None]) == 3
        assert await first.tasks.count_for_guild(GUILD) == 3
    finally:
        await first.close()
        await second.close()


async def test_a_personal_allowance_accepts_exactly_k_under_the_ceiling(
    backend: str | Path, make_task
) -> None:
    """USER_INSTALL (issue 13): requests with no guild are held to the member's personal allowance,
    atomically, from two connections; no guild cap or pool is consulted, and the bot-wide ceiling
    still counts them (a guild's member then finds it spent)."""
    first = await Storage.open(backend)
    second = await Storage.open(backend)
    ceiling = SpendCeiling((K + 1) * 10, "month")

    async def one(i: int) -> int | None:
        store = (first, second)[i % 2]
        try:
            task = await store.quota.reserve(
                make_task(guild_id=None, cost_tenths=10),
                now=T0,
                default_limit_tenths=K * 10,
                default_period="week",
                spend_ceiling=ceiling,
            )
        except QuotaExceeded:
            return None
        return task.id

    try:
        results = await asyncio.gather(*(one(i) for i in range(N)))
        accepted = [r for r in results if r is not None]
        assert (len(accepted), results.count(None)) == (K, N - K)
        usage = await first.quota.usage(
            None, USER, now=T0, default_limit_tenths=K * 10, default_period="week"
        )
        assert (usage.used_tenths, usage.limit_tenths, usage.period) == (K * 10, K * 10, "week")
        assert (await first.quota.usage(GUILD, USER, now=T0)).used_tenths == 0  # a server's own count
        # The ceiling has room for one more: a server member takes it, the next is refused.
        await second.quota.reserve(make_task(user_id=USER + 1, cost_tenths=10), now=T0, spend_ceiling=ceiling)
        with pytest.raises(SpendLimitReached):
            await first.quota.reserve(
                make_task(user_id=USER + 2, cost_tenths=10), now=T0, spend_ceiling=ceiling
            )
        for task_id in accepted:
            assert (await first.tasks.get(task_id)).guild_id is None
    finally:
        await first.close()
        await second.close()
