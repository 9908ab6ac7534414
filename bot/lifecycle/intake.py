"""What every accepted task goes through, whether new or resumed after a restart: it joins the fair
queue and its status card is posted (and remembered).

Shared by admission (a new request) and recovery (a queued task found at start-up), so the card is
posted the same way by both.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.lifecycle.cards import StatusCards
from bot.lifecycle.deps import LifecycleDeps
from bot.lifecycle.queue import QueueEntry
from bot.lifecycle.threads import open_thread
from storage.errors import StorageError
from storage.models import GuildPolicy, Task

log = logging.getLogger(__name__)


def enqueue(deps: LifecycleDeps, task: Task) -> None:
    deps.queue.push(QueueEntry(task.id, task.guild_id or 0, task.user_id))


async def post_card(
    deps: LifecycleDeps, cards: StatusCards, task: Task, *, policy: GuildPolicy | None = None
) -> Task:
    """Post the card and remember it; never raises (the credits are reserved by now, and the task
    goes ahead without a card: a failure here must not read as "nothing was charged").

    ``policy``: the guild's, when the caller read it already (it decides the task's thread).
    A take of a group (``variations``) has the group's one card: the first take's, posted once and
    recorded on every take (with its thread), so each take's result and notices go where it is.
    """
    if task.group_id is not None:
        return await _post_group_card(deps, cards, task, policy)
    return await _post_card(deps, cards, task, policy)


async def _post_group_card(
    deps: LifecycleDeps, cards: StatusCards, task: Task, policy: GuildPolicy | None
) -> Task:
    assert task.group_id is not None
    try:
        takes = await deps.storage.tasks.group(task.group_id)
    except StorageError:
        log.exception("Could not read the takes of group %s", task.group_id)
        return task
    first = next((t for t in takes if t.id == task.group_id), task)
    if first.status_message_id is None:
        first = await _post_card(deps, cards, first, policy)
    if first.status_message_id is None:
        return task if task.id != first.id else first
    for take in takes:
        if take.id == first.id or (
            take.status_message_id == first.status_message_id and take.thread_id == first.thread_id
        ):
            continue
        try:
            await deps.storage.tasks.update_fields(
                take.id, status_message_id=first.status_message_id, thread_id=first.thread_id
            )
        except StorageError:
            log.exception("Could not record the group card on take %s", take.id)
    if task.id == first.id:
        return first
    return replace(task, status_message_id=first.status_message_id, thread_id=first.thread_id)


async def _post_card(deps: LifecycleDeps, cards: StatusCards, task: Task, policy: GuildPolicy | None) -> Task:
    try:
        card = await cards.card(task)
        message_id = await deps.notifier.post_status(card)
    except Exception:
        log.exception("Posting the status card of task %s failed", task.id)
        return task
    if message_id is None:
        return task
    try:
        stored = await deps.storage.tasks.update_fields(task.id, status_message_id=message_id)
        if stored.state is not card.task.state or stored.progress != card.task.progress:
            await cards.refresh(stored)  # it moved on while the card was being posted
    except Exception:
        log.exception("Could not record the status card %s of task %s", message_id, task.id)
        return replace(task, status_message_id=message_id)
    return await open_thread(deps, stored, policy)


async def record_moved_card(deps: LifecycleDeps, task_id: int, message_id: int) -> None:
    """The notifier reposted a deleted card: remember the new message."""
    try:
        await deps.storage.tasks.update_fields(task_id, status_message_id=message_id)
    except StorageError:
        log.exception("Could not record the new status message of task %s", task_id)
