"""The poller's share of the API's query rate, as a token bucket.

Queries and retrieves are not paced by the API client (only submits are), yet MiniMax limits them
too. The bucket holds a few seconds' worth of tokens so a restart with many due tasks spreads its
queries out instead of bursting, and a rate-limit answer empties it for the time the API asked.

With several processes on one database (PostgreSQL) the bucket is also kept there (``store``:
:meth:`storage.rates.RateRepository.take_token`), so together they spend one share of the account's
rate, and a rate-limit answer to one holds them all. A busy process takes the shared tokens in
blocks (a quarter second's worth at the whole rate, at most a quarter of the burst; one at a time
at a low rate) and spends them locally: one database write per block instead of one per query. A
block taken and not yet spent is at most that much ahead of the bucket, so the processes together
may burst a block each beyond it; a rate-limit answer drops it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from bot.lifecycle.jobs import Jobs
from bot.lifecycle.shared_limits import MAX_WAIT, QUERY_BUCKET, RateStore

log = logging.getLogger(__name__)

# A block of shared tokens lasts this long at the whole rate (see the module docstring).
BLOCK_SECONDS = 0.25


class QueryBudget:
    def __init__(
        self,
        per_minute: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        store: RateStore | None = None,
        wall_clock: Callable[[], float] = time.time,
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
        self._store = store
        self._wall = wall_clock  # the shared bucket's stamps: the same in every process
        self._jobs = Jobs()
        # Shared tokens taken in a block and not yet spent; how many one write takes.
        self._held = 0
        self.block = max(1, min(int(self._rate * BLOCK_SECONDS), int(self._capacity / 4)))
        self.shared_takes = 0  # database writes spent on the shared bucket (tests, the bench)

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
            while (wait := await self._shared_wait()) > 0:
                await self._sleep(min(wait, MAX_WAIT))
            self._tokens -= 1
            self.spent += 1

    def penalize(self, seconds: float | None) -> None:
        """Hold every query for ``seconds`` (a Retry-After), or for one token's worth when unknown."""
        pause = 1 / self._rate if seconds is None else max(0.0, seconds)
        self._blocked_until = max(self._blocked_until, self._clock() + pause)
        self._tokens = min(self._tokens, 0.0)
        self._held = 0  # a block taken before the answer is not spent after it
        if self._store is not None:
            self._jobs.start(self._share_penalty(pause), name="query-penalty-save")

    async def _shared_wait(self) -> float:
        """0 once a token of the shared bucket is spent; else how long until one is there."""
        if self._store is None:
            return 0.0
        if self._held > 0:
            self._held -= 1
            return 0.0
        try:
            self.shared_takes += 1
            taken, wait = await self._store.take_tokens(
                QUERY_BUCKET,
                per_second=self._rate,
                capacity=self._capacity,
                now=self._wall(),
                most=self.block,
            )
        except Exception:
            log.exception("Could not read the shared query budget; pacing this process alone")
            return 0.0
        if taken > 0:
            self._held = taken - 1
            return 0.0
        return max(wait, 1e-3)  # nothing taken: never a zero wait that would spend a token anyway

    async def _share_penalty(self, pause: float) -> None:
        assert self._store is not None
        now = self._wall()
        try:
            await self._store.block(QUERY_BUCKET, until=now + pause, now=now)
        except Exception:
            log.exception("Could not share the query penalty; this process holds back alone")
