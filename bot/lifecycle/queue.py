"""The fair submit queue: round-robin across guilds, then across users, first-in first-out per user.

The API allows a handful of submissions per minute for the whole account. A plain FIFO would let one
member's ten requests hold back everyone else for minutes; rotating over guilds and then over the
members of each guild gives every waiting member their turn after at most one task of each other.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable
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
        self._changed = asyncio.Event()

    def __len__(self) -> int:
        return sum(len(tasks) for users in self._guilds.values() for tasks in users.values())

    def __contains__(self, task_id: object) -> bool:
        return any(e.task_id == task_id for e in self._iter_entries())

    def push(self, entry: QueueEntry, *, front: bool = False) -> None:
        """Queue ``entry`` after its member's other tasks (``front``: before them, for a retry)."""
        if entry.task_id in self:
            return
        users = self._guilds.setdefault(entry.guild_id, OrderedDict())
        tasks = users.setdefault(entry.user_id, deque())
        if front:
            tasks.appendleft(entry)
        else:
            tasks.append(entry)
        self._changed.set()

    def remove(self, task_id: int) -> bool:
        for guild_id, users in list(self._guilds.items()):
            for user_id, tasks in list(users.items()):
                for entry in tasks:
                    if entry.task_id == task_id:
                        tasks.remove(entry)
                        if not tasks:
                            del users[user_id]
                        if not users:
                            del self._guilds[guild_id]
                        self._changed.set()
                        return True
        return False

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
            self._changed.set()
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

    def positions(self) -> dict[int, int]:
        """``task_id → 1-based position``: what a queued task's status card shows."""
        return {entry.task_id: index for index, entry in enumerate(self.order(), start=1)}

    def _iter_entries(self) -> list[QueueEntry]:
        return [e for users in self._guilds.values() for tasks in users.values() for e in tasks]
