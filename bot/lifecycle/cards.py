"""Status cards: what a task's card shows, when it is edited, and queue positions kept current.

Every worker renders the same card from a task (state, queue position, expected time, ETA); edits go
through the coalescing :class:`~bot.lifecycle.status.StatusUpdater`. Queue positions move for every
waiting task at once, so they are refreshed in one coalesced background pass, and only the cards
whose position changed are edited.

Only the first :data:`EXACT_QUEUE_POSITIONS` cards show their exact place: one queue move edits at
most those. A card further back says "in line" with the time its video should be ready (a relative
timestamp Discord counts down by itself), and is edited only when that estimate drifts far from the
one it shows. With 2,000 queued, a move used to edit 1,999 cards.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from bot.lifecycle.deps import LifecycleDeps
from bot.lifecycle.jobs import Jobs
from bot.lifecycle.notifier import StatusCard
from storage.errors import StorageError
from storage.models import Task
from storage.states import TaskState

log = logging.getLogger(__name__)

_RUNNING = (TaskState.SUBMITTED, TaskState.PROCESSING, TaskState.QUEUED)
_QUEUE_REFRESH = "queue-refresh"

EXACT_QUEUE_POSITIONS = 10
"""Queue positions shown exactly; further back a card says "in line" with an ETA."""
ETA_DRIFT_SHARE = 0.2
"""An "in line" card is edited when its task's estimated turn moved by more than this share of the
wait it still shows (or :data:`ETA_DRIFT_MIN`, whichever is more): a guess hours away need not follow
every newcomer's fair turn."""
ETA_DRIFT_MIN = 120.0
"""Seconds: the smallest drift that edits an "in line" card (see :data:`ETA_DRIFT_SHARE`)."""


GROUPS_REMEMBERED = 1000
"""Groups whose takes the cards keep in memory (each card read refreshes them from storage anyway)."""


def queue_departure(position: int, *, now: float, submits_per_minute: int) -> float:
    """When a task at ``position`` should leave the queue: the account submits at a fixed rate."""
    return now + position * 60.0 / submits_per_minute


# An interaction's follow-up may post for 15 minutes; a wait longer than this may outlast it.
FOLLOWUP_WINDOW_SECONDS = 14 * 60.0


@dataclass(frozen=True)
class _Shown:
    """What a queued task's card shows: its exact position, or when it should leave the queue."""

    position: int | None = None
    departure: float | None = None


class StatusCards:
    def __init__(self, deps: LifecycleDeps) -> None:
        self._deps = deps
        # task id → the queue place its card shows (or is about to), so unmoved cards are not edited.
        self._shown: dict[int, _Shown] = {}
        # One background refresh of queue positions at a time; requests meanwhile ask for one more pass.
        self._jobs = Jobs()
        self._queue_dirty = False
        self._queue_refresh_stopped = False
        # group id → take id → the take as last seen: a group's one card shows every take, and a
        # card rendered for one take (without a read) takes the others from here.
        self._groups: dict[int, dict[int, Task]] = {}

    async def load_group(self, task: Task) -> None:
        """Read every take of ``task``'s group (if it is in one) for the group's card."""
        if task.group_id is None:
            return
        try:
            takes = await self._deps.storage.tasks.group(task.group_id)
        except StorageError:
            log.exception("Could not read the takes of group %s", task.group_id)
            return
        known = self._groups.setdefault(task.group_id, {})
        for take in takes:
            known[take.id] = take
        known[task.id] = task  # what the caller holds is at least as new

    def _group_card(self, task: Task) -> tuple[Task, tuple[Task, ...]]:
        """The task whose card shows ``task`` (a group's first take) and the group's takes."""
        if task.group_id is None:
            return task, ()
        known = self._groups.setdefault(task.group_id, {})
        known[task.id] = task
        takes = tuple(sorted(known.values(), key=lambda t: t.take or 0))
        while len(self._groups) > GROUPS_REMEMBERED:  # the oldest first: long over by now
            del self._groups[next(iter(self._groups))]
        return known.get(task.group_id, task), takes

    async def likely_wait(self, task: Task) -> float:
        """Seconds from now until ``task``'s video is likely ready: its place in the queue at the
        account's submit rate, then how long a generation like it takes (:meth:`expected_seconds`)."""
        place = self._deps.queue.positions().get(task.id) or 0
        departure = queue_departure(place, now=0.0, submits_per_minute=self._deps.settings.minimax_rpm)
        return departure + (await self.expected_seconds(task) or 0.0)

    async def may_outlast_followup(self, task: Task) -> bool:
        """Whether a personal-install task may take longer than its interaction can deliver it
        (:data:`FOLLOWUP_WINDOW_SECONDS`): then the member is told up front it will come by DM."""
        return await self.likely_wait(task) > FOLLOWUP_WINDOW_SECONDS

    async def expected_seconds(self, task: Task) -> float | None:
        """How long a generation like this takes (learned, else the configured first-poll delay)."""
        expected = await self._deps.expectations.seconds(task)
        if expected is None and task.state in _RUNNING:
            expected = self._deps.timing.first_delay
        return expected

    def render(
        self,
        task: Task,
        expected: float | None,
        note: str | None = None,
        *,
        positions: Mapping[int, int] | None = None,
    ) -> StatusCard:
        """The card for ``task`` from what is known already (no reads): see :meth:`card`.

        ``positions``: the queue's positions when the caller has them already (they cost a pass over
        the whole queue).
        """
        deps = self._deps
        task, takes = self._group_card(task)
        if expected is None and task.state in _RUNNING:
            expected = deps.timing.first_delay
        now = deps.now()
        position = None
        in_line = False
        eta = None
        if task.state is TaskState.QUEUED:
            place = (deps.queue.positions() if positions is None else positions).get(task.id)
            if place is not None and place <= EXACT_QUEUE_POSITIONS:
                position = place
                self._shown[task.id] = _Shown(position=place)
            elif place is not None:
                in_line = True
                departure = self._departure(place, now)
                eta = departure + (expected or 0.0)
                self._shown[task.id] = _Shown(departure=departure)
        else:
            self._shown.pop(task.id, None)
            if task.state in (TaskState.SUBMITTED, TaskState.PROCESSING):
                eta = deps.timing.eta(
                    submitted_at=task.submitted_at, now=now, expected=expected, progress=task.progress
                )
        return StatusCard(
            task=task,
            queue_position=position,
            in_line=in_line,
            expected_seconds=expected,
            eta=eta,
            note=note,
            takes=takes,
        )

    def _departure(self, position: int, now: float) -> float:
        return queue_departure(position, now=now, submits_per_minute=self._deps.settings.minimax_rpm)

    def _moved(self, task_id: int, position: int, now: float) -> bool:
        """Whether the card of the task now at ``position`` shows something else than it should."""
        shown = self._shown.get(task_id)
        if shown is None:
            return True
        if position <= EXACT_QUEUE_POSITIONS:
            return shown.position != position
        if shown.departure is None:
            return True  # it showed an exact place, and moved back past the front
        drift = abs(self._departure(position, now) - shown.departure)
        return drift > max(ETA_DRIFT_MIN, ETA_DRIFT_SHARE * (shown.departure - now))

    async def card(self, task: Task, note: str | None = None) -> StatusCard:
        await self.load_group(task)
        return self.render(task, await self.expected_seconds(task), note)

    async def refresh(self, task: Task, *, note: str | None = None) -> None:
        """Schedule a (coalesced) edit of the task's card; final states are sent at once. A take
        of a group edits the group's card (every take read again)."""
        await self.load_group(task)
        self.show(task, await self.expected_seconds(task), note=note)

    def show(
        self,
        task: Task,
        expected: float | None,
        *,
        note: str | None = None,
        positions: Mapping[int, int] | None = None,
    ) -> None:
        """:meth:`refresh` without any read: for the moment right before a request leaves."""
        if task.group_id is not None and len(self._groups.get(task.group_id, ())) < (task.takes or 0):
            # A group's card shows every take: with some unseen (after a restart), read them first.
            key = ("group-card", task.group_id)
            if not self._jobs.running(key):
                self._jobs.start(self.refresh(task, note=note), name=f"group-card-{task.group_id}", key=key)
            return
        card = self.render(task, expected, note, positions=positions)
        final = all(t.state.final or t.state is TaskState.UNKNOWN for t in card.takes or (card.task,))
        self._deps.updater.update(card, final=final)

    def request_queue_refresh(self) -> None:
        """Refresh queue positions in the background, coalesced.

        A burst of requests moves every waiting card; refreshing inline made each member's answer
        wait for everyone else's card (200 concurrent commands took 15 s to confirm).
        """
        if self._queue_refresh_stopped:
            return  # shutting down: the cards are redrawn at the next start
        self._queue_dirty = True
        if not self._jobs.running(_QUEUE_REFRESH):
            self._jobs.start(self._refresh_queue_until_clean(), name="queue-refresh", key=_QUEUE_REFRESH)

    async def settle_queue_refresh(self) -> None:
        """Wait for a pending background refresh (tests, shutdown)."""
        await self._jobs.settle(_QUEUE_REFRESH)

    def allow_queue_refresh(self) -> None:
        """(Re)started: background refreshes may run again."""
        self._queue_refresh_stopped = False

    async def stop_queue_refresh(self) -> None:
        self._queue_refresh_stopped = True
        await self._jobs.cancel(_QUEUE_REFRESH)

    async def _refresh_queue_until_clean(self) -> None:
        while self._queue_dirty:
            self._queue_dirty = False
            try:
                await self.refresh_queue()
            except Exception:
                log.exception("Could not refresh the queue positions")

    async def refresh_queue(self) -> None:
        """Queue positions moved: refresh the cards whose position changed near the front, and those
        further back whose estimate drifted (each move would otherwise edit every waiting card, a
        burst Discord throttles)."""
        deps = self._deps
        positions = deps.queue.positions()
        now = deps.now()
        for task_id in [t for t in self._shown if t not in positions]:
            del self._shown[task_id]
        for task_id, position in positions.items():
            if not self._moved(task_id, position, now):
                continue
            try:
                task = await deps.storage.tasks.get(task_id)
            except StorageError:
                continue
            if task.state is TaskState.QUEUED:
                self.show(task, await self.expected_seconds(task), positions=positions)
