"""Coalesced status-card edits: at most one edit per message per interval, the latest state wins,
and at most a budget of edits per channel.

Discord rate-limits message edits per channel; a poller that edited on every progress tick would be
throttled and delay everyone's cards. Updates are recorded here and a background flusher applies the
newest one per task once its interval has passed, within a budget per channel
(:data:`CHANNEL_EDIT_BUDGET`). Final states (delivered, failed) skip the interval
and go first when a channel's budget is short, so a member never looks at a stale "processing" card
after the video arrived; among the rest a running task's card goes before queue positions, and the
front of the queue before its back.

The pending edits sit in heaps (when each is due; per channel, which goes first), so a restart that
re-renders ten thousand cards costs n log n, not a scan of every card per edit.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.backoff import backoff
from bot.lifecycle.jobs import Jobs, wait_event
from bot.lifecycle.notifier import Notifier, StatusCard
from bot.metrics import Metrics
from storage.states import TaskState

log = logging.getLogger(__name__)

OnMoved = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True)
class EditBudget:
    """At most ``edits`` card edits in one channel in any ``window`` seconds (of the updater's clock)."""

    edits: int
    window: float


CHANNEL_EDIT_BUDGET = EditBudget(edits=4, window=5.0)
"""Card edits the bot makes in one Discord channel: at most 4 in any 5 seconds.

Discord limits requests per route and "major parameter" (the channel, for message edits) and does not
publish the figures: bots read them from the ``X-RateLimit-*`` headers, and the bucket observed for
creating and editing messages in a channel is 5 requests per 5 seconds. Four leaves one request of
every window to the bot's other messages in that channel (confirmations, results, a reposted card),
so the status cards alone never make discord.py wait out a 429.
"""


def channel_edit_budget(interval: float) -> EditBudget:
    """:data:`CHANNEL_EDIT_BUDGET`, its window shortened to ``STATUS_EDIT_INTERVAL_SECONDS`` when
    that is shorter: the one knob of the cards' pace (tests run the bot on a fast clock with it)."""
    return EditBudget(CHANNEL_EDIT_BUDGET.edits, min(CHANNEL_EDIT_BUDGET.window, interval))


FINAL_EDIT_ATTEMPTS = 4
# How long a stop waits for pending edits: a backlog behind the budget must not hold up a shutdown
# (a process manager kills a bot that takes ten seconds to stop).
STOP_GRACE = 2.0
_FLUSHER = "status-updater"
_NEVER = float("inf")


@dataclass
class _Slot:
    channel_id: int
    card: StatusCard | None = None
    final: bool = False
    last_edit: float = float("-inf")
    in_flight: bool = False
    not_before: float = float("-inf")  # a failed final edit is retried later, not in a tight loop
    failures: int = 0
    token: int = 0  # the schedule entry that counts: older heap entries for this slot are stale
    rank: tuple[int, int] = (0, 0)  # the order it was scheduled with


@dataclass
class _Channel:
    sent: deque[float] = field(default_factory=deque)  # when the edits of the current window began
    ready: list[tuple[tuple[int, int], int, int]] = field(default_factory=list)  # (rank, token, task id)

    def free_at(self, now: float, budget: EditBudget) -> float:
        """When the budget allows the next edit (``now`` if it does already)."""
        while self.sent and self.sent[0] <= now - budget.window:
            self.sent.popleft()
        if len(self.sent) < budget.edits:
            return now
        return self.sent[0] + budget.window


def _rank(card: StatusCard, final: bool) -> tuple[int, int]:
    """Which edit of a channel goes first when its budget is short (lowest first)."""
    if final:
        return (0, 0)
    if card.task.state is not TaskState.QUEUED:
        return (1, 0)
    if card.queue_position is not None:
        return (2, card.queue_position)
    return (3, 0)


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
        budget: EditBudget | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._notifier = notifier
        self._metrics = metrics if metrics is not None else Metrics()
        self._interval = interval
        self._budget = channel_edit_budget(interval) if budget is None else budget
        self._on_moved = on_moved
        self._clock = clock
        self._slots: dict[int, _Slot] = {}
        self._channels: dict[int, _Channel] = {}
        self._waiting: list[tuple[float, int, int]] = []  # (due, token, task id): not due yet
        self._ready_channels: set[int] = set()  # channels with an edit due, waiting for budget
        self._pending: set[int] = set()  # tasks with a card to show
        self._tokens = itertools.count(1)
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
        """Flush what is pending (best effort: finals first, within the budgets, for a short grace),
        then stop. A card left behind is re-rendered at the next start (``VideoService.recover``)."""
        await self.flush_all(STOP_GRACE)
        await self._loop.cancel_all()

    def update(self, card: StatusCard, *, final: bool = False) -> None:
        """Schedule ``card`` to be shown; a newer update for the same task replaces an unsent one."""
        if card.task.status_message_id is None and not final:
            return  # the card was never posted: nothing to edit (yet)
        slot = self._slots.get(card.task.id)
        if slot is None:
            slot = self._slots[card.task.id] = _Slot(channel_id=card.task.channel_id)
        scheduled = slot.card is not None
        slot.card = card
        slot.final = slot.final or final
        self._pending.add(card.task.id)
        # Keep an unsent card's place in line, unless it now has to go sooner (it became final).
        if not scheduled or _rank(card, slot.final) < slot.rank or final:
            self._schedule(card.task.id, slot)
        self._idle.clear()
        self._wake.set()

    def pending(self) -> int:
        return sum(1 for s in self._slots.values() if s.card is not None or s.in_flight)

    async def flush_all(self, wait_seconds: float = 10.0) -> None:
        """Send every pending update as soon as the channels' budgets allow, ignoring the interval
        (shutdown, tests); gives up after ``wait_seconds``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while self._pending or len(self._edits):
            free_at = self._dispatch(self._clock(), ignore_interval=True)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._wake.clear()
            await wait_event(self._wake, min(remaining, max(0.0, free_at - self._clock())))

    async def wait_idle(self) -> None:
        await self._idle.wait()

    async def send_due(self) -> float:
        """Start the edits due by the clock now (within the budgets) and wait for them; the clock's
        time when the next one may go (infinity: nothing pending).

        The background loop does this by itself; tests and benchmarks on a simulated clock call it
        instead of starting the loop.
        """
        next_at = self._dispatch(self._clock())
        edits = self._edits.jobs()
        if edits:
            await asyncio.wait(edits)
        return next_at

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            next_at = self._dispatch(self._clock())
            if not self._pending and not len(self._edits):
                self._idle.set()
            timeout = None if next_at == _NEVER else max(0.0, next_at - self._clock())
            await wait_event(self._wake, timeout)

    def _schedule(self, task_id: int, slot: _Slot) -> None:
        """(Re)place the slot's card in the heaps; a card being edited is rescheduled after it."""
        if slot.in_flight or slot.card is None:
            return
        slot.token = next(self._tokens)
        slot.rank = _rank(slot.card, slot.final)
        due = slot.not_before if slot.final else max(slot.not_before, slot.last_edit + self._interval)
        heapq.heappush(self._waiting, (due, slot.token, task_id))

    def _current(self, task_id: int, token: int) -> _Slot | None:
        slot = self._slots.get(task_id)
        if slot is None or slot.token != token or slot.card is None or slot.in_flight:
            return None
        return slot

    def _dispatch(self, now: float, *, ignore_interval: bool = False) -> float:
        """Start every edit that is due and within its channel's budget; when the next may go."""
        waiting = self._waiting
        while waiting and (ignore_interval or waiting[0][0] <= now):
            _, token, task_id = heapq.heappop(waiting)
            slot = self._current(task_id, token)
            if slot is not None:
                channel = self._channels.setdefault(slot.channel_id, _Channel())
                heapq.heappush(channel.ready, (slot.rank, token, task_id))
                self._ready_channels.add(slot.channel_id)
        next_at = waiting[0][0] if waiting else _NEVER
        for channel_id in list(self._ready_channels):
            channel = self._channels[channel_id]
            while channel.ready:
                free_at = channel.free_at(now, self._budget)
                if free_at > now:
                    next_at = min(next_at, free_at)
                    break
                _, token, task_id = heapq.heappop(channel.ready)
                slot = self._current(task_id, token)
                if slot is not None:
                    channel.sent.append(now)
                    self._send(task_id, slot)
            if not channel.ready:
                self._ready_channels.discard(channel_id)
                if not channel.sent:
                    del self._channels[channel_id]
        return next_at

    def _send(self, task_id: int, slot: _Slot) -> None:
        card, final = slot.card, slot.final
        if card is None:
            return
        slot.card, slot.final, slot.in_flight = None, False, True
        self._pending.discard(task_id)
        self._edits.start(self._edit(task_id, slot, card, final), name=f"status-edit-{task_id}")

    async def _edit(self, task_id: int, slot: _Slot, card: StatusCard, final: bool) -> None:
        shown = counted = False
        try:
            async with self._limit:
                message_id = await self._notifier.edit_status(card)
            shown = message_id is not None
            moved = message_id is not None and message_id != card.task.status_message_id
            self._metrics.card_edit("reposted" if moved else "edited" if shown else "failed")
            counted = True
            if message_id is not None and moved:
                await self._on_moved(task_id, message_id)
        except Exception:
            if not counted:
                self._metrics.card_edit("failed")
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
                self._pending.add(task_id)
            elif final:
                log.warning("Gave up showing the final state on the card of task %s", task_id)
            if final and slot.card is None:
                self._slots.pop(task_id, None)
            else:
                self._schedule(task_id, slot)  # a newer card arrived meanwhile (or the retry)
            current = asyncio.current_task()
            if current is not None:
                self._edits.forget(current)  # before waking the loop, which checks for idleness
            self._wake.set()
