"""Leases and the shared limits, on both engines: one owner per task, expiry, renewal, take-over."""

from __future__ import annotations

import asyncio

import pytest

from storage import EVERY_LEASE, LeaseLost, Storage, Task, TaskState

T0 = 1_715_774_400.0
GUILD, USER = 1000, 3000
A, B = "process-a", "process-b"


@pytest.fixture
async def store(backend):
    storage = await Storage.open(backend, default_limit_tenths=1_000_000)
    try:
        yield storage
    finally:
        await storage.close()


async def queued(store: Storage, make_task, **overrides) -> Task:
    return await store.quota.reserve(make_task(**overrides), now=T0)


async def submitted(store: Storage, make_task, owner: str) -> Task:
    task = await queued(store, make_task)
    assert await store.leases.claim(task.id, owner, now=T0, until=T0 + 30)
    await store.tasks.transition(task.id, TaskState.SUBMITTING, now=T0, lease_owner=owner)
    return await store.tasks.transition(task.id, TaskState.SUBMITTED, now=T0, api_task_id=f"api-{task.id}")


async def test_two_owners_never_hold_the_same_task(store: Storage, make_task) -> None:
    task = await queued(store, make_task)
    assert await store.leases.claim(task.id, A, now=T0, until=T0 + 30)
    assert not await store.leases.claim(task.id, B, now=T0 + 1, until=T0 + 31)
    assert await store.leases.holder(task.id) == (A, T0 + 30)
    # The holder claiming again renews it.
    assert await store.leases.claim(task.id, A, now=T0 + 2, until=T0 + 32)
    assert await store.leases.holder(task.id) == (A, T0 + 32)


async def test_racing_claims_have_exactly_one_winner(store: Storage, make_task) -> None:
    tasks = [await queued(store, make_task) for _ in range(5)]
    owners = [f"owner-{i}" for i in range(6)]
    for task in tasks:
        wins = await asyncio.gather(
            *(store.leases.claim(task.id, owner, now=T0, until=T0 + 30) for owner in owners)
        )
        assert sum(wins) == 1


async def test_an_expired_lease_lets_another_take_the_task(store: Storage, make_task) -> None:
    task = await submitted(store, make_task, A)
    assert not await store.leases.claim_orphans(B, now=T0 + 29, until=T0 + 60)
    taken = await store.leases.claim_orphans(B, now=T0 + 31, until=T0 + 61)
    assert [t.id for t in taken] == [task.id]
    assert taken[0].state is TaskState.SUBMITTED
    assert await store.leases.holder(task.id) == (B, T0 + 61)
    # The old owner wakes up: its lease is gone, and a renewal does not bring it back.
    assert await store.leases.renew(A, until=T0 + 90) == 0
    assert not await store.leases.claim(task.id, A, now=T0 + 32, until=T0 + 62)


async def test_renewal_keeps_the_tasks_of_a_live_owner(store: Storage, make_task) -> None:
    first = await submitted(store, make_task, A)
    second = await submitted(store, make_task, A)
    assert await store.leases.renew(A, until=T0 + 100) == 2
    assert not await store.leases.claim_orphans(B, now=T0 + 60, until=T0 + 120)
    assert await store.leases.held_by(A) == [first.id, second.id]


async def test_final_tasks_hold_no_lease(store: Storage, make_task) -> None:
    task = await submitted(store, make_task, A)
    await store.tasks.transition(task.id, TaskState.FAILED, now=T0, error_code="x")
    assert await store.leases.renew(A, until=T0 + 100) == 0
    assert not await store.leases.claim(task.id, B, now=T0 + 100, until=T0 + 130)
    assert await store.leases.held_by(A) == []


async def test_orphans_include_working_tasks_nobody_leased(store: Storage, make_task) -> None:
    waiting = await queued(store, make_task)  # the shared queue's: nobody needs to own it
    working = await submitted(store, make_task, A)
    await store.leases.release(working.id, A)  # as a task from before leases, or resumed by a moderator
    taken = await store.leases.claim_orphans(B, now=T0, until=T0 + 30)
    assert [t.id for t in taken] == [working.id]
    assert await store.leases.holder(waiting.id) == (None, None)


async def test_everything_takes_every_unfinished_task(store: Storage, make_task) -> None:
    waiting = await queued(store, make_task)
    popped = await queued(store, make_task)
    assert await store.leases.claim(popped.id, A, now=T0, until=T0 + 30)
    working = await submitted(store, make_task, A)
    done = await submitted(store, make_task, A)
    await store.tasks.transition(done.id, TaskState.FAILED, now=T0, error_code="x")
    taken = await store.leases.claim_orphans(B, now=EVERY_LEASE, until=T0 + 30, everything=True)
    assert [t.id for t in taken] == [waiting.id, popped.id, working.id]
    # The queued ones go back to the shared queue; the working one stays B's.
    assert await store.leases.release_queued(B) == 2
    assert await store.leases.held_by(B) == [working.id]


async def test_the_move_to_submitting_checks_the_lease(store: Storage, make_task) -> None:
    task = await queued(store, make_task)
    assert await store.leases.claim(task.id, A, now=T0, until=T0 + 30)
    with pytest.raises(LeaseLost):
        await store.tasks.transition(task.id, TaskState.SUBMITTING, now=T0, lease_owner=B)
    assert (await store.tasks.get(task.id)).state is TaskState.QUEUED
    moved = await store.tasks.transition(task.id, TaskState.SUBMITTING, now=T0, lease_owner=A)
    assert moved.state is TaskState.SUBMITTING


async def test_release_all_frees_an_owner_s_tasks(store: Storage, make_task) -> None:
    task = await submitted(store, make_task, A)
    assert await store.leases.release_all(A) == 1
    assert await store.leases.claim(task.id, B, now=T0, until=T0 + 30)


async def test_the_open_queue_leaves_out_tasks_other_owners_hold(store: Storage, make_task) -> None:
    free = await queued(store, make_task)
    mine = await queued(store, make_task)
    theirs = await queued(store, make_task)
    await store.leases.claim(mine.id, A, now=T0, until=T0 + 30)
    await store.leases.claim(theirs.id, B, now=T0, until=T0 + 30)
    opened = await store.leases.open_queue(A, now=T0 + 1)
    assert [t.task_id for t in opened.tasks] == [free.id]
    assert opened.mine == (mine.id,)
    assert opened.max_task_id == theirs.id
    later = await store.leases.open_queue(A, now=T0 + 31)  # B's lease ran out
    assert [t.task_id for t in later.tasks] == [free.id, theirs.id]


async def test_a_job_lease_has_one_holder_until_it_expires(store: Storage) -> None:
    assert await store.leases.claim_job("repair", A, now=T0, until=T0 + 30)
    assert not await store.leases.claim_job("repair", B, now=T0 + 10, until=T0 + 40)
    assert await store.leases.claim_job("repair", A, now=T0 + 10, until=T0 + 40)
    assert await store.leases.claim_job("repair", B, now=T0 + 41, until=T0 + 70)
    await store.leases.release_job("repair", B)
    assert await store.leases.claim_job("repair", A, now=T0 + 42, until=T0 + 70)


# ------------------------------------------------------------------------------ shared limits


async def test_the_window_admits_limit_uses_then_says_how_long(store: Storage) -> None:
    rates = store.rates
    assert [await rates.take_slot("submit", limit=3, window=60, now=T0 + i) for i in range(3)] == [0, 0, 0]
    assert await rates.take_slot("submit", limit=3, window=60, now=T0 + 10) == pytest.approx(50)
    assert await rates.take_slot("submit", limit=3, window=60, now=T0 + 60.5) == 0
    assert await rates.stamps("submit") == [T0 + 1, T0 + 2, T0 + 60.5]


async def test_racing_window_takers_never_pass_the_limit(store: Storage) -> None:
    results = await asyncio.gather(
        *(store.rates.take_slot("submit", limit=4, window=60, now=T0) for _ in range(12))
    )
    assert sum(1 for wait in results if wait == 0) == 4


async def test_a_block_holds_the_window_and_the_bucket(store: Storage) -> None:
    rates = store.rates
    await rates.block("submit", until=T0 + 20, now=T0)
    assert await rates.take_slot("submit", limit=3, window=60, now=T0 + 5) == pytest.approx(15)
    assert await rates.take_slot("submit", limit=3, window=60, now=T0 + 20) == 0
    assert await rates.take_token("query", per_second=1, capacity=2, now=T0) == 0
    await rates.block("query", until=T0 + 10, now=T0)
    assert await rates.take_token("query", per_second=1, capacity=2, now=T0 + 5) == pytest.approx(5)


async def test_a_block_of_tokens_takes_what_the_bucket_holds_in_one_write(store: Storage) -> None:
    rates = store.rates
    assert await rates.take_tokens("query", per_second=10, capacity=25, now=T0, most=10) == (10, 0)
    assert await rates.take_tokens("query", per_second=10, capacity=25, now=T0, most=10) == (10, 0)
    assert await rates.take_tokens("query", per_second=10, capacity=25, now=T0, most=10) == (5, 0)
    taken, wait = await rates.take_tokens("query", per_second=10, capacity=25, now=T0, most=10)
    assert taken == 0 and wait == pytest.approx(0.1)
    # Half a second later: five whole tokens back, and a single take spends one of them.
    assert await rates.take_tokens("query", per_second=10, capacity=25, now=T0 + 0.5, most=10) == (5, 0)
    await rates.block("query", until=T0 + 3, now=T0 + 0.5)
    taken, wait = await rates.take_tokens("query", per_second=10, capacity=25, now=T0 + 1, most=10)
    assert taken == 0 and wait == pytest.approx(2)


async def test_racing_block_takers_never_take_more_than_the_bucket_holds(store: Storage) -> None:
    results = await asyncio.gather(
        *(store.rates.take_tokens("query", per_second=1, capacity=20, now=T0, most=3) for _ in range(12))
    )
    assert sum(taken for taken, _ in results) == 20
    assert all(wait > 0 for taken, wait in results if taken == 0)


async def test_the_bucket_refills_at_its_rate(store: Storage) -> None:
    rates = store.rates
    waits = [await rates.take_token("query", per_second=2, capacity=2, now=T0) for _ in range(3)]
    assert waits[:2] == [0, 0]
    assert waits[2] == pytest.approx(0.5)
    assert await rates.take_token("query", per_second=2, capacity=2, now=T0 + 0.5) == 0
