"""Background jobs: one registry type that keeps them referenced, cancels them and logs their crashes.

``asyncio.create_task`` keeps only a weak reference, and an exception in a task nobody awaits is
reported only when it is garbage-collected, if ever. Every background job of the lifecycle (the
submit loop and its submits, the poller and its polls, deliveries, card edits, queue refreshes, the
account-pause writer) is started through a :class:`Jobs` owned by the part that runs it, so that
part can stop its own jobs, and a crash is logged loudly at once. Modelled on pydis_core's scheduler.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Coroutine, Hashable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class JobRunning(Exception):
    """A job under this key is still running."""


class Jobs:
    """The background jobs of one owner, each under a key (by default, the job itself)."""

    def __init__(self) -> None:
        self._jobs: dict[Hashable, asyncio.Task[Any]] = {}

    def start(
        self, coro: Coroutine[Any, Any, T], *, name: str, key: Hashable | None = None
    ) -> asyncio.Task[T]:
        """Run ``coro`` in the background. Raises JobRunning (and closes ``coro``) when a job under
        ``key`` has not finished; a finished one is replaced."""
        if key is not None and self.running(key):
            coro.close()
            raise JobRunning(f"job {key!r} is still running")
        job = asyncio.create_task(coro, name=name)
        slot = job if key is None else key
        self._jobs[slot] = job
        job.add_done_callback(functools.partial(self._finished, slot))
        return job

    def running(self, key: Hashable) -> bool:
        job = self._jobs.get(key)
        return job is not None and not job.done()

    def get(self, key: Hashable) -> asyncio.Task[Any] | None:
        return self._jobs.get(key)

    def jobs(self) -> list[asyncio.Task[Any]]:
        return list(self._jobs.values())

    def __len__(self) -> int:
        """Jobs not yet forgotten (a finished job is forgotten right after it ends)."""
        return len(self._jobs)

    def forget(self, key: Hashable) -> None:
        """Drop ``key`` now rather than at its done-callback (for an owner that counts its jobs
        from inside the last one)."""
        self._jobs.pop(key, None)

    async def settle(self, key: Hashable) -> None:
        """Wait, without cancelling it, until no job runs under ``key`` (one started meanwhile too)."""
        while (job := self._jobs.get(key)) is not None and not job.done():
            await asyncio.shield(job)

    async def cancel(self, key: Hashable) -> None:
        """Cancel the job under ``key`` and wait for it to end."""
        job = self._jobs.get(key)
        if job is not None:
            job.cancel()
            await asyncio.gather(job, return_exceptions=True)

    async def cancel_all(self) -> None:
        """Cancel every job and wait for them all to end."""
        jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)

    def _finished(self, key: Hashable, job: asyncio.Task[Any]) -> None:
        if self._jobs.get(key) is job:
            del self._jobs[key]
        if job.cancelled():
            return
        exc = job.exception()
        if exc is not None:
            log.critical("Background task %s crashed", job.get_name(), exc_info=exc)


async def wait_event(event: asyncio.Event, within: float | None) -> bool:
    """Wait until ``event`` is set or ``within`` seconds pass; True if it was set.

    Not ``asyncio.wait_for``: on Python 3.11 it swallows a cancellation that arrives just as the
    awaited event fires, and a loop built on it then never stops.
    """
    if event.is_set():
        return True
    try:
        async with asyncio.timeout(within):
            await event.wait()
    except TimeoutError:
        return False
    return True
