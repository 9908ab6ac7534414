"""The one way a task fails: mark it failed (the storage refunds in the same transaction), update
its card, then tell the member and record that they were told.

The order is what makes crashes repairable: a failure is saved before anyone hears of it, and the
notice is recorded after it is posted, so a start finds every notice still owed
(``VideoService._repair_notices``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.catalog import credits_text
from bot.lifecycle.cards import StatusCards
from bot.lifecycle.deps import LifecycleDeps
from storage.errors import IllegalTransition, StorageError
from storage.models import Task
from storage.states import TaskState

log = logging.getLogger(__name__)


class FailurePath:
    def __init__(self, deps: LifecycleDeps, cards: StatusCards) -> None:
        self._deps = deps
        self._cards = cards
        # A take of a group is over (failed here, or cancelled): the group's reply may be due
        # (:meth:`bot.lifecycle.groups.GroupDelivery.check`, set by the service).
        self.on_take_over: Callable[[Task], Awaitable[None]] | None = None

    async def fail(self, task: Task, message: str, *, code: str) -> Task | None:
        """Mark failed (the storage refunds in the same transaction), then tell the member.

        Returns None when the task had already moved on (cancelled, or failed by someone else), in
        which case nothing is said twice.
        """
        deps = self._deps
        try:
            failed = await deps.storage.tasks.transition(
                task.id, TaskState.FAILED, now=deps.now(), error_code=code, error_message=message
            )
        except IllegalTransition as exc:
            log.info("Task %s not failed (%s): already %s", task.id, code, exc.from_state)
            return None
        log.info("Task %s failed (%s), refunded %s", task.id, code, credits_text(task.cost_tenths))
        if failed.group_id is not None:
            # A take of a group: the group's one reply lists it as failed and refunded (and, when
            # every take failed, the group's notice says so), so it has no notice of its own.
            await self._cards.refresh(failed, note=f"Take {failed.take}/{failed.takes}: {message}")
            try:
                failed = await deps.storage.tasks.update_fields(failed.id, notified_at=deps.now())
            except StorageError:
                log.exception("Could not record that take %s is told with its group", failed.id)
            await self.take_over(failed)
            return failed
        await self._cards.refresh(failed, note=message)
        await self.tell(failed, message)
        return failed

    async def take_over(self, task: Task) -> None:
        """Let the group know one of its takes is over (never raises)."""
        if self.on_take_over is None or task.group_id is None:
            return
        try:
            await self.on_take_over(task)
        except Exception:
            log.exception("Checking the group of take %s failed", task.id)

    async def tell(self, task: Task, message: str) -> None:
        """Post the failure notice, then record it. A crash between the two repeats the notice at the
        next start (after looking for it); a crash before it, or a notice that reached no one (Discord
        down), is what the record lets a start repair."""
        deps = self._deps
        try:
            posted = await deps.notifier.post_failure(task, message)
        except Exception:
            log.exception("Could not tell the member about task %s; retried at the next start", task.id)
            return
        if posted is None:
            log.warning("The failure notice of task %s reached no one; retried at the next start", task.id)
            return
        try:
            await deps.storage.tasks.update_fields(task.id, notified_at=deps.now())
        except StorageError:
            log.exception("Could not record the notice of task %s", task.id)
