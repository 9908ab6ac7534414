"""This process's claim on the tasks it works on, so several processes can share one database.

Every unfinished task some process is working on carries that process's lease
(:mod:`storage.leases`): the submitter takes it before preparing a queued task, and the lease then
stays with the task through polling and delivery. One loop here renews all of them every third of
``LEASE_SECONDS`` and takes over tasks whose lease ran out (their process died or stalled), handing
them to recovery's resume step, exactly as a restart would. On PostgreSQL a second loop keeps the
fair queue in step with the database's, so a task queued through any process may be submitted by
any other.

On SQLite the one process trivially holds every lease: the same statements run, nobody else ever
competes, and at start-up it takes over every unfinished task at once (the instance lock guarantees
whoever held them is gone), as before leases.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable

from bot.lifecycle.jobs import Jobs, wait_event
from bot.lifecycle.queue import FairQueue, QueueEntry
from storage import EVERY_LEASE, Storage, Task
from storage.errors import StorageError

log = logging.getLogger(__name__)

# How often, on PostgreSQL, the fair queue is brought in step with the queued tasks in the database.
QUEUE_SYNC_SECONDS = 1.0
# Tasks taken over per statement (a dead process's thousands are taken in batches).
TAKE_BATCH = 200
_RENEW = "lease-renewal"
_SYNC = "queue-sync"

OnTaken = Callable[[list[Task]], Awaitable[None]]


def new_owner_id() -> str:
    """Unique per process run: a restarted process does not pretend to hold its predecessor's leases."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class WorkLeases:
    def __init__(
        self,
        storage: Storage,
        queue: FairQueue,
        *,
        seconds: float,
        clock: Callable[[], float],
        owner: str | None = None,
    ) -> None:
        self.owner = owner or new_owner_id()
        self._storage = storage
        self._queue = queue
        self.seconds = seconds
        self._clock = clock
        # PostgreSQL: other processes may hold leases and queue tasks; SQLite: this one alone.
        self.shared = storage.shared
        self._jobs = Jobs()
        self._kick = asyncio.Event()
        # Recovery's resume step, for tasks taken over while running (set by the service).
        self.on_taken: OnTaken | None = None
        self.taken_over = 0

    def _until(self) -> float:
        return self._clock() + self.seconds

    async def claim_queued(self, task_id: int) -> bool:
        """Take a queued task's lease (or keep ours) before preparing its submit; False when another
        process works on it, or it is no longer queued (sent, cancelled)."""
        return await self._storage.leases.claim(
            task_id, self.owner, now=self._clock(), until=self._until(), state="queued"
        )

    async def release(self, task_id: int) -> None:
        try:
            await self._storage.leases.release(task_id, self.owner)
        except StorageError:
            log.exception("Could not release the lease of task %s; it expires by itself", task_id)

    async def take_at_start(self) -> list[Task]:
        """The unfinished tasks this process resumes at start-up, now leased to it.

        SQLite: every one (nobody else can be running). PostgreSQL: those whose lease expired and
        those nobody leased; a task another live process holds is left to it.
        """
        taken: list[Task] = []
        now = EVERY_LEASE if not self.shared else self._clock()
        while True:
            batch = await self._storage.leases.claim_orphans(
                self.owner, now=now, until=self._until(), limit=TAKE_BATCH, everything=not self.shared
            )
            taken.extend(batch)
            if len(batch) < TAKE_BATCH:
                return taken

    async def release_queued(self) -> None:
        """Queued tasks go back to the shared queue once resumed: any process may submit them."""
        try:
            await self._storage.leases.release_queued(self.owner)
        except StorageError:
            log.exception("Could not release the queued tasks taken over; they expire by themselves")

    def start(self) -> None:
        if not self._jobs.running(_RENEW):
            self._jobs.start(self._renew_loop(), name="lease-renewal", key=_RENEW)
        if self.shared and not self._jobs.running(_SYNC):
            self._jobs.start(self._sync_loop(), name="queue-sync", key=_SYNC)

    def kick(self) -> None:
        """Look for tasks to take over now (a moderator moved one on, a test)."""
        self._kick.set()

    async def stop_renewing(self) -> None:
        """Stop the loops, keep the leases: they run out as a dead process's would."""
        await self._jobs.cancel_all()

    async def stop(self) -> None:
        """Stop renewing and give every lease back: the other processes take the tasks at once."""
        await self.stop_renewing()
        try:
            released = await self._storage.leases.release_all(self.owner)
        except StorageError:
            log.exception("Could not release this process's leases; they expire by themselves")
            return
        if released and self.shared:
            log.info("Released %d task leases for the other processes", released)

    async def sync_queue(self) -> None:
        """Bring the fair queue in step with the database's queued tasks (PostgreSQL).

        New ones (queued through another process, or released) join; ones another process took or
        that ended leave, unless they were created after the read or are this process's own.
        """
        opened = await self._storage.leases.open_queue(self.owner, now=self._clock())
        known = {t.task_id for t in opened.tasks} | set(opened.mine)
        for task_id in self._queue.task_ids():
            if task_id <= opened.max_task_id and task_id not in known:
                self._queue.remove(task_id)
        self._queue.extend(QueueEntry(t.task_id, t.guild_id or 0, t.user_id) for t in opened.tasks)

    async def take_over(self) -> list[Task]:
        """Renew ours, then take the tasks whose leases ran out and resume them."""
        await self._storage.leases.renew(self.owner, until=self._until())
        taken: list[Task] = []
        while True:
            batch = await self._storage.leases.claim_orphans(
                self.owner, now=self._clock(), until=self._until(), limit=TAKE_BATCH
            )
            if batch:
                log.warning(
                    "Took over %d task(s) whose process stopped renewing them: %s",
                    len(batch),
                    ", ".join(str(t.id) for t in batch[:20]),
                )
                self.taken_over += len(batch)
                taken.extend(batch)
                if self.on_taken is not None:
                    await self.on_taken(batch)
            if len(batch) < TAKE_BATCH:
                return taken

    async def _renew_loop(self) -> None:
        while True:
            try:
                await self.take_over()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Renewing leases failed; retrying (others take over what expires)")
            self._kick.clear()
            await wait_event(self._kick, self.seconds / 3)

    async def _sync_loop(self) -> None:
        while True:
            try:
                await self.sync_queue()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Reading the shared queue failed; retrying")
            await asyncio.sleep(QUEUE_SYNC_SECONDS)
