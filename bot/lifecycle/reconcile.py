"""Reconciling a lost submit answer from the V2 task list, so fewer tasks wait for a moderator.

A submit whose answer was lost (sent, then a time-out or an unreadable reply) may or may not have
created a task, and sending it again could bill twice: it becomes ``unknown``. On the V1 API only a
moderator can resolve it. The V2 API lists the account's recent tasks
(``GET /v2/query/video_generation?page_num=&page_size=``), so for an H3 task the bot looks there first:
every entry created between the request (less :data:`CLOCK_SKEW`) and the first look (plus
:data:`CLOCK_SKEW`), with the task's model, not already recorded on another task, and with the same
prompt, is a candidate. What each count of candidates leads to is :data:`bot.lifecycle.outcomes.
RECONCILED`: one is resumed (tracked from there, never resent); none, once :data:`RECONCILE_WINDOW`
has passed since the first look, is refunded (the API had time to list what it made); more than one,
or entries that name no prompt to compare, stay ``unknown`` for a moderator (their ids are logged).
The list is read again with backoff inside the window; a list that could never be read leaves the
task to a moderator too: "none listed" is only believed from an answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.backoff import backoff
from bot.lifecycle.cards import StatusCards
from bot.lifecycle.deps import LifecycleDeps
from bot.lifecycle.failure import FailurePath
from bot.lifecycle.jobs import Jobs
from bot.lifecycle.outcomes import RECONCILED, ListMatch
from bot.minimax.errors import MiniMaxError
from bot.minimax.types import ListedTask
from bot.minimax.v2 import on_v2
from storage.errors import IllegalTransition, StorageError, UnknownTask
from storage.models import Task
from storage.states import TaskState

log = logging.getLogger(__name__)

# How long after the first look a task the API made must have appeared in its list. MiniMax lists a
# task as soon as it is queued; five minutes covers a slow list and a few failed reads.
RECONCILE_WINDOW = 300.0
# The first look waits one POLL_MIN_INTERVAL (the list may lag the create call by a moment); each
# next waits twice as long, at most LOOK_INTERVAL_CAP: about eight reads in the window.
LOOK_INTERVAL_CAP = 60.0
CLOCK_SKEW = 120.0  # the API's clock against ours, either way
MAX_PAGES = 5  # 250 tasks: far more than the account's 30 in flight
RECONCILING_NOTE = "The answer to this request was lost; checking with the video service whether it has it."
NOT_LISTED_MESSAGE = (
    "Your video request did not reach the video service, so nothing was made. "
    "Your credits were refunded; please try again."
)


@dataclass(frozen=True)
class Candidates:
    match: ListMatch
    task_ids: tuple[str, ...] = ()


def match_listed(task: Task, entries: Sequence[ListedTask], *, since: float, until: float) -> Candidates:
    """Which listed entries could be ``task`` (entries recorded on another task already excluded by
    the caller): by creation time, model and prompt. An entry naming no prompt can never be the one
    match: it is only a maybe, for a moderator."""
    sure: list[str] = []
    maybe: list[str] = []
    for entry in entries:
        if entry.created_at is not None and not since - CLOCK_SKEW <= entry.created_at <= until + CLOCK_SKEW:
            continue
        if entry.model is not None and entry.model != task.model:
            continue
        if entry.prompt is None or entry.created_at is None:
            maybe.append(entry.task_id)
        elif entry.prompt.strip() == task.prompt.strip():
            sure.append(entry.task_id)
    if len(sure) == 1 and not maybe:
        return Candidates(ListMatch.ONE, tuple(sure))
    if sure or maybe:
        return Candidates(ListMatch.MANY, (*sure, *maybe))
    return Candidates(ListMatch.NONE)


class Reconciler:
    """Looks for ``unknown`` V2 tasks in the API's list and resumes, refunds or leaves each one."""

    def __init__(
        self,
        deps: LifecycleDeps,
        cards: StatusCards,
        failures: FailurePath,
        *,
        window: float = RECONCILE_WINDOW,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._deps = deps
        self._cards = cards
        self._failures = failures
        self.window = window  # public: a test shortens it
        self._sleep = sleep
        self._jobs = Jobs()

    def applies(self, task: Task) -> bool:
        return on_v2(task.model)

    def start(self, task: Task) -> bool:
        """Reconcile ``task`` in the background; False when its API has no list (V1)."""
        if not self.applies(task) or self._jobs.running(task.id):
            return False
        self._jobs.start(self.reconcile(task), name=f"reconcile-{task.id}", key=task.id)
        return True

    async def settle(self, task_id: int) -> None:
        """Wait until the reconciliation of ``task_id`` (if any) has decided (for tests and stop)."""
        await self._jobs.settle(task_id)

    async def stop(self) -> None:
        await self._jobs.cancel_all()  # an unknown task simply stays unknown; the next start looks again

    async def reconcile(self, task: Task) -> ListMatch | None:
        """Look until a decision (see the module docstring); None when the task moved on meanwhile
        or the list could never be read (it stays unknown)."""
        deps = self._deps
        first_look = deps.now()
        base = max(0.01, deps.timing.min_interval)
        delay = base
        answered = False
        attempt = 0
        while True:
            await self._sleep(max(0.0, delay))
            attempt += 1
            try:
                current = await deps.storage.tasks.get(task.id)
            except StorageError:
                log.exception("Reconciling task %s: could not re-read it", task.id)
                return None
            if current.state is not TaskState.UNKNOWN:
                return None  # a moderator (or a cancel) decided first
            found = await self._candidates(current, since=current.created_at, until=first_look)
            if found is not None:
                answered = True
                if found.match is not ListMatch.NONE:
                    return await self._decide(current, found)
            deadline = first_look + self.window  # read each time: a test may shorten it meanwhile
            if deps.now() >= deadline:
                if answered:
                    return await self._decide(current, Candidates(ListMatch.NONE))
                log.error(
                    "Task %s: the V2 task list could not be read within %.0f s; it stays unknown for "
                    "a moderator (/videoadmin tasks)",
                    task.id,
                    self.window,
                )
                await self._leave_for_moderator(current)
                return None
            delay = min(backoff(attempt + 1, base=base, cap=LOOK_INTERVAL_CAP), deadline - deps.now())

    async def _candidates(self, task: Task, *, since: float, until: float) -> Candidates | None:
        """The candidates on the pages that reach back to ``since``; None when the list failed."""
        client = self._deps.client
        entries: list[ListedTask] = []
        for page in range(1, MAX_PAGES + 1):
            try:
                listed = await client.list_v2_tasks(page_num=page)
            except MiniMaxError as exc:
                log.warning("Reconciling task %s: the V2 task list failed (%s)", task.id, exc)
                return None
            entries.extend(listed)
            times = [e.created_at for e in listed if e.created_at is not None]
            if not listed or (times and min(times) < since - CLOCK_SKEW):
                break
        fresh = [e for e in entries if not await self._recorded_elsewhere(e.task_id, task.id)]
        return match_listed(task, fresh, since=since, until=until)

    async def _recorded_elsewhere(self, api_task_id: str, task_id: int) -> bool:
        try:
            other = await self._deps.storage.tasks.get_by_api_id(api_task_id)
        except UnknownTask:
            return False
        return other.id != task_id

    async def _decide(self, task: Task, found: Candidates) -> ListMatch:
        action = RECONCILED[found.match]
        log.info("Task %s reconciled from the V2 list: %s (%s)", task.id, found.match.name, action)
        if found.match is ListMatch.ONE:
            await self._resume(task, found.task_ids[0])
        elif found.match is ListMatch.NONE:
            await self._failures.fail(task, NOT_LISTED_MESSAGE, code="unknown_not_listed")
        else:
            log.error(
                "Task %s: %d listed V2 tasks could be it (%s); it stays unknown: resume it with the right "
                "one, or refund it, with /videoadmin tasks",
                task.id,
                len(found.task_ids),
                ", ".join(found.task_ids),
            )
            await self._leave_for_moderator(task)
        return found.match

    async def _leave_for_moderator(self, task: Task) -> None:
        """The notice mark_unknown held back while the list might settle it: a moderator must."""
        if task.error_message:
            await self._cards.refresh(task, note=task.error_message)
            await self._failures.tell(task, task.error_message)

    async def _resume(self, task: Task, api_task_id: str) -> None:
        deps = self._deps
        now = deps.now()
        try:
            resumed = await deps.storage.tasks.transition(
                task.id,
                TaskState.SUBMITTED,
                now=now,
                api_task_id=api_task_id,
                submitted_at=now,
                next_poll_at=now,
            )
        except IllegalTransition:
            return  # decided by someone else meanwhile
        log.info("Task %s resumed as API task %s (found in the V2 task list)", task.id, api_task_id)
        deps.poller_wake.set()
        await self._cards.refresh(resumed)
