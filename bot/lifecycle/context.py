"""What the lifecycle's parts share: dependencies, the status card, and the one way a task fails.

The submitter, the poller and the delivery each move tasks forward; all of them must render the same
card, refund the same way and tell the member the same way, so those steps live here once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pathlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bot.config import Settings
from bot.lifecycle.account import AccountGate
from bot.lifecycle.budget import QueryBudget
from bot.lifecycle.notifier import Notifier, StatusCard
from bot.lifecycle.queue import FairQueue
from bot.lifecycle.status import StatusUpdater
from bot.lifecycle.supervise import supervised
from bot.lifecycle.timing import PollTiming
from bot.minimax.ratelimit import SubmitRateLimiter
from bot.minimax.types import FileInfo, TaskInfo
from bot.spec import VideoSpec
from storage import Storage
from storage.errors import IllegalTransition, StorageError
from storage.models import Task
from storage.states import TaskState

log = logging.getLogger(__name__)

EXPECTATION_TTL = 300.0


class VideoAPI(Protocol):
    """The calls the lifecycle makes; :class:`bot.minimax.client.MiniMaxClient` provides them."""

    @property
    def submit_limiter(self) -> SubmitRateLimiter | None: ...

    async def submit(self, spec: VideoSpec, *, retries: int | None = None) -> str: ...

    async def query(self, task_id: str, *, retries: int | None = None) -> TaskInfo: ...

    async def retrieve(self, file_id: str, *, retries: int | None = None) -> FileInfo: ...

    async def download(self, url: str, dest: pathlib.Path, *, max_bytes: int) -> int: ...


@dataclass
class Expectations:
    """Median generation time per (model, resolution, duration), learned from delivered tasks."""

    storage: Storage
    clock: Callable[[], float] = time.monotonic
    _cache: dict[tuple[str, str | None, int | None], tuple[float, float | None]] = field(default_factory=dict)

    async def seconds(self, task: Task) -> float | None:
        key = (task.model, task.spec.resolution, task.spec.duration)
        cached = self._cache.get(key)
        now = self.clock()
        if cached is not None and now - cached[0] < EXPECTATION_TTL:
            return cached[1]
        try:
            value = await self.storage.tasks.median_generation_seconds(*key)
            if value is None:
                # Nothing delivered in this combination yet: the model's other combinations are a
                # far better first guess than the flat configured delay.
                value = await self.storage.tasks.median_generation_seconds(*key, any_combination=True)
        except StorageError:
            log.exception("Could not read the median generation time")
            value = None
        self._cache[key] = (now, value)
        return value

    def forget(self, task: Task) -> None:
        self._cache.pop((task.model, task.spec.resolution, task.spec.duration), None)


@dataclass
class Context:
    settings: Settings
    storage: Storage
    client: VideoAPI
    notifier: Notifier
    queue: FairQueue
    budget: QueryBudget
    updater: StatusUpdater
    account: AccountGate
    expectations: Expectations
    timing: PollTiming
    clock: Callable[[], float] = time.time
    poller_wake: asyncio.Event = field(default_factory=asyncio.Event)
    # task id → the queue position its card shows (or is about to), so unmoved cards are not edited.
    _shown_positions: dict[int, int] = field(default_factory=dict)
    # One background refresh of queue positions at a time; requests meanwhile ask for one more pass.
    _queue_refresh: asyncio.Task[None] | None = field(default=None, init=False)
    _queue_dirty: bool = field(default=False, init=False)
    _queue_refresh_stopped: bool = field(default=False, init=False)

    def now(self) -> float:
        return self.clock()

    async def expected_seconds(self, task: Task) -> float | None:
        """How long a generation like this takes (learned, else the configured first-poll delay)."""
        expected = await self.expectations.seconds(task)
        if expected is None and task.state in (TaskState.SUBMITTED, TaskState.PROCESSING, TaskState.QUEUED):
            expected = self.timing.first_delay
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
        if expected is None and task.state in (TaskState.SUBMITTED, TaskState.PROCESSING, TaskState.QUEUED):
            expected = self.timing.first_delay
        position = None
        if task.state is TaskState.QUEUED:
            position = (self.queue.positions() if positions is None else positions).get(task.id)
            if position is not None:
                self._shown_positions[task.id] = position
        else:
            self._shown_positions.pop(task.id, None)
        eta = (
            self.timing.eta(
                submitted_at=task.submitted_at, now=self.now(), expected=expected, progress=task.progress
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
        self.updater.update(self.render(task, expected, note, positions=positions), final=final)

    def request_queue_refresh(self) -> None:
        """Refresh queue positions in the background, coalesced.

        A burst of requests moves every waiting card; refreshing inline made each member's answer
        wait for everyone else's card (200 concurrent commands took 15 s to confirm).
        """
        if self._queue_refresh_stopped:
            return  # shutting down: the cards are redrawn at the next start
        self._queue_dirty = True
        if self._queue_refresh is None or self._queue_refresh.done():
            self._queue_refresh = supervised(self._refresh_queue_until_clean(), name="queue-refresh")

    async def settle_queue_refresh(self) -> None:
        """Wait for a pending background refresh (tests, shutdown)."""
        while self._queue_refresh is not None and not self._queue_refresh.done():
            await asyncio.shield(self._queue_refresh)

    def allow_queue_refresh(self) -> None:
        """(Re)started: background refreshes may run again."""
        self._queue_refresh_stopped = False

    async def stop_queue_refresh(self) -> None:
        self._queue_refresh_stopped = True
        if self._queue_refresh is not None and not self._queue_refresh.done():
            self._queue_refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._queue_refresh

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
        positions = self.queue.positions()
        for task_id in [t for t in self._shown_positions if t not in positions]:
            del self._shown_positions[task_id]
        for task_id, position in positions.items():
            if self._shown_positions.get(task_id) == position:
                continue
            try:
                task = await self.storage.tasks.get(task_id)
            except StorageError:
                continue
            if task.state is TaskState.QUEUED:
                self.show(task, await self.expected_seconds(task), positions=positions)

    async def fail(self, task: Task, message: str, *, code: str) -> Task | None:
        """Mark failed (the storage refunds in the same transaction), then tell the member.

        Returns None when the task had already moved on (cancelled, or failed by someone else), in
        which case nothing is said twice.
        """
        try:
            failed = await self.storage.tasks.transition(
                task.id, TaskState.FAILED, now=self.now(), error_code=code, error_message=message
            )
        except IllegalTransition as exc:
            log.info("Task %s not failed (%s): already %s", task.id, code, exc.from_state)
            return None
        log.info("Task %s failed (%s), refunded %s tenths", task.id, code, task.cost_tenths)
        await self.refresh(failed, note=message)
        await self.tell_failure(failed, message)
        return failed

    async def tell_failure(self, task: Task, message: str) -> None:
        """Post the failure notice, then record it. A crash between the two repeats the notice at the
        next start (after looking for it); a crash before it, or a notice that reached no one (Discord
        down), is what the record lets a start repair."""
        try:
            posted = await self.notifier.post_failure(task, message)
        except Exception:
            log.exception("Could not tell the member about task %s; retried at the next start", task.id)
            return
        if posted is None:
            log.warning("The failure notice of task %s reached no one; retried at the next start", task.id)
            return
        try:
            await self.storage.tasks.update_fields(task.id, notified_at=self.now())
        except StorageError:
            log.exception("Could not record the notice of task %s", task.id)
