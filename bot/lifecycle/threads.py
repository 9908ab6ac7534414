"""A thread per video: where a team talks about a take, and where its result and failures land.

Whether a task gets one is decided here once: a public task in a server whose policy says
``threads: on`` (or, the server not having chosen, the operator's ``THREAD_PER_VIDEO``). The thread
is opened on the status card right after the card is posted, so a restart that posts a queued
task's card opens it the same way. Opening it never fails the task: without a thread, the result
goes to the channel as before.
"""

from __future__ import annotations

import logging

from bot.config import Settings
from bot.lifecycle.deps import LifecycleDeps
from storage.models import GuildPolicy, Task

log = logging.getLogger(__name__)


def threads_on(policy: GuildPolicy, settings: Settings) -> bool:
    return settings.thread_per_video if policy.threads is None else policy.threads


async def open_thread(deps: LifecycleDeps, task: Task, policy: GuildPolicy | None = None) -> Task:
    """Open (and remember) the task's thread when the server wants one; the task as it is now.

    ``policy``: the guild's, when the caller has it (admission read it a moment ago), else read.
    """
    if (
        task.guild_id is None
        or task.deliver_by_dm  # a private card shows nothing to talk about
        or task.status_message_id is None
        or task.thread_id is not None
    ):
        return task
    try:
        if policy is None:
            policy = await deps.storage.policy.get(task.guild_id)
        if not threads_on(policy, deps.settings):
            return task
        thread_id = await deps.notifier.open_thread(task)
        if thread_id is None:
            return task
        return await deps.storage.tasks.update_fields(task.id, thread_id=thread_id)
    except Exception:
        log.exception("Could not open the thread of task %s", task.id)
        return task
