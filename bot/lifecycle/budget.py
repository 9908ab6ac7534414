"""The poller's share of the API's query rate, as a token bucket.

Queries and retrieves are not paced by the API client (only submits are), yet MiniMax limits them
too. The bucket holds a few seconds' worth of tokens so a restart with many due tasks spreads its
queries out instead of bursting, and a rate-limit answer empties it for the time the API asked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class QueryBudget:
    def __init__(
        self,
        per_minute: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be above 0")
        self._rate = per_minute / 60.0
        self._capacity = max(1.0, burst if burst is not None else per_minute / 12.0)
        self._tokens = self._capacity
        self._clock = clock
        self._sleep = sleep
        self._stamp = clock()
        self._blocked_until = float("-inf")
        self._lock = asyncio.Lock()
        self.spent = 0

    @property
    def per_minute(self) -> float:
        return self._rate * 60.0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now

    def delay(self) -> float:
        """Seconds an ``acquire`` would wait now."""
        self._refill()
        wait = max(0.0, self._blocked_until - self._clock())
        if self._tokens < 1:
            wait = max(wait, (1 - self._tokens) / self._rate)
        return wait

    async def acquire(self) -> None:
        async with self._lock:
            while (wait := self.delay()) > 0:
                await self._sleep(wait)
            self._tokens -= 1
            self.spent += 1

    def penalize(self, seconds: float | None) -> None:
        """Hold every query for ``seconds`` (a Retry-After), or for one token's worth when unknown."""
        pause = 1 / self._rate if seconds is None else max(0.0, seconds)
        self._blocked_until = max(self._blocked_until, self._clock() + pause)
        self._tokens = min(self._tokens, 0.0)
