"""Coalesced status-card edits: at most one edit per message per interval, the latest state wins.

Discord rate-limits message edits per channel; a poller that edited on every progress tick would be
throttled and delay everyone's cards. Updates are recorded here and a background flusher applies the
newest one per task once its interval has passed. Final states (delivered, failed) skip the wait so a
member never looks at a stale "processing" card after the video arrived.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.backoff import backoff
from bot.lifecycle.jobs import Jobs, wait_event
from bot.lifecycle.notifier import Notifier, StatusCard

log = logging.getLogger(__name__)

OnMoved = Callable[[int, int], Awaitable[None]]


FINAL_EDIT_ATTEMPTS = 4
_FLUSHER = "status-updater"


@dataclass
class _Slot:
    card: StatusCard | None = None
    final: bool = False
    last_edit: float = float("-inf")
    in_flight: bool = False
    not_before: float = float("-inf")  # a failed final edit is retried later, not in a tight loop
    failures: int = 0


class StatusUpdater:
    """Owns every status-card edit. ``on_moved(task_id, message_id)`` records a reposted card."""

    def __init__(
        self,
        notifier: Notifier,
        *,
        interval: float,
        on_moved: OnMoved,
        clock: Callable[[], float] = time.monotonic,
        concurrency: int = 4,
    ) -> None:
        self._notifier = notifier
        self._interval = interval
        self._on_moved = on_moved
        self._clock = clock
        self._slots: dict[int, _Slot] = {}
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._limit = asyncio.Semaphore(concurrency)
        self._loop = Jobs()  # the flusher
        self._edits = Jobs()  # one per card edit in flight

    def start(self) -> None:
        if not self._loop.running(_FLUSHER):
            self._loop.start(self._run(), name="status-updater", key=_FLUSHER)

    async def stop(self) -> None:
        """Flush what is pending (best effort), then stop."""
        await self.flush_all()
        await self._loop.cancel_all()

    def update(self, card: StatusCard, *, final: bool = False) -> None:
        """Schedule ``card`` to be shown; a newer update for the same task replaces an unsent one."""
        if card.task.status_message_id is None and not final:
            return  # the card was never posted: nothing to edit (yet)
        slot = self._slots.setdefault(card.task.id, _Slot())
        slot.card = card
        slot.final = slot.final or final
        self._idle.clear()
        self._wake.set()

    def pending(self) -> int:
        return sum(1 for s in self._slots.values() if s.card is not None or s.in_flight)

    async def flush_all(self, wait_seconds: float = 10.0) -> None:
        """Send every pending update now, ignoring the interval (shutdown, tests)."""
        for task_id, slot in list(self._slots.items()):
            if slot.card is not None and not slot.in_flight:
                self._send(task_id, slot)
        edits = self._edits.jobs()
        if edits:
            await asyncio.wait(edits, timeout=wait_seconds)

    async def wait_idle(self) -> None:
        await self._idle.wait()

    async def _run(self) -> None:
        while True:
            now = self._clock()
            next_due = float("inf")
            for task_id, slot in list(self._slots.items()):
                if slot.card is None or slot.in_flight:
                    continue
                due = slot.not_before if slot.final else max(slot.not_before, slot.last_edit + self._interval)
                if due <= now:
                    self._send(task_id, slot)
                else:
                    next_due = min(next_due, due)
            if not len(self._edits) and all(s.card is None for s in self._slots.values()):
                self._idle.set()
            self._wake.clear()
            timeout = None if next_due == float("inf") else max(0.0, next_due - self._clock())
            await wait_event(self._wake, timeout)

    def _send(self, task_id: int, slot: _Slot) -> None:
        card, final = slot.card, slot.final
        if card is None:
            return
        slot.card, slot.final, slot.in_flight = None, False, True
        self._edits.start(self._edit(task_id, slot, card, final), name=f"status-edit-{task_id}")

    async def _edit(self, task_id: int, slot: _Slot, card: StatusCard, final: bool) -> None:
        shown = False
        try:
            async with self._limit:
                message_id = await self._notifier.edit_status(card)
            shown = message_id is not None
            if message_id is not None and message_id != card.task.status_message_id:
                await self._on_moved(task_id, message_id)
        except Exception:
            log.exception("Editing the status card of task %s failed", task_id)
        finally:
            slot.last_edit = self._clock()
            slot.in_flight = False
            if shown:
                slot.failures = 0
            elif final and slot.card is None and slot.failures + 1 < FINAL_EDIT_ATTEMPTS:
                # The last word on a card matters most: try again a little later.
                slot.failures += 1
                slot.card, slot.final = card, True
                slot.not_before = slot.last_edit + backoff(slot.failures + 1, base=self._interval)
            elif final:
                log.warning("Gave up showing the final state on the card of task %s", task_id)
            if final and slot.card is None:
                self._slots.pop(task_id, None)
            current = asyncio.current_task()
            if current is not None:
                self._edits.forget(current)  # before waking the loop, which checks for idleness
            self._wake.set()
