"""Status cards: what a task's card shows, when it is edited, and queue positions kept current.

Every worker renders the same card from a task (state, queue position, expected time, ETA); edits go
through the coalescing :class:`~bot.lifecycle.status.StatusUpdater`. Queue positions move for every
waiting task at once, so they are refreshed in one coalesced background pass, and only the cards
whose position changed are edited.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.lifecycle.deps import LifecycleDeps
from bot.lifecycle.jobs import Jobs
from bot.lifecycle.notifier import StatusCard
from storage.errors import StorageError
from storage.models import Task
from storage.states import TaskState

log = logging.getLogger(__name__)

_RUNNING = (TaskState.SUBMITTED, TaskState.PROCESSING, TaskState.QUEUED)
_QUEUE_REFRESH = "queue-refresh"


class StatusCards:
    def __init__(self, deps: LifecycleDeps) -> None:
        self._deps = deps
        # task id → the queue position its card shows (or is about to), so unmoved cards are not edited.
        self._shown_positions: dict[int, int] = {}
        # One background refresh of queue positions at a time; requests meanwhile ask for one more pass.
        self._jobs = Jobs()
        self._queue_dirty = False
        self._queue_refresh_stopped = False

    async def expected_seconds(self, task: Task) -> float | None:
        """How long a generation like this takes (learned, else the configured first-poll delay)."""
        expected = await self._deps.expectations.seconds(task)
        if expected is None and task.state in _RUNNING:
            expected = self._deps.timing.first_delay
        return expected

    def render(
        self,
        task: Task,
        expected: float | None,
        note: str | None = None,
        *,
        positions: Mapping[int, int] | None = None,
    ) -> StatusCard:
        """The card for ``task`` from what is known already (no reads): see :meth:`card`.

        ``positions``: the queue's positions when the caller has them already (they cost a pass over
        the whole queue).
        """
        deps = self._deps
        if expected is None and task.state in _RUNNING:
            expected = deps.timing.first_delay
        position = None
        if task.state is TaskState.QUEUED:
            position = (deps.queue.positions() if positions is None else positions).get(task.id)
            if position is not None:
                self._shown_positions[task.id] = position
        else:
            self._shown_positions.pop(task.id, None)
        eta = (
            deps.timing.eta(
                submitted_at=task.submitted_at, now=deps.now(), expected=expected, progress=task.progress
            )
            if task.state in (TaskState.SUBMITTED, TaskState.PROCESSING)
            else None
        )
        return StatusCard(task=task, queue_position=position, expected_seconds=expected, eta=eta, note=note)

    async def card(self, task: Task, note: str | None = None) -> StatusCard:
        return self.render(task, await self.expected_seconds(task), note)

    async def refresh(self, task: Task, *, note: str | None = None) -> None:
        """Schedule a (coalesced) edit of the task's card; final states are sent at once."""
        self.show(task, await self.expected_seconds(task), note=note)

    def show(
        self,
        task: Task,
        expected: float | None,
        *,
        note: str | None = None,
        positions: Mapping[int, int] | None = None,
    ) -> None:
        """:meth:`refresh` without any read: for the moment right before a request leaves."""
        final = task.state.final or task.state is TaskState.UNKNOWN
        self._deps.updater.update(self.render(task, expected, note, positions=positions), final=final)

    def request_queue_refresh(self) -> None:
        """Refresh queue positions in the background, coalesced.

        A burst of requests moves every waiting card; refreshing inline made each member's answer
        wait for everyone else's card (200 concurrent commands took 15 s to confirm).
        """
        if self._queue_refresh_stopped:
            return  # shutting down: the cards are redrawn at the next start
        self._queue_dirty = True
        if not self._jobs.running(_QUEUE_REFRESH):
            self._jobs.start(self._refresh_queue_until_clean(), name="queue-refresh", key=_QUEUE_REFRESH)

    async def settle_queue_refresh(self) -> None:
        """Wait for a pending background refresh (tests, shutdown)."""
        await self._jobs.settle(_QUEUE_REFRESH)

    def allow_queue_refresh(self) -> None:
        """(Re)started: background refreshes may run again."""
        self._queue_refresh_stopped = False

    async def stop_queue_refresh(self) -> None:
        self._queue_refresh_stopped = True
        await self._jobs.cancel(_QUEUE_REFRESH)

    async def _refresh_queue_until_clean(self) -> None:
        while self._queue_dirty:
            self._queue_dirty = False
            try:
                await self.refresh_queue()
            except Exception:
                log.exception("Could not refresh the queue positions")

    async def refresh_queue(self) -> None:
        """Queue positions moved: refresh the cards whose position changed (each move would otherwise
        edit every waiting card, a burst Discord throttles)."""
        deps = self._deps
        positions = deps.queue.positions()
        for task_id in [t for t in self._shown_positions if t not in positions]:
            del self._shown_positions[task_id]
        for task_id, position in positions.items():
            if self._shown_positions.get(task_id) == position:
                continue
            try:
                task = await deps.storage.tasks.get(task_id)
            except StorageError:
                continue
            if task.state is TaskState.QUEUED:
                self.show(task, await self.expected_seconds(task), positions=positions)
