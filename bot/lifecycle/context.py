"""What the lifecycle's parts share: dependencies, the status card, and the one way a task fails.

The submitter, the poller and the delivery each move tasks forward; all of them must render the same
card, refund the same way and tell the member the same way, so those steps live here once.
"""

from __future__ import annotations

import asyncio
import logging
import pathlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.config import Settings
from bot.lifecycle.account import AccountGate
from bot.lifecycle.budget import QueryBudget
from bot.lifecycle.notifier import Notifier, StatusCard
from bot.lifecycle.queue import FairQueue
from bot.lifecycle.status import StatusUpdater
from bot.lifecycle.timing import PollTiming
from bot.minimax.ratelimit import SubmitRateLimiter
from bot.minimax.types import FileInfo, GenerationRequest, TaskInfo
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

    async def submit(self, req: GenerationRequest, *, retries: int | None = None) -> str: ...

    async def query(self, task_id: str) -> TaskInfo: ...

    async def retrieve(self, file_id: str) -> FileInfo: ...

    async def download(self, url: str, dest: pathlib.Path, *, max_bytes: int) -> int: ...


@dataclass
class Expectations:
    """Median generation time per (model, resolution, duration), learned from delivered tasks."""

    storage: Storage
    clock: Callable[[], float] = time.monotonic
    _cache: dict[tuple[str, str | None, int | None], tuple[float, float | None]] = field(default_factory=dict)

    async def seconds(self, task: Task) -> float | None:
        key = (task.model, task.resolution, task.duration)
        cached = self._cache.get(key)
        now = self.clock()
        if cached is not None and now - cached[0] < EXPECTATION_TTL:
            return cached[1]
        try:
            value = await self.storage.tasks.median_generation_seconds(*key)
        except StorageError:
            log.exception("Could not read the median generation time")
            value = None
        self._cache[key] = (now, value)
        return value

    def forget(self, task: Task) -> None:
        self._cache.pop((task.model, task.resolution, task.duration), None)


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

    def now(self) -> float:
        return self.clock()

    async def card(self, task: Task, note: str | None = None) -> StatusCard:
        expected = await self.expectations.seconds(task)
        if expected is None and task.state in (TaskState.SUBMITTED, TaskState.PROCESSING, TaskState.QUEUED):
            expected = self.timing.first_delay
        position = self.queue.positions().get(task.id) if task.state is TaskState.QUEUED else None
        eta = (
            self.timing.eta(
                submitted_at=task.submitted_at, now=self.now(), expected=expected, progress=task.progress
            )
            if task.state in (TaskState.SUBMITTED, TaskState.PROCESSING)
            else None
        )
        return StatusCard(task=task, queue_position=position, expected_seconds=expected, eta=eta, note=note)

    async def refresh(self, task: Task, *, note: str | None = None) -> None:
        """Schedule a (coalesced) edit of the task's card; final states are sent at once."""
        final = task.state.final or task.state is TaskState.UNKNOWN
        self.updater.update(await self.card(task, note), final=final)

    async def refresh_queue(self) -> None:
        """Queue positions moved: refresh the card of every queued task (coalescing keeps it cheap)."""
        for task_id in self.queue.positions():
            try:
                task = await self.storage.tasks.get(task_id)
            except StorageError:
                continue
            if task.state is TaskState.QUEUED:
                await self.refresh(task)

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
        try:
            await self.notifier.post_failure(failed, message)
        except Exception:
            log.exception("Could not tell the member that task %s failed", task.id)
        return failed
