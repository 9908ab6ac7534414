"""Process-wide pacing of submits under the account's requests-per-minute limit.

MiniMax counts video submissions per account per minute and answers 1002 beyond it. Pacing on our
side keeps members' requests from being refused, and a 1002 (someone else spending the same key, or a
restart that forgot the window) pushes the next submit back instead of hammering the API.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

WINDOW_SECONDS = 60.0


class SubmitRateLimiter:
    """A sliding one-minute window of at most ``rpm`` acquisitions, plus penalties.

    ``clock`` and ``sleep`` are injectable so tests run on a fake clock without real waiting.
    Waiters are served in arrival order (an asyncio.Lock is FIFO).
    """

    def __init__(
        self,
        rpm: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rpm < 1:
            raise ValueError("rpm must be at least 1")
        self._rpm = rpm
        self._clock = clock
        self._sleep = sleep
        self._stamps: deque[float] = deque()
        self._blocked_until = float("-inf")
        self._lock = asyncio.Lock()

    @property
    def rpm(self) -> int:
        return self._rpm

    def delay(self) -> float:
        """Seconds an ``acquire()`` would wait now (0 when it would pass at once)."""
        now = self._clock()
        self._trim(now)
        wait = self._blocked_until - now
        if len(self._stamps) >= self._rpm:
            wait = max(wait, self._stamps[-self._rpm] + WINDOW_SECONDS - now)
        return max(0.0, wait)

    async def acquire(self) -> None:
        """Wait until one more submit fits in the window, then count it."""
        async with self._lock:
            while True:
                wait = self.delay()
                if wait <= 0:
                    self._stamps.append(self._clock())
                    return
                await self._sleep(wait)

    def penalize(self, seconds: float | None = None) -> None:
        """Hold every acquire for ``seconds`` (default: one slot, 60/rpm) after an API rate limit."""
        pause = WINDOW_SECONDS / self._rpm if seconds is None else max(0.0, seconds)
        self._blocked_until = max(self._blocked_until, self._clock() + pause)

    def _trim(self, now: float) -> None:
        while self._stamps and self._stamps[0] <= now - WINDOW_SECONDS:
            self._stamps.popleft()
