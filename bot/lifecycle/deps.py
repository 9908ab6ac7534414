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
from bot.lifecycle.estimate import Delivered, GenerationTime, blend
from bot.lifecycle.leases import WorkLeases
from bot.lifecycle.notifier import Notifier
from bot.lifecycle.queue import FairQueue
from bot.lifecycle.shared_limits import SharedSubmitWindow
from bot.lifecycle.status import StatusUpdater
from bot.lifecycle.timing import PollTiming
from bot.metrics import Metrics
from bot.minimax.callbacks import CallbackSwitch
from bot.minimax.ratelimit import SubmitRateLimiter
from bot.minimax.types import FileInfo, ListedTask, TaskInfo, TaskStatus
from bot.spec import Mode, VideoSpec
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
    """Generation time per (model, mode, resolution, duration): the catalog's shipped prior, taken
    over smoothly by the model's own deliveries as they come (:mod:`bot.lifecycle.estimate`).

    ``first_delay`` is ``POLL_FIRST_DELAY_SECONDS`` when the operator set it: it replaces the
    catalog's prior (a reseller or stand-in much faster or slower than MiniMax), and is then taken
    over by the deliveries the same way. Reads are cached per model for ``EXPECTATION_TTL``; a
    delivery forgets its model's entry.
    """

    storage: Storage
    clock: Callable[[], float] = time.monotonic
    first_delay: float | None = None
    scale: float = 1.0  # multiplies the catalog's figures: 1 in production (a benchmark's fast clock)
    _cache: dict[str, tuple[float, list[Delivered]]] = field(default_factory=dict)

    async def distribution(self, task: Task) -> GenerationTime:
        history = await self._history(task.model)
        return blend(
            task.model,
            task.spec.mode,
            task.spec.resolution,
            task.spec.duration,
            history,
            first_delay=self.first_delay,
            scale=self.scale,
        )

    async def seconds(self, task: Task) -> float:
        """The typical (median) time, for the card's estimate."""
        return (await self.distribution(task)).median

    async def _history(self, model: str) -> list[Delivered]:
        cached = self._cache.get(model)
        now = self.clock()
        if cached is not None and now - cached[0] < EXPECTATION_TTL:
            return cached[1]
        try:
            rows = await self.storage.tasks.generation_history(model)
            history = [Delivered(_mode(m), res, dur, secs) for m, res, dur, secs in rows]
        except StorageError:
            log.exception("Could not read the past generation times")
            history = []
        self._cache[model] = (now, history)
        return history

    def forget(self, task: Task) -> None:
        self._cache.pop(task.model, None)


def _mode(raw: str) -> Mode:
    try:
        return Mode(raw)
    except ValueError:
        return Mode.TEXT


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
    # This process's claim on the tasks it works on (:mod:`bot.lifecycle.leases`).
    leases: WorkLeases
    clock: Callable[[], float] = time.time
    poller_wake: asyncio.Event = field(default_factory=asyncio.Event)
    metrics: Metrics = field(default_factory=Metrics)
    # Push notifications (CALLBACK_URL): None when not configured.
    callbacks: CallbackSwitch | None = None
    # The account's submit window shared by every process (PostgreSQL); None on SQLite.
    submit_window: SharedSubmitWindow | None = None

    def now(self) -> float:
        return self.clock()

    @property
    def pushes_on(self) -> bool:
        """Whether submits carry a callback URL the API accepted: polling is then a safety net."""
        return self.callbacks is not None and self.callbacks.active
