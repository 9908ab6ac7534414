"""The submitter: an unexpected error never strands a task, and nothing waits between marking a task
``submitting`` and sending it."""

from __future__ import annotations

from typing import Any

from bot.lifecycle.submitter import MAX_SUBMIT_ATTEMPTS
from bot.spec import VideoSpec
from storage import Task, TaskState
from tests.fakes.lifecycle_harness import Harness


async def _started_with(harness: Harness, build: Any) -> Any:
    """A service whose request building is replaced by ``build(original, task)``."""
    service = harness.new_service()
    original = service.submitter._build_request

    async def patched(task: Task) -> VideoSpec:
        return await build(original, task)  # type: ignore[no-any-return]

    service.submitter._build_request = patched  # type: ignore[method-assign]
    harness.service = service
    await service.start()
    return service


async def test_an_unexpected_error_before_sending_queues_the_task_again(harness: Harness) -> None:
    calls = 0

    async def flaky(original: Any, task: Task) -> VideoSpec:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("a bug while preparing the request")
        return await original(task)  # type: ignore[no-any-return]

    service = await _started_with(harness, flaky)
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id, within=5)
    assert done.state is TaskState.DELIVERED and calls == 2
    assert harness.fake.counts["submit"] == 1
    assert await harness.ledger(task.id) == ["reserve", "charge"]


async def test_a_task_that_always_crashes_is_failed_and_refunded(harness: Harness) -> None:
    calls = 0

    async def broken(original: Any, task: Task) -> VideoSpec:
        nonlocal calls
        calls += 1
        raise RuntimeError("a bug that does not go away")

    service = await _started_with(harness, broken)
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id, within=5)
    assert done.state is TaskState.FAILED and calls == MAX_SUBMIT_ATTEMPTS
    assert harness.fake.counts["submit"] == 0
    assert await harness.ledger(task.id) == ["reserve", "refund"]
    assert "refunded" in harness.notifier.failures_for(task.id)[0]


async def test_nothing_is_read_between_marking_submitting_and_sending(harness: Harness) -> None:
    """A crash in that window turns a task the API never saw into an "unknown": keep it empty."""
    events: list[str] = []
    service = harness.new_service()
    tasks = harness.storage.tasks
    transition, get, median = tasks.transition, tasks.get, tasks.generation_history

    async def recording_transition(task_id: int, to: TaskState, **kwargs: Any) -> Task:
        moved = await transition(task_id, to, **kwargs)
        if to is TaskState.SUBMITTING:
            service.deps.expectations._cache.clear()  # as after a long wait in the queue
        events.append(f"transition:{to}")
        return moved

    async def recording_get(task_id: int) -> Task:
        events.append("get")
        return await get(task_id)

    async def recording_median(*args: Any, **kwargs: Any) -> Any:
        events.append("median")
        return await median(*args, **kwargs)

    tasks.transition = recording_transition  # type: ignore[method-assign]
    tasks.get = recording_get  # type: ignore[method-assign]
    tasks.generation_history = recording_median  # type: ignore[method-assign]
    submit = service.deps.client.submit

    async def recording_submit(request: VideoSpec, **kwargs: Any) -> str:
        events.append("submit")
        return await submit(request, **kwargs)

    service.deps.client.submit = recording_submit  # type: ignore[method-assign]
    harness.service = service
    await service.start()
    task = await service.request(harness.request())
    assert (await harness.wait_final(task.id)).state is TaskState.DELIVERED
    marked = events.index("transition:submitting")
    assert events[marked + 1] == "submit", events[marked : marked + 4]
