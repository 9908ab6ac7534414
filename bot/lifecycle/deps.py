"""What the lifecycle's workers share: the dependencies record, and the learned generation times.

The submitter, the poller and the delivery each move tasks forward with the same storage, API client,
queue, budget and clock; :class:`LifecycleDeps` carries them so each worker takes one argument, and
tests can hand in fakes. It holds no behaviour beyond reading the clock: the status cards live in
:mod:`bot.lifecycle.cards`, the one way a task fails in :mod:`bot.lifecycle.failure`.
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
from bot.lifecycle.notifier import Notifier
from bot.lifecycle.queue import FairQueue
from bot.lifecycle.status import StatusUpdater
from bot.lifecycle.timing import PollTiming
from bot.metrics import Metrics
from bot.minimax.ratelimit import SubmitRateLimiter
from bot.minimax.types import FileInfo, ListedTask, TaskInfo, TaskStatus
from bot.spec import VideoSpec
from storage import Storage
from storage.errors import StorageError
from storage.models import Task

log = logging.getLogger(__name__)

EXPECTATION_TTL = 300.0


class VideoAPI(Protocol):
    """The calls the lifecycle makes; :class:`bot.minimax.client.MiniMaxClient` provides them.

    One set of calls for both API families: ``submit`` reads the family from the spec's model and
    ``query`` from the ``model`` it is given; a V2 answer carries the video URL
    (:attr:`TaskInfo.download_url`), so delivery never calls ``retrieve`` for it.
    """

    @property
    def submit_limiter(self) -> SubmitRateLimiter | None: ...

    async def submit(self, spec: VideoSpec, *, retries: int | None = None) -> str: ...

    # ``model`` (the task's) lets the client pick the API family (V1 or V2) from the catalog.
    async def query(
        self, task_id: str, *, retries: int | None = None, model: str | None = None
    ) -> TaskInfo: ...

    async def retrieve(self, file_id: str, *, retries: int | None = None) -> FileInfo: ...

    async def download(self, url: str, dest: pathlib.Path, *, max_bytes: int) -> int: ...

    # V2 only: the account's recent tasks (reconciling a lost submit answer), and cancelling a queued one.
    async def list_v2_tasks(self, *, page_num: int = 1, page_size: int = 50) -> list[ListedTask]: ...

    async def cancel_v2(self, task_id: str) -> None: ...

    # V2 only: the prompt preview (an expansion task, read until it names its prompt).
    async def start_prompt_expansion(self, spec: VideoSpec) -> str: ...

    async def prompt_expansion(self, task_id: str) -> tuple[TaskStatus, str | None]: ...


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
class LifecycleDeps:
    """The lifecycle's dependencies (not named ``Context``: discord.py has one)."""

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
    metrics: Metrics = field(default_factory=Metrics)

    def now(self) -> float:
        return self.clock()
