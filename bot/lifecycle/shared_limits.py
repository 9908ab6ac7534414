"""The account's submission limit, spent by every process together (PostgreSQL).

The API client paces its own process (:class:`bot.minimax.ratelimit.SubmitRateLimiter`); with
several processes on one key that is N times the account's ``MINIMAX_RPM``. Before each submit the
submitter also takes a slot of one sliding window kept in the database
(:meth:`storage.rates.RateRepository.take_slot`), so the processes' submits together stay within it;
a rate-limit answer holds that window for everyone. SQLite runs one process: there the client's own
limiter is the whole story and this is not used.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.minimax import ratelimit

log = logging.getLogger(__name__)

SUBMIT_WINDOW = "submit"
QUERY_BUCKET = "query"
# Never sleep longer than this between two looks: a penalty lifted or a slot freed elsewhere.
MAX_WAIT = 5.0


class RateStore(Protocol):
    """The slice of ``storage.rates`` the shared limits use."""

    async def take_slot(self, name: str, *, limit: int, window: float, now: float) -> float: ...

    async def take_tokens(
        self, name: str, *, per_second: float, capacity: float, now: float, most: int = 1
    ) -> tuple[int, float]: ...

    async def block(self, name: str, *, until: float, now: float) -> None: ...


class SharedSubmitWindow:
    def __init__(
        self,
        store: RateStore,
        rpm: int,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._rpm = rpm
        self._clock = clock  # wall-clock: every process reads the same stamps
        self._sleep = sleep
        self.waited = 0.0

    async def take(self) -> None:
        """Wait until the account's window has room, then count this submit in it."""
        while True:
            # Read each time: the window is the API's minute (a test may shorten it).
            wait = await self._store.take_slot(
                SUBMIT_WINDOW, limit=self._rpm, window=ratelimit.WINDOW_SECONDS, now=self._clock()
            )
            if wait <= 0:
                return
            wait = min(wait, MAX_WAIT)
            self.waited += wait
            await self._sleep(wait)

    async def penalize(self, seconds: float | None) -> None:
        """Hold every process's submits for ``seconds`` (a Retry-After), or one slot when unknown."""
        pause = ratelimit.WINDOW_SECONDS / self._rpm if seconds is None else max(0.0, seconds)
        now = self._clock()
        try:
            await self._store.block(SUBMIT_WINDOW, until=now + pause, now=now)
        except Exception:
            log.exception("Could not share the submit penalty; this process holds back alone")
