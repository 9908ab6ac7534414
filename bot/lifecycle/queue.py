"""The fair submit queue: round-robin across guilds, then across users, first-in first-out per user.

The API allows a handful of submissions per minute for the whole account. A plain FIFO would let one
member's ten requests hold back everyone else for minutes; rotating over guilds and then over the
members of each guild gives every waiting member their turn after at most one task of each other.

Every operation is O(1) or O(one member's tasks), bar :meth:`FairQueue.order`; the positions it gives
are cached until the queue changes, so the status cards of a long queue (a restart refills tens of
thousands) read them without walking the queue once per card.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from bot.lifecycle.jobs import wait_event


@dataclass(frozen=True)
class QueueEntry:
    task_id: int
    guild_id: int  # 0 for direct messages
    user_id: int


class FairQueue:
    """Round-robin queue; ``pop`` skips guilds that ``eligible`` says are paused."""

    def __init__(self) -> None:
        # guild → (user → their tasks, oldest first); OrderedDicts keep the rotation order.
        self._guilds: OrderedDict[int, OrderedDict[int, deque[QueueEntry]]] = OrderedDict()
        self._entries: dict[int, QueueEntry] = {}  # task id → its entry: membership without a walk
        self._positions: dict[int, int] | None = None  # what positions() returned, until a change
        self._changed = asyncio.Event()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._entries

    def push(self, entry: QueueEntry, *, front: bool = False) -> None:
        """Queue ``entry`` after its member's other tasks (``front``: before them, for a retry)."""
        if self._add(entry, front=front):
            self._moved()

    def extend(self, entries: Iterable[QueueEntry]) -> None:
        """Queue many entries in order, as :meth:`push` each (refilling the queue at a restart)."""
        added = False
        for entry in entries:
            added = self._add(entry, front=False) or added
        if added:
            self._moved()

    def remove(self, task_id: int) -> bool:
        entry = self._entries.pop(task_id, None)
        if entry is None:
            return False
        users = self._guilds[entry.guild_id]
        tasks = users[entry.user_id]
        tasks.remove(entry)
        if not tasks:
            del users[entry.user_id]
        if not users:
            del self._guilds[entry.guild_id]
        self._moved()
        return True

    def pop_nowait(self, eligible: Callable[[int], bool] = lambda _guild: True) -> QueueEntry | None:
        """Take the next entry in fair order, rotating the guild and the user it came from to the back."""
        for guild_id in list(self._guilds):
            if not eligible(guild_id):
                continue
            users = self._guilds[guild_id]
            user_id = next(iter(users))
            tasks = users[user_id]
            entry = tasks.popleft()
            if tasks:
                users.move_to_end(user_id)
            else:
                del users[user_id]
            if users:
                self._guilds.move_to_end(guild_id)
            else:
                del self._guilds[guild_id]
            del self._entries[entry.task_id]
            self._moved()
            return entry
        return None

    async def pop(self, eligible: Callable[[int], bool] = lambda _guild: True) -> QueueEntry:
        """Wait for an eligible entry. Call :meth:`notify` when eligibility may have changed."""
        while True:
            entry = self.pop_nowait(eligible)
            if entry is not None:
                return entry
            await self.wait_changed()

    async def wait_changed(self, within: float | None = None) -> bool:
        """Return at the next push, removal or :meth:`notify` (call right after a failed pop).

        False when ``within`` seconds passed first.
        """
        self._changed.clear()
        return await wait_event(self._changed, within)

    def notify(self) -> None:
        """Wake waiting ``pop`` calls, e.g. after a guild was resumed."""
        self._changed.set()

    def task_ids(self) -> list[int]:
        return list(self._entries)

    def guild_ids(self) -> list[int]:
        return list(self._guilds)

    def order(self) -> list[QueueEntry]:
        """Every entry in the order it would be popped if nothing else arrived (and nothing is paused)."""
        guilds = deque((deque(deque(t) for t in users.values())) for users in self._guilds.values())
        result: list[QueueEntry] = []
        while guilds:
            users = guilds.popleft()
            tasks = users.popleft()
            result.append(tasks.popleft())
            if tasks:
                users.append(tasks)
            if users:
                guilds.append(users)
        return result

    def positions(self) -> Mapping[int, int]:
        """``task_id → 1-based position``: what a queued task's status card shows.

        Computed once per change of the queue (a pass over all of it) and shared: never modified
        afterwards, so a caller may keep reading it while the queue moves on.
        """
        if self._positions is None:
            self._positions = {entry.task_id: index for index, entry in enumerate(self.order(), start=1)}
        return self._positions

    def _add(self, entry: QueueEntry, *, front: bool) -> bool:
        if entry.task_id in self._entries:
            return False
        self._entries[entry.task_id] = entry
        users = self._guilds.setdefault(entry.guild_id, OrderedDict())
        tasks = users.setdefault(entry.user_id, deque())
        if front:
            tasks.appendleft(entry)
        else:
            tasks.append(entry)
        return True

    def _moved(self) -> None:
        self._positions = None
        self._changed.set()
