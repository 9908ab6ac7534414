"""Team credit pools: the rules a pool's ledger shares with a member's, on both engines.

Reserved on accept, charged on delivery, refunded on failure, each once; atomic under concurrency
(50 requests at once against a pool of K accept exactly K); the pool a task was paid from is the one
its settlement goes to, after a restart and after the pool was deleted.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storage import (
    GuildCapReached,
    IllegalTransition,
    InvalidValue,
    PoolAccess,
    PoolExhausted,
    PoolNotUsable,
    QuotaExceeded,
    SpendCeiling,
    SpendLimitReached,
    Storage,
    TaskState,
)
from storage.backend import fetch_all
from storage.policy import UNSET
from tests.storage.conftest import CHANNEL, GUILD, T0, USER, new_task, utc

ROLE, MOD = 4000, 9000
TEAM = PoolAccess(role_ids=(ROLE,))


async def make_pool(
    store: Storage,
    name: str = "team",
    tenths: int = 50,
    period: str = "week",
    *,
    role_id: int | None = ROLE,
    channel_id: int | None = None,
) -> int:
    change = await store.pools.create(
        GUILD, name, tenths, period, role_id=role_id, channel_id=channel_id, actor_id=MOD, now=T0
    )
    assert change.after is not None and change.audit_id is not None
    return change.after.id


async def pool_used(store: Storage, name: str = "team", now: float = T0) -> int:
    usage = await store.pools.get(GUILD, name, now=now)
    assert usage is not None
    return usage.used_tenths


async def ledger_rows(store: Storage) -> list[tuple[object, ...]]:
    async with store.db.read() as conn:
        rows = await fetch_all(conn, "SELECT task_id, kind, tenths, pool_id FROM ledger ORDER BY id")
    return [tuple(r) for r in rows]


async def deliver(store: Storage, task_id: int) -> None:
    for state in ("submitting", "submitted", "processing", "downloading", "delivering", "delivered"):
        fields = {"api_task_id": f"api-{task_id}"} if state == "submitted" else {}
        await store.tasks.transition(task_id, state, now=T0 + 1, **fields)


# ---------------------------------------------------------------------------------- moderator changes


async def test_create_change_delete_are_audited_and_names_are_unique(store: Storage) -> None:
    pool_id = await make_pool(store)
    with pytest.raises(InvalidValue, match="already a pool"):
        await make_pool(store)
    change = await store.pools.update(GUILD, "team", credits_tenths=80, channel_id=CHANNEL, actor_id=MOD)
    assert change.before is not None and change.after is not None
    assert (change.before.credits_tenths, change.after.credits_tenths) == (50, 80)
    assert (change.after.role_id, change.after.channel_id) == (ROLE, CHANNEL)
    same = await store.pools.update(GUILD, "team", credits_tenths=80, actor_id=MOD)
    assert same.audit_id is None  # nothing changed, nothing logged
    deleted = await store.pools.delete(GUILD, "team", actor_id=MOD)
    assert deleted.after is None and deleted.audit_id is not None
    assert await store.pools.get(GUILD, "team") is None
    again = await make_pool(store)  # the name is free again; a new pool, a fresh allowance
    assert again != pool_id
    actions = [e.action for e in await store.audit.list(GUILD)]
    assert sorted(actions) == ["pool.create", "pool.create", "pool.delete", "pool.set"]


async def test_a_pool_needs_a_role_or_a_channel_and_a_plain_name(store: Storage) -> None:
    with pytest.raises(InvalidValue, match="role or a channel"):
        await make_pool(store, role_id=None)
    with pytest.raises(InvalidValue, match="lowercase"):
        await make_pool(store, "Design Team")
    await make_pool(store)
    with pytest.raises(InvalidValue, match="role or a channel"):
        await store.pools.update(GUILD, "team", role_id=None, actor_id=MOD)
    with pytest.raises(InvalidValue, match="not a pool"):
        await store.pools.update(GUILD, "other", credits_tenths=UNSET, actor_id=MOD)
    assert [e.action for e in await store.audit.list(GUILD)] == ["pool.create"]


async def test_who_may_use_a_pool(store: Storage) -> None:
    await make_pool(store, "by-role")
    await make_pool(store, "by-channel", role_id=None, channel_id=CHANNEL)
    names = [u.pool.name for u in await store.pools.usable(GUILD, PoolAccess((ROLE,), (1,)))]
    assert names == ["by-role"]
    thread_in_channel = PoolAccess((), (555, CHANNEL))  # a thread's id and its parent channel
    assert [u.pool.name for u in await store.pools.usable(GUILD, thread_in_channel)] == ["by-channel"]
    assert await store.pools.usable(GUILD, PoolAccess((1,), (2,))) == []
    assert await store.pools.usable(GUILD + 1, TEAM) == []  # another server's pools are not ours


# ---------------------------------------------------------------------------------- the ledger


async def test_a_named_pool_pays_and_the_member_keeps_their_credits(store: Storage) -> None:
    pool_id = await make_pool(store)
    task = await store.quota.reserve(new_task(cost_tenths=20), role_ids=(ROLE,), pool="team", now=T0)
    assert (task.pool_id, task.pool_name) == (pool_id, "team")
    assert await pool_used(store) == 20
    assert (await store.quota.usage(GUILD, USER, now=T0)).used_tenths == 0
    assert (await store.quota.guild_usage(GUILD, now=T0)).used_tenths == 20  # the cap counts it
    await deliver(store, task.id)
    await deliver_again_is_refused(store, task.id)
    assert await pool_used(store) == 20
    assert await ledger_rows(store) == [(task.id, "reserve", 20, pool_id), (task.id, "charge", 20, pool_id)]


async def deliver_again_is_refused(store: Storage, task_id: int) -> None:
    with pytest.raises(IllegalTransition):
        await store.tasks.transition(task_id, TaskState.DELIVERED, now=T0 + 2)


async def test_a_failure_refunds_the_pool_once(store: Storage) -> None:
    pool_id = await make_pool(store)
    task = await store.quota.reserve(new_task(cost_tenths=30), role_ids=(ROLE,), pool="team", now=T0)
    await store.tasks.transition(task.id, TaskState.FAILED, now=T0 + 1)
    assert await store.quota.refund(task.id) is False  # already refunded, not twice
    assert await pool_used(store) == 0
    assert (await store.quota.usage(GUILD, USER, now=T0)).used_tenths == 0
    assert await ledger_rows(store) == [(task.id, "reserve", 30, pool_id), (task.id, "refund", 30, pool_id)]


async def test_a_pool_the_member_may_not_use_is_refused_and_nothing_is_written(store: Storage) -> None:
    await make_pool(store)
    with pytest.raises(PoolNotUsable) as refused:
        await store.quota.reserve(new_task(), role_ids=(1,), pool="team", now=T0)
    assert (refused.value.exists, refused.value.role_id) == (True, ROLE)
    with pytest.raises(PoolNotUsable) as unknown:
        await store.quota.reserve(new_task(), role_ids=(ROLE,), pool="nope", now=T0)
    assert unknown.value.exists is False
    assert await ledger_rows(store) == []
    assert await store.tasks.list_for_guild(GUILD) == []


async def test_an_exhausted_named_pool_is_refused_personal_credits_untouched(store: Storage) -> None:
    await make_pool(store, tenths=10)
    await store.quota.reserve(new_task(), role_ids=(ROLE,), pool="team", now=T0)
    with pytest.raises(PoolExhausted) as refused:
        await store.quota.reserve(new_task(), role_ids=(ROLE,), pool="team", now=T0)
    assert (refused.value.used_tenths, refused.value.limit_tenths, refused.value.period) == (10, 10, "week")
    assert refused.value.resets_at == utc(2024, 5, 20)  # the next Monday, UTC
    assert (await store.quota.usage(GUILD, USER, now=T0)).used_tenths == 0


async def test_without_a_name_personal_credits_first_then_pools_by_name(store: Storage) -> None:
    await make_pool(store, "zeta", tenths=10)
    await make_pool(store, "alpha", tenths=10)
    paid = []
    for _ in range(8):  # 5 personal credits a day, then alpha, then zeta, then nothing
        try:
            task = await store.quota.reserve(new_task(), role_ids=(ROLE,), now=T0)
        except QuotaExceeded as exc:
            assert exc.pools == ("alpha", "zeta")
            paid.append("refused")
            continue
        paid.append(task.pool_name or "personal")
    assert paid == ["personal"] * 5 + ["alpha", "zeta", "refused"]


async def test_a_default_pool_comes_before_personal_credits(store: Storage) -> None:
    await make_pool(store, "alpha", tenths=10)
    await make_pool(store, "zeta", tenths=10)
    assert (await store.pools.set_default(GUILD, USER, "zeta")) is not None
    assert (await store.pools.default(GUILD, USER)) is not None
    first = await store.quota.reserve(new_task(), role_ids=(ROLE,), now=T0)
    second = await store.quota.reserve(new_task(), role_ids=(ROLE,), now=T0)
    assert (first.pool_name, second.pool_name) == ("zeta", None)
    # Without the role the default pool is not theirs to use: their own credits pay.
    third = await store.quota.reserve(new_task(), role_ids=(), now=T0)
    assert third.pool_name is None
    await store.pools.delete(GUILD, "zeta", actor_id=MOD)
    assert await store.pools.default(GUILD, USER) is None


async def test_the_guild_cap_and_the_bot_ceiling_still_apply_to_pools(store: Storage) -> None:
    await make_pool(store, tenths=100)
    await store.policy.update(GUILD, cap_tenths=10, actor_id=MOD)
    await store.quota.reserve(new_task(), role_ids=(ROLE,), pool="team", now=T0)
    with pytest.raises(GuildCapReached):
        await store.quota.reserve(new_task(), role_ids=(ROLE,), pool="team", now=T0)
    await store.policy.update(GUILD, cap_tenths=None, actor_id=MOD)
    with pytest.raises(SpendLimitReached):
        await store.quota.reserve(
            new_task(), role_ids=(ROLE,), pool="team", now=T0, spend_ceiling=SpendCeiling(10, "day")
        )
    assert await pool_used(store) == 10


async def test_a_pool_renews_in_its_own_period(store: Storage) -> None:
    await make_pool(store, tenths=10, period="week")
    await store.quota.reserve(new_task(), role_ids=(ROLE,), pool="team", now=T0)
    sunday = utc(2024, 5, 19, 23, 59)
    with pytest.raises(PoolExhausted):
        await store.quota.reserve(new_task(), role_ids=(ROLE,), pool="team", now=sunday)
    monday = utc(2024, 5, 20, 0, 1)
    assert (await store.quota.reserve(new_task(), role_ids=(ROLE,), pool="team", now=monday)).pool_name
    assert await pool_used(store, now=monday) == 10


async def test_settlement_after_a_restart_and_after_deletion_goes_to_the_pool(backend: str | Path) -> None:
    store = await Storage.open(backend, default_limit_tenths=50)
    try:
        pool_id = await make_pool(store, tenths=50)
        failing = await store.quota.reserve(new_task(cost_tenths=20), role_ids=(ROLE,), pool="team", now=T0)
        delivered = await store.quota.reserve(new_task(cost_tenths=10), role_ids=(ROLE,), pool="team", now=T0)
    finally:
        await store.close()
    store = await Storage.open(backend, default_limit_tenths=50)  # a restart: nothing in memory
    try:
        await store.pools.delete(GUILD, "team", actor_id=MOD)
        await store.tasks.transition(failing.id, TaskState.FAILED, now=T0 + 1)
        await deliver(store, delivered.id)
        reloaded = await store.tasks.get(failing.id)
        assert (reloaded.pool_id, reloaded.pool_name) == (pool_id, "team")
        assert await ledger_rows(store) == [
            (failing.id, "reserve", 20, pool_id),
            (delivered.id, "reserve", 10, pool_id),
            (failing.id, "refund", 20, pool_id),
            (delivered.id, "charge", 10, pool_id),
        ]
        assert (await store.quota.usage(GUILD, USER, now=T0)).used_tenths == 0
    finally:
        await store.close()


# ---------------------------------------------------------------------------------- concurrency

N, K = 50, 17


async def race(stores: list[Storage], pool: str | None) -> list[int]:
    async def one(i: int) -> int | None:
        task = new_task(user_id=USER + i, cost_tenths=10)  # many members, one pool
        try:
            return (await stores[i % len(stores)].quota.reserve(task, role_ids=(ROLE,), pool=pool, now=T0)).id
        except (PoolExhausted, QuotaExceeded):
            return None

    results = await asyncio.gather(*(one(i) for i in range(N)))
    return [r for r in results if r is not None]


async def check_exact(store: Storage, accepted: list[int], pool_id: int) -> None:
    async with store.db.read() as conn:
        rows = await fetch_all(
            conn, "SELECT kind, pool_id, COUNT(*), SUM(tenths) FROM ledger GROUP BY kind, pool_id"
        )
    assert [tuple(r) for r in rows] == [("reserve", pool_id, K, K * 10)]
    assert await pool_used(store) == K * 10
    assert sorted(t.id for t in await store.tasks.list_for_guild(GUILD, limit=1000)) == sorted(accepted)


@pytest.mark.parametrize("connections", [1, 2])
async def test_fifty_at_once_against_a_pool_of_k_accept_exactly_k(
    backend: str | Path, connections: int
) -> None:
    stores = [await Storage.open(backend, default_limit_tenths=0) for _ in range(connections)]
    try:
        pool_id = await make_pool(stores[0], tenths=K * 10)
        accepted = await race(stores, "team")
        assert len(accepted) == K
        await check_exact(stores[-1], accepted, pool_id)
    finally:
        for store in stores:
            await store.close()


async def test_fifty_at_once_falling_back_to_a_pool_accept_exactly_k(backend: str | Path) -> None:
    """No personal credits (limit 0): every request falls through to the member's pool."""
    stores = [await Storage.open(backend, default_limit_tenths=0) for _ in range(2)]
    try:
        pool_id = await make_pool(stores[0], tenths=K * 10)
        accepted = await race(stores, None)
        assert len(accepted) == K
        await check_exact(stores[0], accepted, pool_id)
    finally:
        for store in stores:
            await store.close()
