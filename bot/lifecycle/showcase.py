"""The showcase rules: who may share a video, who may take it down, how votes and rankings work.

A delivered public video may be shared to the server's showcase channel once, by its author or a
moderator; a moderator may remove it (it then stays removed). Members vote with a toggle, one vote
each. The cog posts and edits the Discord messages; these rules decide, and storage keeps "once"
and "one vote" true under concurrent clicks (:mod:`storage.showcase`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.lifecycle.actor import Actor, is_moderator
from bot.lifecycle.refusal import RequestRefused
from storage import Storage
from storage.errors import UnknownTask
from storage.models import Task
from storage.showcase import Showcase, ShowcasePost, TopEntry, Vote
from storage.states import TaskState

# `/video top`'s periods, rolling windows ending now: "the week's best" at Monday 00:05 is not empty.
TOP_PERIODS: dict[str, float] = {"day": 86400.0, "week": 7 * 86400.0, "month": 30 * 86400.0}
TOP_LIMIT = 10


@dataclass(frozen=True)
class ShareTicket:
    """The right to post one video to the showcase: the caller posts, then reports back."""

    task: Task
    showcase: Showcase


class ShowcaseService:
    def __init__(self, storage: Storage, clock: Callable[[], float] = time.time) -> None:
        self._storage = storage
        self._clock = clock

    async def _moderates(self, actor: Actor) -> bool:
        if actor.guild_id is None:
            return False
        return is_moderator(actor, (await self._storage.policy.get(actor.guild_id)).moderator_role_id)

    async def _task(self, task_id: int) -> Task:
        try:
            return await self._storage.tasks.get(task_id)
        except UnknownTask:
            raise RequestRefused.keyed("refusal.no_task", task_id=task_id) from None

    async def claim_share(self, task_id: int, actor: Actor) -> ShareTicket:
        """Check every rule and claim the share; raises :class:`RequestRefused` saying why not."""
        if actor.guild_id is None:
            raise RequestRefused.keyed("showcase.refused.dm")
        task = await self._task(task_id)
        if task.guild_id != actor.guild_id:
            raise RequestRefused.keyed("showcase.refused.other_server", task_id=task_id)
        if task.user_id != actor.user_id and not await self._moderates(actor):
            raise RequestRefused.keyed("showcase.refused.not_author")
        if task.state is not TaskState.DELIVERED:
            raise RequestRefused.keyed("showcase.refused.not_delivered")
        if task.deliver_by_dm:
            raise RequestRefused.keyed("showcase.refused.private")
        showcase = await self._storage.showcase.get(actor.guild_id)
        if showcase is None:
            raise RequestRefused.keyed("showcase.refused.none")
        claim = await self._storage.showcase.claim(
            task_id, actor.guild_id, shared_by=actor.user_id, now=self._clock()
        )
        if not claim.claimed:
            raise RequestRefused.keyed(_already(claim.existing))
        return ShareTicket(task, showcase)

    async def shared(self, task_id: int, channel_id: int, message_id: int) -> None:
        await self._storage.showcase.completed(task_id, channel_id, message_id)

    async def share_failed(self, task_id: int) -> None:
        await self._storage.showcase.release(task_id)

    async def remove(self, task_id: int, actor: Actor) -> ShowcasePost:
        """A moderator takes the post down; returns it (with where it is, for the cog to delete)."""
        post = await self._storage.showcase.post(task_id)
        if post is None or post.guild_id != actor.guild_id:
            raise RequestRefused.keyed("showcase.refused.not_there")
        if not await self._moderates(actor):
            raise RequestRefused.keyed("showcase.refused.remove_not_moderator")
        change = await self._storage.showcase.remove(task_id, actor_id=actor.user_id, now=self._clock())
        assert change.after is not None
        return change.after

    async def vote(self, task_id: int, actor: Actor) -> Vote:
        """Toggle the member's vote; the count after it."""
        post = await self._storage.showcase.post(task_id)
        if post is None or post.guild_id != actor.guild_id:
            raise RequestRefused.keyed("showcase.refused.not_there")
        vote = await self._storage.showcase.toggle_vote(task_id, actor.user_id, now=self._clock())
        if vote is None:
            raise RequestRefused.keyed("showcase.refused.votes_closed")
        return vote

    async def top(self, guild_id: int, period: str) -> list[TopEntry]:
        """The most-voted videos shared in the last day, week (7 days) or month (30 days)."""
        window = TOP_PERIODS.get(period)
        if window is None:
            raise RequestRefused.keyed("showcase.refused.period")
        return await self._storage.showcase.top(guild_id, self._clock() - window, limit=TOP_LIMIT)


def _already(existing: ShowcasePost | None) -> str:
    """The key saying why a claimed video is not shared again."""
    if existing is not None and existing.removed:
        return "showcase.refused.removed"
    if existing is not None and existing.posted:
        return "showcase.refused.already"
    return "showcase.refused.in_progress"
