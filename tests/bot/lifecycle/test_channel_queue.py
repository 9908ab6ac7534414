"""`/video queue`'s view of a channel: running first, then waiting in order; private tasks only counted."""

from __future__ import annotations

from storage import TaskState
from tests.fakes.lifecycle_harness import CHANNEL, OTHER_USER, USER, Harness


async def test_waiting_tasks_in_queue_order_with_places_and_etas(harness: Harness) -> None:
    service = harness.new_service()  # not started: every task stays in line
    await service.update_preferences(OTHER_USER, dm_results=True)
    first = await service.request(harness.request(prompt="first"))
    await service.request(harness.request(user_id=OTHER_USER, prompt="a secret"))
    elsewhere = await service.request(harness.request(channel_id=CHANNEL + 1, prompt="elsewhere"))
    third = await service.request(harness.request(prompt="third"))
    shown = dict(service.cards._shown)
    queue = await service.channel_queue(CHANNEL)
    assert [(r.task.id, r.position) for r in queue.rows] == [(first.id, 1), (third.id, 4)]
    assert queue.private_count == 1 and queue.total == 3
    assert all(r.eta is not None for r in queue.rows)
    assert queue.rows[0].eta < queue.rows[1].eta  # type: ignore[operator]
    assert [r.task.id for r in (await service.channel_queue(CHANNEL + 1)).rows] == [elsewhere.id]
    # Asking does not disturb the status cards' bookkeeping of what each card shows.
    assert service.cards._shown == shown


async def test_running_tasks_come_first_and_finished_ones_leave(harness: Harness) -> None:
    harness.fake.never_finish_next_task()
    service = await harness.start()
    running = await service.request(harness.request(prompt="running"))
    await harness.wait_state(running.id, [TaskState.SUBMITTED, TaskState.PROCESSING])
    done = await service.request(harness.request(prompt="quick"))
    await harness.wait_final(done.id)
    queue = await service.channel_queue(CHANNEL)
    assert [r.task.id for r in queue.rows] == [running.id]
    assert queue.rows[0].position is None and queue.rows[0].task.user_id == USER
