"""Faults that are not the API's answer: a gateway's ambiguous 5xx on submit, a full disk while
downloading, a locked database while recording a delivery. None may strand a task, resend a submit
or post a video twice."""

from __future__ import annotations

import asyncio
import errno
import os
import time
from pathlib import Path
from typing import Any

import pytest

from bot.minimax.errors import DownloadError
from storage import DatabaseError, TaskState
from tests.fakes.lifecycle_harness import Harness


@pytest.mark.parametrize(
    ("status", "body"),
    [(501, None), (520, None), (524, None), (500, None), (500, ""), (502, None), (502, ""), (503, None)],
)
async def test_an_ambiguous_gateway_error_on_submit_is_never_sent_again(
    harness: Harness, status: int, body: str | None
) -> None:
    """A 524 means the origin got the submit and did not answer in time: a task (and a bill) may exist.
    So may a 500 or 502 (with or without a page): a gateway may have passed the submit on first."""
    harness.fake.inject("submit", status, message=body)
    service = await harness.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.UNKNOWN
    assert harness.fake.counts["submit"] == 1
    assert await harness.ledger(task.id) == ["reserve"]  # held until a moderator decides


@pytest.mark.parametrize(("status", "body"), [(503, ""), (429, None)])
async def test_a_submit_that_certainly_created_nothing_is_sent_again(
    harness: Harness, status: int, body: str | None
) -> None:
    """A bare 503 (a balancer refusing before anything was handled) and a 429 made no task."""
    harness.fake.inject("submit", status, message=body)
    service = await harness.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED
    assert harness.fake.counts["submit"] == 2 and len(harness.fake.tasks) == 1
    assert await harness.ledger(task.id) == ["reserve", "charge"]


async def test_a_full_disk_during_the_download_is_retried_then_delivered(harness: Harness) -> None:
    real = harness.client.download
    calls = 0

    async def disk_full_once(url: str, dest: Path, *, max_bytes: int) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:  # what the client makes of an OSError while writing (see its own tests)
            error = DownloadError(f"cannot write the download ({os.strerror(errno.ENOSPC)})")
            error.retryable = False
            raise error
        return await real(url, dest, max_bytes=max_bytes)

    harness.client.download = disk_full_once  # type: ignore[method-assign]
    service = await harness.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED
    assert calls == 2
    assert len(harness.notifier.results_for(task.id)) == 1
    assert await harness.ledger(task.id) == ["reserve", "charge"]


async def test_a_download_that_always_crashes_is_failed_and_refunded(harness: Harness) -> None:
    async def broken(url: str, dest: Path, *, max_bytes: int) -> int:
        raise RuntimeError("a bug in the download path")

    harness.client.download = broken  # type: ignore[method-assign]
    service = await harness.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.FAILED
    assert await harness.ledger(task.id) == ["reserve", "refund"]
    assert harness.notifier.failures_for(task.id)


async def test_a_locked_database_when_recording_the_delivery_posts_once_and_records_later(
    harness: Harness,
) -> None:
    tasks = harness.storage.tasks
    real = tasks.transition
    failed = False

    async def locked_once(task_id: int, to: TaskState, **kwargs: Any) -> Any:
        nonlocal failed
        if to is TaskState.DELIVERED and not failed:
            failed = True
            raise DatabaseError("it is locked by another process")
        return await real(task_id, to, **kwargs)

    tasks.transition = locked_once  # type: ignore[method-assign]
    service = await harness.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert failed and done.state is TaskState.DELIVERED
    assert len(harness.notifier.results_for(task.id)) == 1
    assert await harness.ledger(task.id) == ["reserve", "charge"]


async def test_a_task_whose_every_poll_crashes_still_times_out_and_refunds(tmp_path: Path) -> None:
    from tests.fakes.lifecycle_harness import lifecycle_harness

    async with lifecycle_harness(tmp_path, task_timeout=0.3) as harness:
        service = harness.new_service()
        harness.service = service
        crashes = 0

        async def broken_poll(task: Any) -> None:
            nonlocal crashes
            crashes += 1
            raise RuntimeError("a bug in the poll path")

        service.tracker.poll = broken_poll  # type: ignore[method-assign]
        await service.start()
        task = await service.request(harness.request())
        done = await harness.wait_final(task.id)
        assert done.state is TaskState.FAILED and done.error_code == "timeout"
        assert crashes >= 1
        assert await harness.ledger(task.id) == ["reserve", "refund"]


async def test_a_failure_notice_that_could_not_be_posted_is_posted_at_the_next_start_once(
    harness: Harness,
) -> None:
    harness.fake.inject("submit", 2013, message="invalid params")  # refused: the task fails at once
    harness.notifier.raise_failure_posts = 1
    service = await harness.start()
    task = await service.request(harness.request())
    failed = await harness.wait_final(task.id)
    assert failed.state is TaskState.FAILED and failed.notified_at is None  # owed
    assert harness.notifier.failures_for(task.id) == []

    await harness.start()  # a restart tells the member
    assert len(harness.notifier.failures_for(task.id)) == 1
    assert (await harness.storage.tasks.get(task.id)).notified_at is not None
    await harness.start()  # and only once
    assert len(harness.notifier.failures_for(task.id)) == 1


async def test_a_failure_notice_that_reached_no_one_stays_owed(harness: Harness) -> None:
    """Discord took it nowhere (no channel, no DM, no follow-up): not recorded as told."""
    harness.fake.inject("submit", 2013, message="invalid params")
    service = await harness.start()
    real = harness.notifier.post_failure
    tried = asyncio.Event()

    async def nowhere(task: Any, message: str) -> int | None:
        tried.set()
        return None

    harness.notifier.post_failure = nowhere  # type: ignore[method-assign]
    task = await service.request(harness.request())
    assert (await harness.wait_final(task.id)).state is TaskState.FAILED
    await asyncio.wait_for(tried.wait(), 10)
    assert (await harness.storage.tasks.get(task.id)).notified_at is None

    harness.notifier.post_failure = real  # type: ignore[method-assign]
    await harness.start()
    assert len(harness.notifier.failures_for(task.id)) == 1
    assert (await harness.storage.tasks.get(task.id)).notified_at is not None


async def test_a_crash_after_the_video_succeeded_never_times_it_out(tmp_path: Path) -> None:
    """The poll moved the task to downloading, then crashed handing it over: the time-out is not the
    poller's to apply any more (it would refund a video that is on its way); a start delivers it."""
    from tests.fakes.lifecycle_harness import lifecycle_harness

    # The first query comes after the time-out has passed and finds the video done.
    async with lifecycle_harness(tmp_path, task_timeout=0.3, poll_first_delay=0.5) as harness:
        harness.fake.next_task(preparing=0, queueing=0, processing=0.1)
        service = harness.new_service()
        harness.service = service
        real_start = service.delivery.start
        crashed = asyncio.Event()

        def start_delivery(task: Any, download_url: str | None = None) -> None:
            if not crashed.is_set():
                crashed.set()
                raise RuntimeError("a bug after the success was saved")
            real_start(task, download_url)

        service.delivery.start = start_delivery  # type: ignore[method-assign]
        await service.start()
        task = await service.request(harness.request())
        await asyncio.wait_for(crashed.wait(), 10)
        deadline = time.monotonic() + 10
        while task.id in service.tracker._in_flight:  # the poll's crash handling has run to its end
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        await service.stop()
        assert (await harness.storage.tasks.get(task.id)).state is TaskState.DOWNLOADING
        await harness.start()  # the delivery resumes from downloading
        done = await harness.wait_final(task.id)
        assert done.state is TaskState.DELIVERED
        assert await harness.ledger(task.id) == ["reserve", "charge"]


async def test_a_card_that_cannot_be_refreshed_does_not_hold_up_the_video(harness: Harness) -> None:
    service = harness.new_service()
    harness.service = service
    real_refresh = service.cards.refresh

    async def refresh(task: Any, *, note: str | None = None) -> None:
        if task.state is TaskState.DOWNLOADING:
            raise RuntimeError("Discord hiccup while editing the card")
        await real_refresh(task, note=note)

    service.cards.refresh = refresh  # type: ignore[method-assign]
    await service.start()
    task = await service.request(harness.request())
    assert (await harness.wait_final(task.id)).state is TaskState.DELIVERED


async def test_a_posted_video_that_can_never_be_recorded_is_not_refunded(harness: Harness) -> None:
    """Recording "delivered" keeps failing: the member has the video, so no refund and no failure
    notice; the task waits in "delivering" for the next start to record it."""
    tasks = harness.storage.tasks
    real = tasks.transition

    async def never_delivered(task_id: int, to: TaskState, **kwargs: Any) -> Any:
        if to is TaskState.DELIVERED:
            raise RuntimeError("a bug while recording")
        return await real(task_id, to, **kwargs)

    tasks.transition = never_delivered  # type: ignore[method-assign]
    service = await harness.start()
    task = await service.request(harness.request())
    await harness.wait_state(task.id, (TaskState.DELIVERING,))
    deadline = time.monotonic() + 10
    while service.delivery.busy():  # every attempt has run
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    assert (await harness.storage.tasks.get(task.id)).state is TaskState.DELIVERING
    assert len(harness.notifier.results_for(task.id)) == 1 and harness.notifier.failures_for(task.id) == []
    assert await harness.ledger(task.id) == ["reserve"]

    tasks.transition = real  # type: ignore[method-assign]
    await harness.start()
    assert (await harness.wait_final(task.id)).state is TaskState.DELIVERED
    assert len(harness.notifier.results_for(task.id)) == 1
    assert await harness.ledger(task.id) == ["reserve", "charge"]
