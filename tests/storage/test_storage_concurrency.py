"""Atomic reservation: N concurrent requests against a limit of K accept exactly K."""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage import QuotaExceeded, Storage, TaskState

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
        cursor = await conn.execute("SELECT kind, COUNT(*), SUM(tenths) FROM ledger GROUP BY kind")
        assert [tuple(r) for r in await cursor.fetchall()] == [("reserve", K, K * 10)]
    usage = await store.quota.usage(GUILD, USER, now=T0)
    assert (usage.used_tenths, usage.limit_tenths) == (K * 10, K * 10)


async def test_one_connection_accepts_exactly_k(db_path: Path, make_task) -> None:
    store = await Storage.open(db_path, default_limit_tenths=K * 10)
    try:
        accepted, refused = await reserve_all([store], make_task)
        assert (len(accepted), refused) == (K, N - K)
        await check_ledger(store, accepted)
    finally:
        await store.close()


async def test_two_connections_on_one_file_accept_exactly_k(db_path: Path, make_task) -> None:
    first = await Storage.open(db_path, default_limit_tenths=K * 10)
    second = await Storage.open(db_path, default_limit_tenths=K * 10)
    try:
        accepted, refused = await reserve_all([first, second], make_task)
        assert (len(accepted), refused) == (K, N - K)
        await check_ledger(first, accepted)
        await check_ledger(second, accepted)
    finally:
        await first.close()
        await second.close()
