"""Restart recovery: every unfinished state resumes safely, never delivers twice, never charges twice."""

from __future__ import annotations

import pytest

from bot.lifecycle.queue import FairQueue, QueueEntry
from storage import Task, TaskState
from tests.builders import make_new_task, sent_spec
from tests.fakes.lifecycle_harness import GUILD, Harness
from tests.fakes.recording_notifier import PostedResult


async def _reserved(harness: Harness, prompt: str = "a lighthouse in a storm") -> Task:
    new = make_new_task(prompt=prompt)
    task = await harness.storage.quota.reserve(new)
    return await harness.storage.tasks.update_fields(task.id, status_message_id=5550 + task.id)


async def _api_task(harness: Harness, prompt: str) -> str:
    return await harness.client.submit(
        sent_spec(model="MiniMax-Hailuo-2.3", prompt=prompt, duration=6, resolution="768P")
    )


async def _submitted(harness: Harness, *, processing: bool = False) -> Task:
    task = await _reserved(harness)
    await harness.storage.tasks.transition(task.id, TaskState.SUBMITTING, attempts=1)
    api_id = await _api_task(harness, task.prompt)
    task = await harness.storage.tasks.transition(task.id, TaskState.SUBMITTED, api_task_id=api_id)
    if processing:
        task = await harness.storage.tasks.transition(task.id, TaskState.PROCESSING, progress=40)
    return task


async def _downloading(harness: Harness) -> Task:
    task = await _submitted(harness)
    harness.fake.finish_all()
    assert task.api_task_id is not None
    info = await harness.client.query(task.api_task_id)
    return await harness.storage.tasks.transition(task.id, TaskState.DOWNLOADING, file_id=info.file_id)


async def _assert_delivered_once(harness: Harness, task_id: int) -> None:
    done = await harness.wait_final(task_id)
    assert done.state is TaskState.DELIVERED
    assert len(harness.notifier.results_for(task_id)) == 1
    assert done.result_message_id == harness.notifier.results_for(task_id)[0].message_id
    assert await harness.ledger(task_id) == ["reserve", "charge"]
    # A second restart finds nothing to do and changes nothing.
    await harness.start()
    await harness.stop()
    assert len(harness.notifier.results_for(task_id)) == 1
    assert await harness.ledger(task_id) == ["reserve", "charge"]


async def test_queued_task_without_a_card_gets_one_and_is_delivered(harness: Harness) -> None:
    new = make_new_task(prompt="queued before the crash")
    task = await harness.storage.quota.reserve(new)
    await harness.start()
    await _assert_delivered_once(harness, task.id)
    assert [c.task.id for c in harness.notifier.cards] == [task.id]
    assert harness.fake.counts["submit"] == 1


async def test_submitting_task_becomes_unknown_and_is_not_resubmitted(harness: Harness) -> None:
    task = await _reserved(harness)
    await harness.storage.tasks.transition(task.id, TaskState.SUBMITTING, attempts=1)
    await harness.start()
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.UNKNOWN
    assert harness.fake.counts["submit"] == 0
    assert len(harness.notifier.failures_for(task.id)) == 1
    assert await harness.ledger(task.id) == ["reserve"]
    await harness.start()  # restart again: still unknown, the member is not told twice
    await harness.stop()
    assert len(harness.notifier.failures_for(task.id)) == 1


async def test_submitted_task_is_polled_and_delivered(harness: Harness) -> None:
    task = await _submitted(harness)
    await harness.start()
    await _assert_delivered_once(harness, task.id)
    assert harness.fake.counts["submit"] == 1, "only the original submit"


async def test_processing_task_is_polled_and_delivered(harness: Harness) -> None:
    task = await _submitted(harness, processing=True)
    await harness.start()
    await _assert_delivered_once(harness, task.id)
    assert harness.fake.counts["submit"] == 1


async def test_downloading_task_is_downloaded_again_and_posted(harness: Harness) -> None:
    task = await _downloading(harness)
    queries = harness.fake.counts["query"]
    await harness.start()
    await _assert_delivered_once(harness, task.id)
    assert harness.fake.counts["query"] == queries, "no need to ask the API again"
    assert harness.fake.counts["retrieve"] >= 1


async def test_delivering_task_already_posted_is_recorded_without_reposting(harness: Harness) -> None:
    task = await _downloading(harness)
    task = await harness.storage.tasks.transition(task.id, TaskState.DELIVERING)
    # The crash came after Discord accepted the post but before it was recorded.
    harness.notifier.results.append(PostedResult(777, task.id, False, b"video", None, None, "v.mp4"))
    downloads = harness.fake.counts["download"]
    await harness.start()
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED and done.result_message_id == 777
    assert len(harness.notifier.results_for(task.id)) == 1
    assert harness.fake.counts["download"] == downloads
    assert await harness.ledger(task.id) == ["reserve", "charge"]


async def test_delivering_task_not_yet_posted_is_posted_once(harness: Harness) -> None:
    task = await _downloading(harness)
    await harness.storage.tasks.transition(task.id, TaskState.DELIVERING)
    await harness.start()
    await _assert_delivered_once(harness, task.id)
    assert f"find_result:{task.id}" in harness.notifier.calls


async def test_unknown_task_is_left_for_a_moderator(harness: Harness) -> None:
    task = await _reserved(harness)
    await harness.storage.tasks.transition(task.id, TaskState.SUBMITTING)
    await harness.storage.tasks.transition(task.id, TaskState.UNKNOWN)
    await harness.start()
    await harness.stop()
    assert (await harness.storage.tasks.get(task.id)).state is TaskState.UNKNOWN
    assert harness.fake.counts["submit"] == 0
    # Parked without a notice (a crash right after the write): the restart tells the member, once.
    assert [t for t, _ in harness.notifier.failures] == [task.id]
    await harness.start()
    await harness.stop()
    assert [t for t, _ in harness.notifier.failures] == [task.id]


async def test_mixed_restart_resumes_everything(harness: Harness) -> None:
    queued = await _reserved(harness, "q")
    submitted = await _submitted(harness)
    downloading = await _downloading(harness)
    await harness.start()
    for task in (queued, submitted, downloading):
        done = await harness.wait_final(task.id)
        assert done.state is TaskState.DELIVERED
        assert len(harness.notifier.results_for(task.id)) == 1
        assert await harness.ledger(task.id) == ["reserve", "charge"]


async def test_a_task_waiting_for_its_submit_slot_stays_queued_and_survives_a_restart(
    harness: Harness,
) -> None:
    harness.client = harness.make_client(rpm=1)
    service = await harness.start()
    first = await service.request(harness.request(prompt="the first video of the minute"))
    await harness.wait_final(first.id)
    second = await service.request(harness.request(prompt="the second one waits a minute"))
    await harness.fake.wait_for_count("submit", 1)
    # It waits for the limiter while still queued: nothing was sent, so nothing is uncertain.
    assert (await harness.storage.tasks.get(second.id)).state is TaskState.QUEUED
    await harness.stop()
    assert (await harness.storage.tasks.get(second.id)).state is TaskState.QUEUED
    harness.client = harness.make_client(rpm=1000)
    await harness.start()
    await _assert_delivered_once(harness, second.id)
    assert harness.fake.counts["submit"] == 2


async def test_a_rate_limited_submit_is_queued_again_not_left_submitting(harness: Harness) -> None:
    harness.fake.inject("submit", 429, retry_after=0.05)
    service = await harness.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED and done.attempts == 2
    assert harness.fake.counts["submit"] == 2 and len(harness.fake.tasks) == 1
    assert await harness.ledger(task.id) == ["reserve", "charge"]


async def test_a_card_left_stale_is_repaired_at_the_next_start(harness: Harness) -> None:
    harness.notifier.refuse_edits = 10_000  # as if every edit (or the bot, before it) failed
    service = await harness.start()
    task = await service.request(harness.request())
    await harness.wait_final(task.id)
    await harness.stop()
    assert harness.notifier.last_edit(task.id) is None
    harness.notifier.refuse_edits = 0
    await harness.start()
    await harness.notifier.wait_for(
        lambda: (
            (card := harness.notifier.last_edit(task.id)) is not None
            and card.task.state is TaskState.DELIVERED
        )
    )
    assert len(harness.notifier.results_for(task.id)) == 1, "repairing a card never reposts the video"


async def test_a_refused_final_edit_is_retried(harness: Harness) -> None:
    service = await harness.start()
    task = await service.request(harness.request())
    await harness.wait_final(task.id)
    await service.deps.updater.wait_idle()
    harness.notifier.refuse_edits = 2
    failed_again = await harness.storage.tasks.get(task.id)
    await service.cards.refresh(failed_again, note="final words")
    await harness.notifier.wait_for(
        lambda: (card := harness.notifier.last_edit(task.id)) is not None and card.note == "final words"
    )
    assert harness.notifier.refuse_edits == 0


async def test_a_restart_with_a_long_queue_walks_it_a_few_times_not_once_per_card(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refilling used to be O(n²): every recovered card re-read every position (20,000 queued
    tasks blocked the event loop for 19 s). The figures are in bench/bench_queue.py."""
    service = harness.new_service(default_quota_tenths=1_000_000)
    tasks = [await service.request(harness.request(prompt=f"clip {n}")) for n in range(60)]
    await service.cards.settle_queue_refresh()
    walks = 0
    order = FairQueue.order

    def counting(queue: FairQueue) -> list[QueueEntry]:
        nonlocal walks
        walks += 1
        return order(queue)

    await harness.storage.policy.pause(GUILD, "maintenance", actor_id=1)  # nothing leaves the queue
    monkeypatch.setattr(FairQueue, "order", counting)
    restarted = await harness.start(default_quota_tenths=1_000_000)
    assert walks <= 3
    assert restarted.deps.queue.positions() == {task.id: n for n, task in enumerate(tasks, start=1)}
