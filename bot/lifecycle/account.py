"""A process-wide stop for submissions when the API account itself is broken.

Bad key, empty balance, plan limits: every further submit would fail the same way and spend members'
patience (and the API's rate). Submissions wait until the pause ends (a cool-down after which one
task probes the account again) or a moderator resumes them; polling of running tasks continues.

The pause (its end, as wall-clock time, and its reason) is saved in the bot's state table: a restart
inside the window must not send the queue straight back into the same account error. With several
processes on one database (``shared``) that row is the pause for all of them: each reads it again
before a submit (:meth:`AccountGate.sync`), so one process's account error holds every process, and a
moderator's resume in any process lets them all go.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable
from typing import Protocol

from bot.lifecycle.jobs import Jobs, wait_event

log = logging.getLogger(__name__)

PAUSE_KEY = "account_pause"
MAX_REASON_CHARS = 500
_WRITER = "account-pause-save"
# While paused with others (shared), the saved pause is read again this often (a resume elsewhere).
SYNC_SECONDS = 2.0


class StateStore(Protocol):
    """The slice of ``storage.state`` the gate uses (a dict-backed fake in unit tests)."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, *, now: float | None = None) -> None: ...

    async def delete(self, key: str) -> bool: ...


class AccountGate:
    def __init__(
        self,
        *,
        cooldown: float,
        store: StateStore | None = None,
        clock: Callable[[], float] = time.time,
        shared: bool = False,
    ) -> None:
        self._cooldown = cooldown
        self._shared = shared and store is not None
        self._store = store
        self._clock = clock  # wall-clock: the end of a pause is saved and read back after a restart
        self._until = float("-inf")
        self.reason: str | None = None
        self._resumed = asyncio.Event()
        self._resumed.set()
        # Saves run in the background (``pause`` is called where nothing may wait) and in order:
        # one writer at a time, which always writes the latest state last.
        self._dirty = False
        self._jobs = Jobs()

    @property
    def paused(self) -> bool:
        if self._until != float("-inf") and self._clock() >= self._until:
            log.warning("Submissions resumed: the account pause ended")
            self._clear()
        return self._until != float("-inf")

    @property
    def until(self) -> float | None:
        """When the pause ends (unix time), or None when submissions flow."""
        return self._until if self.paused else None

    def remaining(self) -> float:
        return max(0.0, self._until - self._clock()) if self.paused else 0.0

    async def load(self) -> None:
        """Take up a pause an earlier run saved, if it has not ended yet (call once, at start-up)."""
        if self._store is None:
            return
        try:
            raw = await self._store.get(PAUSE_KEY)
        except Exception:
            log.exception("Could not read the saved account pause; submissions are not held back")
            return
        if raw is None:
            return
        saved = _parse(raw)
        if saved is None:
            log.warning("Ignoring an unreadable saved account pause: %.100r", raw)
            return
        until, reason = saved
        if until <= self._clock():
            return
        self._until = until
        self.reason = reason
        self._resumed.clear()
        log.critical(
            "Submissions are still PAUSED (since before the restart) for %.0f s because of an account "
            "problem: %s. Fix the MiniMax account, then a moderator can resume with /videoadmin (or wait).",
            until - self._clock(),
            reason,
        )

    def pause(self, reason: str) -> None:
        self._until = self._clock() + self._cooldown
        self.reason = reason[:MAX_REASON_CHARS]
        self._resumed.clear()
        log.critical(
            "Submissions PAUSED for %.0f s because of an account problem: %s. "
            "Fix the MiniMax account, then a moderator can resume with /videoadmin (or wait).",
            self._cooldown,
            reason,
        )
        self._save()

    def resume(self) -> None:
        if self._until != float("-inf"):
            log.warning("Submissions resumed")
        self._clear()
        self._save()

    def _clear(self) -> None:
        """Back to normal in memory; a pause that ran out needs no write (the saved end is past)."""
        self._until = float("-inf")
        self.reason = None
        self._resumed.set()

    async def wait(self) -> None:
        """Return once submissions may go out again."""
        while self.paused:
            within = self.remaining() + 0.01
            await wait_event(self._resumed, min(within, SYNC_SECONDS) if self._shared else within)
            await self.sync()

    async def sync(self) -> None:
        """Take up the pause as another process saved it, or its end (shared only; else nothing).

        Skipped while this process's own pause or resume is still being written: the row would
        read as before it.
        """
        if not self._shared or self._dirty or self._jobs.running(_WRITER):
            return
        assert self._store is not None
        try:
            raw = await self._store.get(PAUSE_KEY)
        except Exception:
            log.exception("Could not read the shared account pause")
            return
        saved = None if raw is None else _parse(raw)
        if saved is None or saved[0] <= self._clock():
            if self._until != float("-inf"):
                log.warning("Submissions resumed (by another process, or the pause ended)")
                self._clear()
            return
        until, reason = saved
        if until != self._until:
            first = self._until == float("-inf")
            self._until = until
            self.reason = reason
            self._resumed.clear()
            if first:
                log.critical(
                    "Submissions PAUSED by another process for %.0f s because of an account problem: %s",
                    until - self._clock(),
                    reason,
                )

    async def settle(self) -> None:
        """Wait until the latest pause or resume is saved (before telling members; at shutdown)."""
        await self._jobs.settle(_WRITER)

    def _save(self) -> None:
        if self._store is None:
            return
        self._dirty = True
        if not self._jobs.running(_WRITER):
            self._jobs.start(self._write_until_clean(), name="account-pause-save", key=_WRITER)

    async def _write_until_clean(self) -> None:
        assert self._store is not None
        while self._dirty:
            self._dirty = False
            until, reason = self._until, self.reason
            try:
                if until == float("-inf"):
                    await self._store.delete(PAUSE_KEY)
                else:
                    await self._store.set(PAUSE_KEY, json.dumps({"until": until, "reason": reason}))
            except Exception:
                log.exception("Could not save the account pause; a restart would forget it")


def _parse(raw: str) -> tuple[float, str | None] | None:
    """``(until, reason)`` from a saved pause, or None when it is not one this code wrote."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    until, reason = data.get("until"), data.get("reason")
    if isinstance(until, bool) or not isinstance(until, int | float) or not math.isfinite(until):
        return None
    if reason is not None and not isinstance(reason, str):
        return None
    return float(until), reason
