"""What happened: statistics, tasks (stuck ones, settling unknown ones) and the audit log."""

from __future__ import annotations

import logging
import re

from bot.i18n import state_name
from bot.lifecycle.moderation._core import ModerationCore, refusing_bad_values
from bot.lifecycle.moderation.records import AuditPage, ModerationRefused, Moderator, TaskPage, TaskResolution
from bot.lifecycle.refusal import RequestRefused
from bot.lifecycle.spending import spend_ceiling
from storage.errors import IllegalTransition, UnknownTask
from storage.models import BotSpend, GuildStats, Task
from storage.states import TaskState

log = logging.getLogger(__name__)

_API_TASK_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
# Task filters beyond the states themselves.
UNFINISHED, STUCK = "unfinished", "stuck"
REFUND_MESSAGE = (
    "A moderator refunded this video: its submission to the video service could not be confirmed."
)


class TaskActions(ModerationCore):
    """What happened, and settling what the bot cannot settle alone (tasks in the unknown state)."""

    # ------------------------------------------------------------------------------ statistics

    async def stats(self, mod: Moderator, seconds: float) -> GuildStats:
        """Videos, failures, credits and the top five members over the last ``seconds``."""
        until = self._clock()
        return await self.storage.tasks.stats(mod.guild_id, until - seconds, until, top=5)

    async def bot_spending(self, mod: Moderator) -> BotSpend | None:
        """Every server's spending together in the operator's ceiling period (``None``: no ceiling).

        ``mod`` is the proof the caller passed the gate; the figure is the same in every server.
        """
        ceiling = spend_ceiling(self.settings)
        if ceiling is None:
            return None
        return await self.storage.quota.bot_spend(ceiling, now=self._clock())

    # ------------------------------------------------------------------------------ tasks

    async def task_page(
        self, mod: Moderator, *, user_id: int | None, state: str | None, page: int, page_size: int
    ) -> TaskPage:
        """Newest first; ``state`` is a task state, ``unfinished`` or ``stuck`` (see :meth:`is_stuck`).

        A page past the end (a refund moved its last task out of the filter) shows the last page.
        """
        found, total = await self._tasks(mod.guild_id, user_id, state, page, page_size)
        pages = max(1, -(-total // page_size))
        if page >= pages:
            page = pages - 1
            found, total = await self._tasks(mod.guild_id, user_id, state, page, page_size)
        return TaskPage(found, page, pages, total)

    async def _tasks(
        self, guild_id: int, user_id: int | None, state: str | None, page: int, page_size: int
    ) -> tuple[list[Task], int]:
        if state in (UNFINISHED, STUCK):
            unfinished = [
                t
                for t in await self.storage.tasks.unfinished()
                if t.guild_id == guild_id and (user_id is None or t.user_id == user_id)
            ]
            if state == STUCK:
                unfinished = [t for t in unfinished if self.is_stuck(t)]
            unfinished.sort(key=lambda t: t.id, reverse=True)
            return unfinished[page * page_size : (page + 1) * page_size], len(unfinished)
        found = await self.storage.tasks.list_for_guild(
            guild_id, user_id=user_id, state=state, limit=page_size, offset=page * page_size
        )
        return found, await self.storage.tasks.count_for_guild(guild_id, user_id=user_id, state=state)

    def is_stuck(self, task: Task) -> bool:
        """The poller's own time-out rule (:meth:`PollTiming.is_stuck`), not a copy of it."""
        return self.timing.is_stuck(task, now=self._clock())

    async def refund_unknown(self, mod: Moderator, task_id: int) -> TaskResolution:
        """Give the credits back and close the task as failed: the moderator found it was never made."""
        task = await self._unknown_task(mod, task_id)
        try:
            failed = await self.storage.tasks.transition(
                task.id,
                TaskState.FAILED,
                now=self._clock(),
                actor_id=mod.actor_id,
                error_code="unknown_refunded",
                error_message=REFUND_MESSAGE,
                # The card, edited below, is the notice; a private card is not: the member is told
                # privately (``VideoControls.refresh_card``) and it is recorded once posted.
                notified_at=None if task.deliver_by_dm else self._clock(),
            )
        except IllegalTransition as exc:
            raise self._changed_meanwhile(task_id, exc) from None
        # Moving to failed refunds in the same transaction; this repair call is idempotent and makes sure.
        await self.storage.quota.refund(task.id, now=self._clock())
        log.info("Task %s refunded by moderator %s", task.id, mod.actor_id)
        await self._refresh_card(failed, REFUND_MESSAGE)
        return TaskResolution(task, failed)

    async def resume_unknown(self, mod: Moderator, task_id: int, api_task_id: str) -> TaskResolution:
        """The moderator found the task on the API's side: track it from there, never resubmit."""
        if not _API_TASK_ID.match(api_task_id):
            raise ModerationRefused.keyed("admin.refused.task_id")
        task = await self._unknown_task(mod, task_id)
        try:
            with refusing_bad_values():
                resumed = await self.storage.tasks.transition(
                    task.id,
                    TaskState.SUBMITTED,
                    now=self._clock(),
                    actor_id=mod.actor_id,
                    api_task_id=api_task_id,
                )
        except IllegalTransition as exc:
            raise self._changed_meanwhile(task_id, exc) from None
        if self.video is not None:
            self.video.wake()
        await self._refresh_card(resumed, None)
        return TaskResolution(task, resumed)

    async def _unknown_task(self, mod: Moderator, task_id: int) -> Task:
        try:
            task = await self.storage.tasks.get(task_id)
        except UnknownTask:
            raise ModerationRefused.keyed("admin.refused.no_task", task_id=task_id) from None
        if task.guild_id != mod.guild_id:
            raise ModerationRefused.keyed("admin.refused.no_task_here", task_id=task_id)
        if task.state is not TaskState.UNKNOWN:
            raise ModerationRefused.keyed(
                "admin.refused.task_not_unknown", task_id=task_id, state=state_name(task.state.value)
            )
        return task

    @staticmethod
    def _changed_meanwhile(task_id: int, exc: IllegalTransition) -> RequestRefused:
        return ModerationRefused.keyed(
            "admin.refused.task_changed", task_id=task_id, state=state_name(str(exc.from_state))
        )

    async def _refresh_card(self, task: Task, note: str | None) -> None:
        if self.video is None:
            return
        try:
            await self.video.refresh_card(task, note=note)
        except Exception:
            log.exception("Could not update the status card of task %s", task.id)

    # ------------------------------------------------------------------------------ audit

    async def audit_page(
        self, mod: Moderator, *, target_user: int | None, actor: int | None, page: int, page_size: int
    ) -> AuditPage:
        """Recent moderator actions here, newest first, optionally about one member or by one moderator."""
        total = await self.storage.audit.count(mod.guild_id, target_user=target_user, actor=actor)
        pages = max(1, -(-total // page_size))
        page = min(page, pages - 1)
        entries = await self.storage.audit.list(
            mod.guild_id, target_user=target_user, actor=actor, limit=page_size, offset=page * page_size
        )
        return AuditPage(entries, page, pages, total)
