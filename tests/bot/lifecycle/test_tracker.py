"""The poller: it waits while queries are in flight, polls only what is still due, and spends one
budget token per request it sends."""

from __future__ import annotations

from typing import Any

from storage import Task, TaskState
from tests.builders import make_new_task
from tests.fakes.lifecycle_harness import Harness


async def _submitted(harness: Harness, *, next_poll_at: float) -> Task:
    new = make_new_task(prompt="a kite over the dunes")
    task = await harness.storage.quota.reserve(new)
    await harness.storage.tasks.transition(task.id, TaskState.SUBMITTING, attempts=1)
    api_id = "106916112212032"
    return await harness.storage.tasks.transition(
        task.id, TaskState.SUBMITTED, api_task_id=api_id, next_poll_at=next_poll_at
    )


async def test_a_slow_query_does_not_make_the_poller_spin(harness: Harness) -> None:
    """While a task is queried its stored next poll stays due; the loop must wait, not re-read."""
    service = await harness.start()
    calls = 0
    due_for_poll = harness.storage.tasks.due_for_poll

    async def counting(*args: Any, **kwargs: Any) -> list[Task]:
        nonlocal calls
        calls += 1
        return await due_for_poll(*args, **kwargs)

    harness.storage.tasks.due_for_poll = counting  # type: ignore[method-assign]
    harness.fake.inject("query", "slow", delay=0.5)
    task = await service.request(harness.request())
    await harness.fake.wait_for_count("query", 1)
    during = calls
    await harness.wait_state(task.id, [TaskState.DOWNLOADING, TaskState.DELIVERING, TaskState.DELIVERED])
    # A spinning loop reads the due list thousands of times in half a second; a waiting one once or twice.
    assert calls - during <= 5, f"{calls - during} reads of the due list during one slow query"
    assert (await harness.wait_final(task.id)).state is TaskState.DELIVERED


async def test_a_task_polled_meanwhile_is_not_polled_again_from_a_stale_list(harness: Harness) -> None:
    service = harness.new_service()
    now = service.deps.now()
    stale = await _submitted(harness, next_poll_at=now - 5)
    # Meanwhile another poll answered and moved its next query into the future.
    await harness.storage.tasks.update_fields(stale.id, next_poll_at=now + 300)
    tracker = service.tracker
    await tracker._slots.acquire()  # what _poll_due does before handing the task over
    tracker._in_flight.add(stale.id)
    await tracker._poll_released(stale)
    assert harness.fake.counts["query"] == 0
    assert not tracker._in_flight
    # Once it is really due, the stored (fresh) task is polled.
    await harness.storage.tasks.update_fields(stale.id, next_poll_at=now - 1)
    await tracker._slots.acquire()
    tracker._in_flight.add(stale.id)
    await tracker._poll_released(stale)
    assert harness.fake.counts["query"] == 1


async def test_every_query_and_retrieve_request_spends_a_budget_token(harness: Harness) -> None:
    """The client must not retry inside one token: the poller's and the delivery's backoff do."""
    harness.fake.inject("query", 503, times=2)
    harness.fake.inject("retrieve", 503, times=1)
    service = await harness.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED
    requests = harness.fake.counts["query"] + harness.fake.counts["retrieve"]
    assert requests >= 5  # the three errors were retried
    assert requests == service.deps.budget.spent
