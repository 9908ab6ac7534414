"""The task state machine: the only place that says which state may follow which.

Every transition is written before the side effect that follows it, so after a crash a task sits in
a state from which the next step is safe to repeat or detectably done.
"""

from __future__ import annotations

from enum import StrEnum


class TaskState(StrEnum):
    QUEUED = "queued"  # credits reserved, waiting for the submit queue
    SUBMITTING = "submitting"  # the create call may be in flight
    SUBMITTED = "submitted"  # the API accepted it; we have its task id
    PROCESSING = "processing"
    DOWNLOADING = "downloading"
    DELIVERING = "delivering"  # posting to Discord; result_message_id set once posted
    DELIVERED = "delivered"  # final, charged
    FAILED = "failed"  # final, refunded
    CANCELLED = "cancelled"  # final, refunded
    UNKNOWN = "unknown"  # the submit outcome is unknown; a moderator resolves it

    @property
    def final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES: frozenset[TaskState] = frozenset({TaskState.DELIVERED, TaskState.FAILED, TaskState.CANCELLED})

# States that end with the reserved credits given back.
REFUNDING_STATES: frozenset[TaskState] = frozenset({TaskState.FAILED, TaskState.CANCELLED})

# A member's tasks "in flight": queued or being worked on, what ``MAX_QUEUED_PER_MEMBER`` caps.
# ``unknown`` is left out on purpose: such a task waits for a moderator, takes no place in the queue
# and no API call, and its credits stay reserved (and counted against every limit) until resolved.
IN_FLIGHT_STATES: frozenset[TaskState] = frozenset(TaskState) - FINAL_STATES - {TaskState.UNKNOWN}

# Tasks in these states wait for the poller.
POLLED_STATES: tuple[TaskState, ...] = (TaskState.SUBMITTED, TaskState.PROCESSING)

_S = TaskState
TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    _S.QUEUED: frozenset({_S.SUBMITTING, _S.CANCELLED, _S.FAILED}),
    # Back to queued only when the create call certainly did not happen (e.g. refused before sending).
    _S.SUBMITTING: frozenset({_S.SUBMITTED, _S.FAILED, _S.UNKNOWN, _S.QUEUED}),
    _S.SUBMITTED: frozenset({_S.PROCESSING, _S.DOWNLOADING, _S.FAILED}),
    _S.PROCESSING: frozenset({_S.PROCESSING, _S.DOWNLOADING, _S.FAILED}),
    _S.DOWNLOADING: frozenset({_S.DOWNLOADING, _S.DELIVERING, _S.FAILED}),
    _S.DELIVERING: frozenset({_S.DELIVERED, _S.FAILED}),
    # A moderator resolves: refund (failed), or attach the API's task id and resume polling.
    _S.UNKNOWN: frozenset({_S.FAILED, _S.SUBMITTED}),
    _S.DELIVERED: frozenset(),
    _S.FAILED: frozenset(),
    _S.CANCELLED: frozenset(),
}


def can_transition(from_state: TaskState, to_state: TaskState) -> bool:
    return to_state in TRANSITIONS[from_state]
