"""What a push notification does: at most bring one of our tasks' next query forward.

A push is unsigned (see :mod:`bot.minimax.callbacks`), so it is never trusted: its task id must be
one the bot submitted and is still waiting for, and all it does is make that task due now, so the
poller's next query (one, through the same budget as any other) confirms the outcome before anything
is delivered or refunded. Repeats are idempotent: a task already brought forward in the last
``POLL_MIN_INTERVAL_SECONDS`` is left alone, so a flood of copies costs one indexed read each and
at most one query per task per interval. Pushes that are not final (``processing``) change nothing.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from bot.lifecycle.deps import LifecycleDeps
from bot.minimax.callbacks import StatusPush
from storage.errors import StorageError, UnknownTask
from storage.states import POLLED_STATES

log = logging.getLogger(__name__)

ACTED = 202
NOTHING_TO_DO = 200
NOT_OURS = 404
BUSY = 503
# Tasks remembered as recently brought forward (far more than can be in flight at once).
_REMEMBERED = 4096


class PushReceiver:
    def __init__(self, deps: LifecycleDeps) -> None:
        self._deps = deps
        self._advanced: OrderedDict[int, float] = OrderedDict()
        self.accepted = 0

    async def __call__(self, push: StatusPush) -> int:
        deps = self._deps
        try:
            task = await deps.storage.tasks.get_by_api_id(push.task_id)
        except UnknownTask:
            log.info("A push named task %s, which is not ours; ignored", push.task_id)
            return NOT_OURS
        except StorageError:
            log.exception("Could not look up the pushed task %s", push.task_id)
            return BUSY  # the API may send it again; the poller's safety net is there anyway
        if task.state not in POLLED_STATES or not push.final:
            return NOTHING_TO_DO
        now = deps.now()
        last = self._advanced.get(task.id)
        if last is not None and now - last < deps.timing.min_interval:
            return NOTHING_TO_DO
        if task.next_poll_at is not None and task.next_poll_at <= now:
            return NOTHING_TO_DO  # due already: the poller is on it
        self._advanced[task.id] = now
        self._advanced.move_to_end(task.id)
        while len(self._advanced) > _REMEMBERED:
            self._advanced.popitem(last=False)
        try:
            await deps.storage.tasks.update_fields(task.id, next_poll_at=now)
        except StorageError:
            log.exception("Could not bring task %s forward after a push", task.id)
            return BUSY
        self.accepted += 1
        deps.poller_wake.set()
        return ACTED
