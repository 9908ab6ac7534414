"""The fair queue: round-robin across guilds, then members; FIFO per member."""

from __future__ import annotations

import asyncio

from bot.lifecycle.queue import FairQueue, QueueEntry


def _entries(queue: FairQueue) -> list[int]:
    out = []
    while (entry := queue.pop_nowait()) is not None:
        out.append(entry.task_id)
    return out


def test_round_robin_across_members_and_fifo_per_member() -> None:
    queue = FairQueue()
    for task_id, user in [(1, "a"), (2, "a"), (3, "a"), (4, "b"), (5, "c"), (6, "b")]:
        queue.push(QueueEntry(task_id, 1, ord(user)))
    assert [e.task_id for e in queue.order()] == [1, 4, 5, 2, 6, 3]
    assert queue.positions() == {1: 1, 4: 2, 5: 3, 2: 4, 6: 5, 3: 6}
    assert _entries(queue) == [1, 4, 5, 2, 6, 3]


def test_round_robin_across_guilds_first() -> None:
    queue = FairQueue()
    for task_id, guild, user in [(1, 10, 1), (2, 10, 2), (3, 10, 3), (4, 20, 4), (5, 20, 4)]:
        queue.push(QueueEntry(task_id, guild, user))
    assert _entries(queue) == [1, 4, 2, 5, 3]


def test_remove_duplicates_and_paused_guilds() -> None:
    queue = FairQueue()
    queue.push(QueueEntry(1, 10, 1))
    queue.push(QueueEntry(1, 10, 1))
    queue.push(QueueEntry(2, 20, 2))
    assert len(queue) == 2 and 1 in queue
    assert queue.pop_nowait(lambda guild: guild != 10) == QueueEntry(2, 20, 2)
    assert queue.pop_nowait(lambda guild: guild != 10) is None
    assert queue.remove(1) and not queue.remove(1)
    assert len(queue) == 0 and queue.guild_ids() == []


async def test_pop_waits_for_a_push() -> None:
    queue = FairQueue()
    waiter = asyncio.create_task(queue.pop())
    await asyncio.sleep(0)
    assert not waiter.done()
    queue.push(QueueEntry(7, 1, 1))
    assert (await asyncio.wait_for(waiter, 1)).task_id == 7
    assert await queue.wait_changed(0.01) is False


def test_a_refill_of_5000_gives_the_fair_positions_and_keeps_membership() -> None:
    """A restart refills the whole queue at once: the positions are those of the pop order."""
    entries = [QueueEntry(task_id, 1 + task_id % 3, 100 + task_id % 40) for task_id in range(1, 5001)]
    bulk, one_by_one = FairQueue(), FairQueue()
    bulk.extend(entries)
    bulk.extend(entries[:10])  # already queued: ignored, as push ignores them
    for entry in entries:
        one_by_one.push(entry)
    assert len(bulk) == 5000 and 4321 in bulk and 9999 not in bulk
    assert bulk.positions() == one_by_one.positions()
    positions = dict(bulk.positions())
    assert bulk.remove(4321) and 4321 not in bulk and len(bulk) == 4999
    assert positions == one_by_one.positions(), "a position map handed out is never changed afterwards"
    popped = _entries(one_by_one)
    assert {task_id: index for index, task_id in enumerate(popped, start=1)} == positions
    assert bulk.positions()[popped[-1]] == 4999  # the removal moved the ones behind it up
