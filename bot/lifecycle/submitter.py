"""Take tasks from the fair queue and submit them to the API, at most a few at a time.

The order of submission is decided as late as possible (a worker slot is claimed *before* popping) so
a member who asks while others wait still gets the next fair turn.

A task is marked ``submitting`` only right before the request leaves: it waits for a free slot of the
client's ``MINIMAX_RPM`` limiter while still ``queued``, and the client is told not to retry on its
own, so a restart that finds ``submitting`` knows the API may really have the task (and never sends
it twice), while a task that was only waiting for its turn simply queues again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiohttp

from bot.backoff import backoff
from bot.catalog import as_sent
from bot.lifecycle.cards import StatusCards
from bot.lifecycle.deps import LifecycleDeps
from bot.lifecycle.failure import FailurePath
from bot.lifecycle.images import FRAME_SCHEME, ImageUnavailable, fetch_data_url
from bot.lifecycle.jobs import Jobs
from bot.lifecycle.outcomes import Outcome, Phase, outcome_for, reason_code, retry_after
from bot.lifecycle.queue import QueueEntry
from bot.lifecycle.reconcile import RECONCILING_NOTE, Reconciler
from bot.lifecycle.served import NOT_SERVED
from bot.minimax.errors import MiniMaxError, SubmitOutcomeUnknown
from bot.spec import MediaKind, VideoSpec
from storage.errors import IllegalTransition, LeaseLost, StorageError
from storage.models import Task
from storage.states import TaskState

log = logging.getLogger(__name__)

_LOOP = "submitter"

MAX_SUBMIT_ATTEMPTS = 5
PAUSE_RECHECK_SECONDS = 5.0
UNKNOWN_MESSAGE = SubmitOutcomeUnknown.user_message
CRASH_MESSAGE = (
    "Something went wrong on our side while sending your video request, so it could not be made. "
    "Your credits were refunded; please try again."
)


class Submitter:
    def __init__(
        self,
        deps: LifecycleDeps,
        cards: StatusCards,
        failures: FailurePath,
        *,
        concurrency: int = 2,
        http: aiohttp.ClientSession | None = None,
    ) -> None:
        self._deps = deps
        self._cards = cards
        self._failures = failures
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._http = http
        self._owns_http = http is None
        # The loop, a job per submit in progress, and a job per task waiting to queue again.
        self._jobs = Jobs()
        self._paused_guilds: set[int] = set()
        # One submit in flight at a time: the slot waited for is then certainly the one used.
        self._send_lock = asyncio.Lock()
        self._sending: set[asyncio.Task[None]] = set()
        self._crashes: dict[int, int] = {}  # task id → unexpected submit errors in a row
        # Looks for an unknown V2 task in the API's list (set by the service; None: moderators only).
        self.reconciler: Reconciler | None = None
        # Turns a ``videoframe:`` medium into a data URL (set by the service: Extend and Loop).
        self.frames: Callable[[str], Awaitable[str]] | None = None

    def start(self) -> None:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        if not self.running:
            self._jobs.start(self._run(), name="submitter", key=_LOOP)

    @property
    def running(self) -> bool:
        return self._jobs.running(_LOOP)

    async def stop(self) -> None:
        await self._jobs.cancel(_LOOP)  # first, so no new submit starts
        for job in self._jobs.jobs():
            if job not in self._sending:
                job.cancel()  # still queued (fetching images, waiting for a slot): it simply queues again
        if self._sending:
            # A request on the wire is left to finish briefly: cutting it would strand an "unknown".
            await asyncio.wait(list(self._sending), timeout=5)
        await self._jobs.cancel_all()
        if self._owns_http and self._http is not None:
            await self._http.close()
            self._http = None

    async def _run(self) -> None:
        while True:
            try:
                await self._deps.account.wait()
                await self._slots.acquire()
                try:
                    entry = await self._next_entry()
                except BaseException:
                    self._slots.release()
                    raise
                self._jobs.start(self._submit_released(entry), name=f"submit-{entry.task_id}")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("The submit loop hit an error; continuing")
                await asyncio.sleep(1)

    async def _next_entry(self) -> QueueEntry:
        queue = self._deps.queue
        while True:
            await self._refresh_paused_guilds()
            entry = queue.pop_nowait(lambda guild: guild not in self._paused_guilds)
            if entry is not None:
                return entry
            # Nothing eligible: wait for a new entry, or re-read pauses a little later.
            await queue.wait_changed(PAUSE_RECHECK_SECONDS if len(queue) else None)

    async def _refresh_paused_guilds(self) -> None:
        paused: set[int] = set()
        for guild_id in self._deps.queue.guild_ids():
            if guild_id == 0:
                continue
            try:
                if (await self._deps.storage.policy.get(guild_id)).paused:
                    paused.add(guild_id)
            except StorageError:
                log.exception("Could not read the policy of guild %s", guild_id)
        self._paused_guilds = paused

    async def _submit_released(self, entry: QueueEntry) -> None:
        try:
            await self.submit(entry.task_id)
        except Exception:
            log.exception("Submitting task %s failed unexpectedly", entry.task_id)
            await self._after_crash(entry)
        else:
            self._crashes.pop(entry.task_id, None)
        finally:
            self._slots.release()
            self._cards.request_queue_refresh()

    async def _after_crash(self, entry: QueueEntry) -> None:
        """An error no branch expected: the entry was popped, so without this the task would sit in
        ``queued`` until the next restart. Try again later; after a few crashes, fail and refund."""
        deps = self._deps
        crashes = self._crashes.get(entry.task_id, 0) + 1
        self._crashes[entry.task_id] = crashes
        try:
            task = await deps.storage.tasks.get(entry.task_id)
        except Exception:
            log.exception("Could not re-read task %s; queueing it again anyway", entry.task_id)
            self._requeue_entry(entry, self._crash_delay(crashes))
            return
        if task.state is not TaskState.QUEUED:
            self._crashes.pop(entry.task_id, None)
            return  # sent (then "unknown" or failed by its own branch), cancelled or resolved
        if crashes >= MAX_SUBMIT_ATTEMPTS:
            self._crashes.pop(entry.task_id, None)
            await self._failures.fail(task, CRASH_MESSAGE, code="submit_crashed")
            return
        self._requeue_entry(entry, self._crash_delay(crashes))

    def _crash_delay(self, crashes: int) -> float:
        timing = self._deps.timing
        return backoff(crashes, base=timing.min_interval, cap=timing.max_interval)

    def requeue_later(self, task: Task, delay: float) -> None:
        self._requeue_entry(QueueEntry(task.id, task.guild_id or 0, task.user_id), delay)

    def _requeue_entry(self, entry: QueueEntry, delay: float) -> None:
        self._jobs.start(self._push_later(entry, delay), name=f"requeue-{entry.task_id}")

    async def _push_later(self, entry: QueueEntry, delay: float) -> None:
        await asyncio.sleep(delay)
        self._deps.queue.push(entry, front=True)

    async def submit(self, task_id: int) -> None:
        deps = self._deps
        # Ours from here to the end (or until the lease is lost): another process skips it.
        if not await deps.leases.claim_queued(task_id):
            return  # another process is sending it, or it is no longer queued
        task = await deps.storage.tasks.get(task_id)
        if task.state is not TaskState.QUEUED:
            return  # cancelled (or resolved) while it waited
        if not deps.settings.guild_allowed(task.guild_id):
            # Queued in a server before ALLOWED_GUILD_IDS left it out: never sent, refunded.
            await self._failures.fail(task, NOT_SERVED, code="guild_not_served")
            return
        # Images are fetched while the task is still queued: nothing has been sent, so a failure
        # here is a clean refund, never an "unknown".
        try:
            request = await self._build_request(task)
        except ImageUnavailable as exc:
            await self._failures.fail(task, str(exc), code="image_unavailable")
            return
        async with self._send_lock:
            await self._wait_for_slot()
            await deps.account.sync()  # another process's account error holds this one too
            if deps.account.paused:
                # The account failed while this task waited for the lock: it waits for the pause
                # too, at the head of the queue, instead of being sent and failed like the first.
                deps.queue.push(QueueEntry(task.id, task.guild_id or 0, task.user_id), front=True)
                return
            # Read what the card needs *before* the write: between "submitting" and the request
            # nothing may wait (a crash there strands an "unknown" the API never saw).
            expected = await self._cards.expected_seconds(task)
            # Counted as sending from before the write: stop() lets it finish rather than cutting it
            # between "submitting" saved and the request sent (an "unknown" the API never saw).
            current = asyncio.current_task()
            if current is not None:
                self._sending.add(current)
            try:
                try:
                    # Checked against the lease in the same transaction: never sent by two processes.
                    task = await deps.storage.tasks.transition(
                        task.id,
                        TaskState.SUBMITTING,
                        now=deps.now(),
                        attempts=task.attempts + 1,
                        lease_owner=deps.leases.owner,
                    )
                except LeaseLost:
                    log.warning("Task %s was taken over by another process; not sent from here", task.id)
                    return
                except IllegalTransition:
                    return  # cancelled in the meantime
                self._cards.show(task, expected)
                await self._send(task, request)
            finally:
                if current is not None:
                    self._sending.discard(current)

    async def _wait_for_slot(self) -> None:
        limiter = self._deps.client.submit_limiter
        if limiter is not None:
            # The limiter says how long until a slot frees up: a timed wait, not polling for an event.
            while (wait := limiter.delay()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(wait)
        if self._deps.submit_window is not None:
            await self._deps.submit_window.take()  # the account's window, with the other processes

    async def _send(self, task: Task, request: VideoSpec) -> None:
        try:
            api_task_id = await self._deps.client.submit(request, retries=0)
        except Exception as exc:
            await self._not_submitted(task, exc)
        else:
            await self._submitted(task, api_task_id)

    async def _not_submitted(self, task: Task, exc: Exception) -> None:
        """The submit raised: do what the outcome table says (:mod:`bot.lifecycle.outcomes`)."""
        deps = self._deps
        outcome = outcome_for(Phase.SUBMIT, exc)
        if not isinstance(exc, MiniMaxError):
            log.error("Unexpected error while submitting task %s", task.id, exc_info=exc)
        if outcome is Outcome.UNKNOWN:
            detail = str(exc) if isinstance(exc, MiniMaxError) else "unexpected error during submit"
            await self.mark_unknown(task, detail, request_id=_request_id(exc))
        elif outcome is Outcome.PAUSE_ACCOUNT:
            deps.account.pause(f"{type(exc).__name__}: {exc}{_request_note(exc)}")
            await deps.account.settle()  # saved before anyone hears of it: a restart keeps the pause
            await self._failures.fail(task, _user_message(exc), code=reason_code(exc))
        elif outcome is Outcome.THROTTLE:
            limiter = deps.client.submit_limiter
            if limiter is not None:
                limiter.penalize(retry_after(exc))  # holds every submit, not only this one
            if deps.submit_window is not None:
                await deps.submit_window.penalize(retry_after(exc))  # and every process's
            await self._retry_or_fail(task, exc, delay=retry_after(exc))
        elif outcome is Outcome.RETRY:
            # The client only lets these out when the API certainly created nothing.
            await self._retry_or_fail(task, exc)
        else:
            log.warning("Task %s refused by the API: %s%s", task.id, exc, _request_note(exc))
            await self._failures.fail(task, _user_message(exc), code=reason_code(exc))

    async def _submitted(self, task: Task, api_task_id: str) -> None:
        deps = self._deps
        now = deps.now()
        expected = await deps.expectations.distribution(task)
        try:
            task = await deps.storage.tasks.transition(
                task.id,
                TaskState.SUBMITTED,
                now=now,
                api_task_id=api_task_id,
                submitted_at=now,
                next_poll_at=now + deps.timing.first_poll_delay(expected, safety_net=deps.pushes_on),
            )
        except StorageError:
            # The API has the task but we could not record it: only a moderator can match them up.
            log.critical(
                "Task %s was submitted as API task %s but could not be recorded", task.id, api_task_id
            )
            raise
        log.info("Task %s submitted as API task %s", task.id, api_task_id)
        deps.poller_wake.set()
        await self._cards.refresh(task)

    async def mark_unknown(self, task: Task, detail: str, *, request_id: str | None = None) -> None:
        """The API may have the task: never resend it; keep the API's request id, when its answer
        named one, in the stored message a moderator resolving the task reads."""
        deps = self._deps
        request = f" API request id: {request_id}." if request_id else ""
        # The start of this line is matched by the soak test (and perhaps by an operator's alert).
        if self.reconciler is not None and self.reconciler.applies(task):
            # V2: the task list usually settles it; the reconciler logs an error if a moderator must.
            log.warning(
                "Task %s: submit outcome unknown (%s). It is NOT resubmitted; looking for it in the V2 "
                "task list first.%s",
                task.id,
                detail,
                request,
            )
        else:
            log.error(
                "Task %s: submit outcome unknown (%s). It is NOT resubmitted; a moderator must resolve "
                "it with /videoadmin tasks.%s",
                task.id,
                detail,
                request,
            )
        message = unknown_message(request_id)
        try:
            task = await deps.storage.tasks.transition(
                task.id,
                TaskState.UNKNOWN,
                now=deps.now(),
                error_code="submit_unknown",
                error_message=message,
            )
        except IllegalTransition:
            return
        if self.reconciler is not None and self.reconciler.start(task):
            # V2: the task list may settle it without a moderator; the member hears "needs a
            # moderator" only if it does not (the reconciler tells them then).
            await self._cards.refresh(task, note=RECONCILING_NOTE)
            return
        await self._cards.refresh(task, note=message)
        await self._failures.tell(task, message)

    async def _retry_or_fail(self, task: Task, exc: Exception, *, delay: float | None = None) -> None:
        deps = self._deps
        if task.attempts >= MAX_SUBMIT_ATTEMPTS:
            log.warning(
                "Task %s: giving up after %d submit attempts (%s%s)",
                task.id,
                task.attempts,
                exc,
                _request_note(exc),
            )
            await self._failures.fail(task, _user_message(exc), code=reason_code(exc))
            return
        try:
            task = await deps.storage.tasks.transition(task.id, TaskState.QUEUED, now=deps.now())
        except IllegalTransition:
            return
        if delay is None:
            delay = backoff(task.attempts, base=deps.timing.min_interval, cap=deps.timing.max_interval)
        log.warning(
            "Task %s: submit not accepted (%s%s); queued again in %.1f s",
            task.id,
            exc,
            _request_note(exc),
            delay,
        )
        self.requeue_later(task, delay)
        await self._cards.refresh(task)

    async def _build_request(self, task: Task) -> VideoSpec:
        """The stored spec with each image fetched here and sent inline (the API may not reach Discord).

        Reference videos and audio go as their URLs: up to 15 s of video would not fit a request
        body, and the V2 API fetches public URLs itself.
        """
        urls: list[str] = []
        for medium in task.spec.media:
            assert self._http is not None, "start() the submitter first"
            if medium.url.startswith(FRAME_SCHEME) and self.frames is not None:
                urls.append(await self.frames(medium.url))  # a delivered video's frame (Extend, Loop)
            elif medium.kind is MediaKind.IMAGE:
                urls.append(await fetch_data_url(self._http, medium.url))
            else:
                urls.append(medium.url)
        return as_sent(task.spec.with_media_urls(urls))


def _user_message(exc: Exception) -> str:
    return exc.user_message if isinstance(exc, MiniMaxError) else MiniMaxError.user_message


def unknown_message(request_id: str | None) -> str:
    """What an unknown task says (card, notice, stored message): with the API's request id when
    there is one, so the moderator resolving it (and the member) have something to quote."""
    if request_id is None:
        return UNKNOWN_MESSAGE
    return f"{UNKNOWN_MESSAGE} Reference for the video service: request {request_id}."


def _request_id(exc: Exception) -> str | None:
    return exc.request_id if isinstance(exc, MiniMaxError) else None


def _request_note(exc: Exception) -> str:
    return exc.request_note if isinstance(exc, MiniMaxError) else ""
