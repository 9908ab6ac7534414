"""What is being made in one channel right now (`/video queue`), so a team sees each other's work.

Every unfinished task of the channel, the ones already at the video service first, then the waiting
ones in queue order, each with its exact place in the bot-wide queue and an estimated time. Private
tasks (results by DM) are counted but not shown: the channel sees nothing of them elsewhere either.
Read-only and free of side effects: the status cards' own bookkeeping of what each card shows is
not touched, so answering `/video queue` never changes which cards get edited.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.lifecycle.cards import StatusCards, queue_departure
from bot.lifecycle.deps import LifecycleDeps
from storage.models import Task
from storage.states import TaskState

_AT_THE_SERVICE = (TaskState.SUBMITTED, TaskState.PROCESSING)


@dataclass(frozen=True)
class QueueRow:
    task: Task
    position: int | None  # its place in the bot-wide queue, while waiting
    eta: float | None  # unix time the video should be ready; None without an honest guess


@dataclass(frozen=True)
class ChannelQueue:
    rows: tuple[QueueRow, ...]  # public tasks: running first, then waiting in queue order
    private_count: int  # unfinished private tasks here, not shown

    @property
    def total(self) -> int:
        return len(self.rows) + self.private_count


async def channel_queue(deps: LifecycleDeps, cards: StatusCards, channel_id: int) -> ChannelQueue:
    tasks = [t for t in await deps.storage.tasks.unfinished() if t.channel_id == channel_id]
    positions = deps.queue.positions()
    now = deps.now()
    rows: list[QueueRow] = []
    private = 0
    for task in tasks:
        if task.deliver_by_dm:
            private += 1
            continue
        expected = await cards.expected_seconds(task)
        position = positions.get(task.id) if task.state is TaskState.QUEUED else None
        eta = None
        if position is not None:
            departure = queue_departure(position, now=now, submits_per_minute=deps.settings.minimax_rpm)
            eta = departure + (expected or 0.0)
        elif task.state in _AT_THE_SERVICE:
            eta = deps.timing.eta(
                submitted_at=task.submitted_at, now=now, expected=expected, progress=task.progress
            )
        rows.append(QueueRow(task, position, eta))
    # Waiting tasks without a place (a paused guild's, or one being put back) go last.
    rows.sort(key=lambda r: (r.task.state is TaskState.QUEUED, r.position or 10**9, r.task.id))
    return ChannelQueue(tuple(rows), private)
