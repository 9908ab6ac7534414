"""The background-job registry: keyed jobs, cancel, cancel all, crashes logged at once."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.lifecycle.jobs import JobRunning, Jobs


async def test_a_keyed_job_runs_once_and_is_forgotten_when_it_ends() -> None:
    jobs = Jobs()
    release = asyncio.Event()
    job = jobs.start(release.wait(), name="waiter", key="w")
    assert jobs.running("w") and len(jobs) == 1
    second = release.wait()
    with pytest.raises(JobRunning):
        jobs.start(second, name="waiter", key="w")
    release.set()
    await job
    await asyncio.sleep(0)  # the done-callback runs on the next turn of the loop
    assert not jobs.running("w") and len(jobs) == 0
    again = jobs.start(release.wait(), name="waiter", key="w")  # a finished job is replaced
    await again


async def test_cancel_and_cancel_all_wait_for_the_jobs_to_end() -> None:
    jobs = Jobs()
    never = asyncio.Event()
    keyed = jobs.start(never.wait(), name="keyed", key=1)
    loose = [jobs.start(never.wait(), name=f"loose-{i}") for i in range(3)]
    await jobs.cancel(1)
    assert keyed.cancelled() and not any(job.done() for job in loose)
    await jobs.cancel_all()
    assert all(job.cancelled() for job in loose)


async def test_settle_waits_without_cancelling() -> None:
    jobs = Jobs()
    release = asyncio.Event()
    job = jobs.start(release.wait(), name="slow", key="k")
    settling = asyncio.create_task(jobs.settle("k"))
    await asyncio.sleep(0)
    assert not settling.done()
    release.set()
    await settling
    assert job.done() and not job.cancelled()


async def test_a_crash_is_logged_with_the_jobs_name(caplog: pytest.LogCaptureFixture) -> None:
    jobs = Jobs()

    async def crash() -> None:
        raise RuntimeError("boom")

    job = jobs.start(crash(), name="doomed")
    with caplog.at_level(logging.CRITICAL, logger="bot.lifecycle.jobs"):
        await asyncio.gather(job, return_exceptions=True)
        await asyncio.sleep(0)
    assert any("doomed" in r.getMessage() and r.exc_info for r in caplog.records)
