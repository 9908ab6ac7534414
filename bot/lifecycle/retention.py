"""RETENTION_DAYS: finished tasks' prompts are erased once they are that old, at start and daily.

What is erased, and what is kept, is storage's rule (:mod:`storage.retention`); this is only the
clock that applies it. Without RETENTION_DAYS nothing runs and prompts are kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.lifecycle.jobs import Jobs, wait_event
from storage import Storage, StorageError

log = logging.getLogger(__name__)

DAY = 86_400.0


class Retention:
    def __init__(
        self, storage: Storage, days: int, *, clock: Callable[[], float], interval: float = DAY
    ) -> None:
        self._storage = storage
        self._days = days
        self._clock = clock
        self.interval = interval
        self._jobs = Jobs()
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._stopping.clear()
        self._jobs.start(self._loop(), name="retention", key="retention")

    async def stop(self) -> None:
        self._stopping.set()
        await self._jobs.cancel_all()

    async def run_once(self) -> int:
        """Erase what is older than the retention now; how many prompts were erased."""
        erased = await self._storage.retention.erase_finished_prompts(self._clock() - self._days * DAY)
        if erased:
            log.info(
                "Erased the prompts of %d tasks finished over %d days ago (RETENTION_DAYS)",
                erased,
                self._days,
            )
        return erased

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except StorageError as exc:  # a locked or full disk: the next day tries again
                log.warning("Could not erase old prompts (RETENTION_DAYS): %s", exc)
            if await wait_event(self._stopping, self.interval):
                return
