"""Recovery: after a restart, every unfinished task is put back on its way.

Each state's next step is safe to repeat or to detect as done (see the task's life in README): a queued
task rejoins the queue, a task caught mid-submit becomes ``unknown`` (sending it again could bill
twice), a download or post in progress restarts, and a polled task is picked up by the poller from its
stored ``next_poll_at``. Failure notices a crash kept back are posted, and cards a crash left stale
are re-rendered.

"Every unfinished task" is every one this process may take (:mod:`bot.lifecycle.leases`): on SQLite
all of them; on PostgreSQL those nobody holds, never one another live process works on. The same
resume step runs for tasks taken over later from a process that died (:meth:`Recovery.resume_taken`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.lifecycle.cards import StatusCards
from bot.lifecycle.delivery import Delivery
from bot.lifecycle.deps import LifecycleDeps
from bot.lifecycle.failure import FailurePath
from bot.lifecycle.groups import GroupDelivery
from bot.lifecycle.intake import enqueue, post_card
from bot.lifecycle.queue import QueueEntry
from bot.lifecycle.submitter import UNKNOWN_MESSAGE, Submitter
from storage.errors import StorageError
from storage.models import Task
from storage.states import TaskState

log = logging.getLogger(__name__)

CARD_REPAIR_WINDOW = 24 * 3600.0
CARD_REPAIR_LIMIT = 50
# A failure notice still owed after this long is given up (the member could never be reached).
NOTICE_REPAIR_WINDOW = 7 * 24 * 3600.0
# The owed notices are repaired by one process at a time (two would both post a missing notice).
NOTICE_REPAIR_JOB = "notice-repair"
NOTICE_REPAIR_LEASE = 600.0
# A failure notice repaired after a crash, for a failed task that kept no message of its own.
LOST_FAILURE_MESSAGE = "Your video could not be made. Your credits were refunded; please try again."


class Recovery:
    def __init__(
        self,
        deps: LifecycleDeps,
        cards: StatusCards,
        failures: FailurePath,
        *,
        submitter: Submitter,
        delivery: Delivery,
        running: Callable[[], bool],
        groups: GroupDelivery | None = None,
    ) -> None:
        self._deps = deps
        self._cards = cards
        self._failures = failures
        self._submitter = submitter
        self._delivery = delivery
        self._groups = groups
        # False once the service is stopping: the rest resume at the next start.
        self._running = running

    async def run(self) -> int:
        """Put every unfinished task back on its way; each state's next step is safe to repeat.

        Returns how many were resumed (for the start-up's ready line)."""
        leases = self._deps.leases
        try:
            tasks = await leases.take_at_start()
        except StorageError:
            log.exception("Could not read unfinished tasks; nothing resumed")
            return 0
        # First, while nothing of this run can be failing yet: only the previous run's owed notices.
        await self._repair_notices()
        await self._resume_all(tasks)
        if any(t.state is TaskState.QUEUED for t in tasks):
            # Back into the shared queue (nothing of this run holds one yet): one statement.
            await leases.release_queued()
        if leases.shared:
            try:
                await leases.sync_queue()  # the queued tasks nobody holds: the shared queue
            except StorageError:
                log.exception("Could not read the shared queue; it is read again shortly")
        await self._repair_cards(tasks)
        await self._repair_groups()
        return len(tasks)

    async def _repair_groups(self) -> None:
        """Groups whose takes are all over but whose reply was not recorded (a crash after the last
        take failed, or between the reply and its record): post it now (each take looks for its
        reply first). A group still on its way is left to its takes."""
        if self._groups is None:
            return
        try:
            unposted = await self._deps.storage.tasks.unposted_groups(
                self._deps.now() - CARD_REPAIR_WINDOW, limit=CARD_REPAIR_LIMIT
            )
        except StorageError:
            log.exception("Could not read the groups owed a reply; they are looked at the next start")
            return
        for group_id in unposted:
            await self._groups.check_group(group_id)

    async def resume_taken(self, tasks: list[Task]) -> None:
        """Tasks taken over from a process that stopped renewing their leases: resumed the same way."""
        await self._resume_all(tasks)
        for task in tasks:
            if task.state is TaskState.QUEUED:
                # Back into the shared queue; by id, not all at once: the queued tasks this
                # process is sending right now keep their leases.
                await self._deps.leases.release(task.id)
        self._deps.poller_wake.set()

    async def _resume_all(self, tasks: list[Task]) -> None:
        # All at once (one pass), not one push and one position lookup per task: O(n), not O(n²).
        self._deps.queue.extend(
            QueueEntry(t.id, t.guild_id or 0, t.user_id) for t in tasks if t.state is TaskState.QUEUED
        )
        counts: dict[str, int] = {}
        for task in tasks:
            if not self._running():
                return
            counts[task.state.value] = counts.get(task.state.value, 0) + 1
            try:
                await self._resume(task)
            except Exception:
                log.exception("Could not resume task %s (%s)", task.id, task.state)
        if tasks:
            log.info("Resumed unfinished tasks: %s", ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))

    async def _resume(self, task: Task) -> None:
        if task.state is TaskState.QUEUED:
            enqueue(self._deps, task)
            if task.status_message_id is None:
                await post_card(self._deps, self._cards, task)
        elif task.state is TaskState.SUBMITTING:
            # The create call may have reached the API: sending it again could bill twice.
            await self._submitter.mark_unknown(task, "the bot stopped while submitting")
        elif task.state in (TaskState.DOWNLOADING, TaskState.DELIVERING):
            self._delivery.start(task)
        elif task.state is TaskState.UNKNOWN and self._submitter.reconciler is not None:
            # A V2 task left unknown by the last run: the task list may still settle it.
            self._submitter.reconciler.start(task)
        # submitted/processing: their next_poll_at is stored and the poller picks them up;
        # other unknown tasks: a moderator resolves them.

    async def _repair_cards(self, unfinished: list[Task]) -> None:
        """Re-render cards a crash (or a refused edit) may have left showing an old state.

        Cheap and bounded: unfinished tasks and those that finished in the last day, at most
        ``CARD_REPAIR_LIMIT``; the updater coalesces and paces the edits.
        """
        storage = self._deps.storage
        try:
            recent = await storage.tasks.recently_finished(
                self._deps.now() - CARD_REPAIR_WINDOW, limit=CARD_REPAIR_LIMIT
            )
        except StorageError:
            log.exception("Could not read recently finished tasks; their cards are not re-rendered")
            recent = []
        for task in [*unfinished, *recent]:
            if task.status_message_id is None or task.state is TaskState.SUBMITTING:
                continue
            try:
                latest = await storage.tasks.get(task.id)
                note = (
                    latest.error_message if latest.state.final or latest.state is TaskState.UNKNOWN else None
                )
                await self._cards.refresh(latest, note=note)
            except Exception:
                log.exception("Could not re-render the card of task %s", task.id)

    async def _repair_notices(self) -> None:
        """Tell members about failures a crash kept from them.

        A failure is saved (and refunded) before its notice is posted and the posting is recorded
        after, so a crash in between leaves a task whose notice is owed. The channel (then the DMs)
        is searched first: a notice that went out just before the crash is recorded, not repeated.
        """
        storage = self._deps.storage
        leases = self._deps.leases
        now = self._deps.now()
        try:
            if not await storage.leases.claim_job(
                NOTICE_REPAIR_JOB, leases.owner, now=now, until=now + NOTICE_REPAIR_LEASE
            ):
                return  # another process is repairing them right now
        except StorageError:
            log.exception("Could not take the notice repair; it is retried at the next start")
            return
        try:
            await self._repair_owed()
        finally:
            try:
                await storage.leases.release_job(NOTICE_REPAIR_JOB, leases.owner)
            except StorageError:
                log.exception("Could not release the notice repair; it expires by itself")

    async def _repair_owed(self) -> None:
        storage = self._deps.storage
        try:
            owed = await storage.tasks.unnotified(
                self._deps.now() - NOTICE_REPAIR_WINDOW, limit=CARD_REPAIR_LIMIT
            )
        except StorageError:
            log.exception("Could not read the failure notices owed; they are retried at the next start")
            return
        for task in owed:
            if not self._running():
                return
            try:
                if await self._deps.notifier.find_failure(task) is not None:
                    await storage.tasks.update_fields(task.id, notified_at=self._deps.now())
                    continue
                log.info("Task %s is %s but its notice was not posted; posting it", task.id, task.state.value)
                fallback = UNKNOWN_MESSAGE if task.state is TaskState.UNKNOWN else LOST_FAILURE_MESSAGE
                await self._failures.tell(task, task.error_message or fallback)
            except Exception:
                log.exception("Could not repair the failure notice of task %s", task.id)
