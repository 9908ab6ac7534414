"""The poller: one supervised loop that queries every running task when it falls due.

Each task's next query time is stored on the task (``next_poll_at``), so a restart resumes the
schedule instead of querying everything at once. Queries spend a token bucket that is a configurable
share of the API's query rate; errors back off per task and rate limits pause every query. The loop
catches everything: a bug in one task's handling is logged and the task is retried later, the loop
itself never dies.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.lifecycle.cards import StatusCards
from bot.lifecycle.deps import LifecycleDeps
from bot.lifecycle.estimate import finish_estimate
from bot.lifecycle.failure import FailurePath
from bot.lifecycle.jobs import Jobs, wait_event
from bot.lifecycle.outcomes import Outcome, Phase, outcome_for, reason_code, retry_after
from bot.minimax.errors import ACCOUNT_ERRORS, MiniMaxError
from bot.minimax.parsing import task_failure_error
from bot.minimax.types import TaskInfo, TaskStatus
from storage.errors import IllegalTransition, StorageError
from storage.models import Task
from storage.states import POLLED_STATES, TaskState

log = logging.getLogger(__name__)

TIMEOUT_MESSAGE = (
    "The video service did not finish this video in time ({minutes} minutes), so it was cancelled. "
    "Your credits were refunded; please try again."
)
IDLE_WAIT = 60.0
_LOOP = "poller"

OnSucceeded = Callable[[Task, TaskInfo], Awaitable[None]]


class Tracker:
    def __init__(
        self,
        deps: LifecycleDeps,
        cards: StatusCards,
        failures: FailurePath,
        *,
        on_succeeded: OnSucceeded,
        concurrency: int = 4,
    ) -> None:
        self._deps = deps
        self._cards = cards
        self._failures = failures
        self._on_succeeded = on_succeeded
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._in_flight: set[int] = set()
        self._errors: dict[int, int] = {}
        # task id → when a query last saw it running: the finish lies between that and the success.
        self._seen_running: dict[int, float] = {}
        self._jobs = Jobs()  # the loop, and one poll per task being queried
        self.queries = 0

    def start(self) -> None:
        if not self.running:
            self._jobs.start(self._run(), name="poller", key=_LOOP)

    @property
    def running(self) -> bool:
        return self._jobs.running(_LOOP)

    async def stop(self) -> None:
        await self._jobs.cancel(_LOOP)  # first, so no new poll starts
        await self._jobs.cancel_all()

    def wake(self) -> None:
        self._deps.poller_wake.set()

    async def _run(self) -> None:
        wake = self._deps.poller_wake
        while True:
            try:
                wake.clear()
                await self._poll_due()
                delay = await self._until_next()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("The poller hit an error; it carries on")
                delay = self._deps.timing.min_interval
            await wait_event(wake, delay)

    async def _until_next(self) -> float:
        """Seconds until a task that is not being polled right now falls due.

        A task being queried keeps its old, already due ``next_poll_at`` until the answer is written;
        counting it would make the loop wake at once, skip it, and spin for as long as the query
        takes. Only the tasks in flight can come before the first one that is not (the due list is
        ordered), so asking for one more than are in flight is enough. A poll that ends sets the
        wake event itself.
        """
        tasks = self._deps.storage.tasks
        now = self._deps.now()
        owner = self._deps.leases.owner
        if not self._in_flight:
            next_at = await tasks.next_poll_time(lease_owner=owner)
        else:
            in_flight = set(self._in_flight)
            upcoming = await tasks.due_for_poll(now + IDLE_WAIT, limit=len(in_flight) + 1, lease_owner=owner)
            next_at = next(
                (t.next_poll_at for t in upcoming if t.id not in in_flight and t.next_poll_at is not None),
                None,
            )
        if next_at is None:
            return IDLE_WAIT
        return max(0.0, min(IDLE_WAIT, next_at - now))

    async def _poll_due(self) -> None:
        # Only the tasks this process holds: another process polls its own (bot.lifecycle.leases).
        due = await self._deps.storage.tasks.due_for_poll(
            self._deps.now(), limit=50, lease_owner=self._deps.leases.owner
        )
        for task in due:
            if task.id in self._in_flight:
                continue
            await self._slots.acquire()
            self._in_flight.add(task.id)
            self._jobs.start(self._poll_released(task), name=f"poll-{task.id}")

    async def _poll_released(self, task: Task) -> None:
        try:
            fresh = await self._still_due(task)
            if fresh is not None:
                await self.poll(fresh)
        except Exception:
            log.exception("Polling task %s failed unexpectedly; it will be polled again", task.id)
            try:
                await self._after_crash(task)
            except Exception:
                log.exception("Could not reschedule task %s after the crash", task.id)
        finally:
            self._in_flight.discard(task.id)
            self._slots.release()
            self.wake()

    async def _still_due(self, task: Task) -> Task | None:
        """The task as stored now, or None when it no longer needs this query.

        The due list may be older than the slot wait that followed it: meanwhile the task may have
        been polled (and rescheduled), failed or resolved by a moderator.
        """
        fresh = await self._deps.storage.tasks.get(task.id)
        if fresh.state not in POLLED_STATES:
            return None
        if fresh.next_poll_at is not None and fresh.next_poll_at > self._deps.now():
            return None
        return fresh

    async def poll(self, task: Task) -> None:
        """Query one task once and act on the answer."""
        deps = self._deps
        if task.api_task_id is None:
            log.error("Task %s is %s without an API task id; failing it", task.id, task.state)
            await self._failures.fail(
                task, "The video request was lost. Your credits were refunded.", code="no_api_id"
            )
            return
        await deps.budget.acquire()
        self.queries += 1
        try:
            # One budget token, one request: the backoff below is the only retry.
            info = await deps.client.query(task.api_task_id, retries=0, model=task.model)
        except MiniMaxError as exc:
            await self._query_failed(task, exc)
            return
        self._errors.pop(task.id, None)
        if info.status is TaskStatus.SUCCEEDED:
            await self._succeeded(task, info)
        elif info.status is TaskStatus.FAILED:
            self._seen_running.pop(task.id, None)
            error = task_failure_error(info)
            log.info("Task %s failed at the API: %s", task.id, error)
            code = str(info.error_code) if info.error_code else type(error).__name__
            await self._failures.fail(task, error.user_message, code=code)
        elif self._timed_out(task):
            await self._time_out(task)
        else:
            await self._running(task, info)

    async def _query_failed(self, task: Task, exc: MiniMaxError) -> None:
        """The query call raised: do what the outcome table says (:mod:`bot.lifecycle.outcomes`)."""
        outcome = outcome_for(Phase.QUERY, exc)
        if isinstance(exc, ACCOUNT_ERRORS):
            log.critical(
                "Querying task %s: the API account has a problem: %s%s", task.id, exc, exc.request_note
            )
        if outcome is Outcome.FAIL:
            self._errors.pop(task.id, None)
            await self._failures.fail(task, exc.user_message, code=reason_code(exc))
            return
        if outcome is Outcome.THROTTLE:
            self._deps.budget.penalize(retry_after(exc))
        await self._on_error(task, exc)

    def _timed_out(self, task: Task) -> bool:
        return self._deps.timing.timed_out(task, now=self._deps.now())

    async def _time_out(self, task: Task) -> None:
        self._errors.pop(task.id, None)
        self._seen_running.pop(task.id, None)
        minutes = round(self._deps.timing.timeout / 60, 1)
        log.warning("Task %s (API %s) timed out after %s minutes", task.id, task.api_task_id, minutes)
        message = TIMEOUT_MESSAGE.format(minutes=f"{minutes:g}")
        await self._failures.fail(task, message, code="timeout")

    async def _running(self, task: Task, info: TaskInfo) -> None:
        deps = self._deps
        now = deps.now()
        expected = await deps.expectations.distribution(task)
        started = task.submitted_at if task.submitted_at is not None else now
        delay = deps.timing.next_poll_delay(
            elapsed=now - started, expected=expected, progress=info.progress, safety_net=deps.pushes_on
        )
        next_at = min(now + delay, started + deps.timing.timeout)
        self._seen_running[task.id] = now
        changed = info.progress != task.progress or task.state is not TaskState.PROCESSING
        try:
            task = await deps.storage.tasks.transition(
                task.id,
                TaskState.PROCESSING,
                now=now,
                api_status=info.raw_status,
                progress=info.progress,
                next_poll_at=next_at,
            )
        except IllegalTransition:
            return
        if changed:
            await self._cards.refresh(task)

    async def _finished_at(self, task: Task) -> float:
        """The likely moment the API finished (see :func:`bot.lifecycle.estimate.finish_estimate`)."""
        now = self._deps.now()
        seen = self._seen_running.pop(task.id, None)
        if task.submitted_at is None:
            return now
        belief = await self._deps.expectations.distribution(task)
        after = 0.0 if seen is None else max(0.0, seen - task.submitted_at)
        return task.submitted_at + finish_estimate(belief, after=after, by=now - task.submitted_at)

    async def _succeeded(self, task: Task, info: TaskInfo) -> None:
        deps = self._deps
        finished_at = await self._finished_at(task)
        try:
            task = await deps.storage.tasks.transition(
                task.id,
                TaskState.DOWNLOADING,
                now=deps.now(),
                api_status=info.raw_status,
                progress=100,
                file_id=info.file_id,
                width=info.width,
                height=info.height,
                finished_at=finished_at,
                # The API's own figure (V2 usage); delivery replaces it with the file's when it can.
                delivered_seconds=info.output_seconds,
            )
        except IllegalTransition:
            return
        try:
            await self._cards.refresh(task)
        except Exception:  # the card is cosmetic; the delivery below is not
            log.exception("Could not refresh the card of task %s", task.id)
        await self._on_succeeded(task, info)

    async def _after_crash(self, task: Task) -> None:
        """Like an API error: counted (so it backs off) and bounded by the time-out, so a task whose
        every poll hits a bug ends failed and refunded instead of being polled forever."""
        task = await self._deps.storage.tasks.get(task.id)  # the crash may have come after it moved on
        if task.state not in POLLED_STATES:
            self._errors.pop(task.id, None)
            self._seen_running.pop(task.id, None)
            return  # downloading, delivered, failed...: no longer the poller's
        errors = self._errors.get(task.id, 0) + 1
        self._errors[task.id] = errors
        if self._timed_out(task):
            await self._time_out(task)
            return
        await self._reschedule(task, errors=errors)

    async def _on_error(self, task: Task, exc: MiniMaxError) -> None:
        errors = self._errors.get(task.id, 0) + 1
        self._errors[task.id] = errors
        log.warning("Querying task %s failed (%d in a row): %s%s", task.id, errors, exc, exc.request_note)
        if self._timed_out(task):
            await self._time_out(task)
            return
        await self._reschedule(task, errors=errors)

    async def _reschedule(self, task: Task, *, errors: int) -> None:
        deps = self._deps
        now = deps.now()
        delay = deps.timing.next_poll_delay(elapsed=0, expected=None, progress=None, errors=errors)
        started = task.submitted_at if task.submitted_at is not None else now
        deadline = started + deps.timing.timeout
        # Never sleep past the time-out, but never re-poll at once either (a failing task would spin).
        next_at = now + delay if deadline <= now else min(now + delay, deadline)
        try:
            await deps.storage.tasks.update_fields(task.id, next_poll_at=next_at)
        except StorageError:
            log.exception("Could not reschedule task %s", task.id)
