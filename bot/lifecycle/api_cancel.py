"""Cancelling a task already sent to the API, where the API allows it: V2 (H3) tasks still queued.

``DELETE {base}/v2/video_generation/{task_id}`` cancels a task the V2 API has not started, and a
cancelled task is not billed, so the bot refunds it in full. A task the API already runs cannot be
cancelled (the API refuses; it is charged only if delivered), and V1 has no cancel call at all: both
keep the refusal members always got. The task ends ``failed`` with code ``cancelled``: the state
``cancelled`` means "never sent" (the storage's transition table), and both refund.
"""

from __future__ import annotations

import logging

from bot.catalog import credits_text
from bot.lifecycle.cards import StatusCards
from bot.lifecycle.deps import LifecycleDeps
from bot.lifecycle.refusal import RequestRefused
from bot.minimax.errors import InvalidParameters, MiniMaxError
from bot.minimax.types import TaskStatus
from bot.minimax.v2 import on_v2
from storage.errors import IllegalTransition
from storage.models import Task
from storage.states import TaskState

log = logging.getLogger(__name__)

# Sent, not yet finished at the API: the states in which asking the API to cancel makes sense.
SENT_STATES = frozenset({TaskState.SUBMITTED, TaskState.PROCESSING})


def can_cancel_at_api(task: Task) -> bool:
    """Whether ``task``'s API has a cancel call and the task is where it may still apply."""
    return task.state in SENT_STATES and task.api_task_id is not None and on_v2(task.model)


def cancelled_note(task: Task) -> str:
    return f"Cancelled. {credits_text(task.cost_tenths)} refunded."


async def cancel_at_api(deps: LifecycleDeps, cards: StatusCards, task: Task) -> Task:
    """Ask the API to cancel ``task``; on success fail it with code ``cancelled`` (refunded in the
    same transaction). Raises :class:`RequestRefused` when the API refuses or cannot be reached."""
    assert task.api_task_id is not None
    try:
        # Asked first: DELETE on a task that has finished meanwhile deletes its record [3p], and
        # that video is billed. Only a task the API still calls queued is cancelled.
        info = await deps.client.query(task.api_task_id, retries=0, model=task.model)
        if info.status is not TaskStatus.QUEUED:
            raise RequestRefused.keyed("refusal.cancel.started", task_id=task.id)
        await deps.client.cancel_v2(task.api_task_id)
    except InvalidParameters as exc:
        log.info("Task %s: the API refused to cancel %s (%s)", task.id, task.api_task_id, exc)
        raise RequestRefused.keyed("refusal.cancel.started", task_id=task.id) from None
    except MiniMaxError as exc:
        log.warning("Task %s: cancelling %s at the API failed (%s)", task.id, task.api_task_id, exc)
        raise RequestRefused.keyed("refusal.cancel.unreachable", task_id=task.id) from None
    note = cancelled_note(task)
    try:
        cancelled = await deps.storage.tasks.transition(
            task.id,
            TaskState.FAILED,
            now=deps.now(),
            error_code="cancelled",
            error_message=note,
            notified_at=deps.now(),  # the member asked: the reply is the notice
        )
    except IllegalTransition:
        # The poller saw the API's "cancelled" first and failed (and refunded) it already.
        cancelled = await deps.storage.tasks.get(task.id)
        if cancelled.state is not TaskState.FAILED:
            raise RequestRefused.keyed("refusal.cancel.started", task_id=task.id) from None
    log.info("Task %s cancelled at the API (%s)", task.id, task.api_task_id)
    await cards.refresh(cancelled, note=note)
    return cancelled
