"""A process-wide stop for submissions when the API account itself is broken.

Bad key, empty balance, plan limits: every further submit would fail the same way and spend members'
patience (and the API's rate). Submissions wait until the pause ends (a cool-down after which one
task probes the account again) or a moderator resumes them; polling of running tasks continues.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from bot.lifecycle.supervise import wait_event

log = logging.getLogger(__name__)


class AccountGate:
    def __init__(self, *, cooldown: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._cooldown = cooldown
        self._clock = clock
        self._until = float("-inf")
        self.reason: str | None = None
        self._resumed = asyncio.Event()
        self._resumed.set()

    @property
    def paused(self) -> bool:
        if self._until != float("-inf") and self._clock() >= self._until:
            self.resume()
        return self._until != float("-inf")

    def remaining(self) -> float:
        return max(0.0, self._until - self._clock()) if self.paused else 0.0

    def pause(self, reason: str) -> None:
        self._until = self._clock() + self._cooldown
        self.reason = reason
        self._resumed.clear()
        log.critical(
            "Submissions PAUSED for %.0f s because of an account problem: %s. "
            "Fix the MiniMax account, then a moderator can resume with /videoadmin (or wait).",
            self._cooldown,
            reason,
        )

    def resume(self) -> None:
        if self._until != float("-inf"):
            log.warning("Submissions resumed")
        self._until = float("-inf")
        self.reason = None
        self._resumed.set()

    async def wait(self) -> None:
        """Return once submissions may go out again."""
        while self.paused:
            await wait_event(self._resumed, self.remaining() + 0.01)
