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
            raise RequestRefused(f"There is no task #{task_id}.") from None

    async def claim_share(self, task_id: int, actor: Actor) -> ShareTicket:
        """Check every rule and claim the share; raises :class:`RequestRefused` saying why not."""
        if actor.guild_id is None:
            raise RequestRefused("Videos can be shared to a showcase only from inside a server.")
        task = await self._task(task_id)
        if task.guild_id != actor.guild_id:
            raise RequestRefused(f"Task #{task_id} was not made in this server.")
        if task.user_id != actor.user_id and not await self._moderates(actor):
            raise RequestRefused("Only the video's author or a moderator can share it to the showcase.")
        if task.state is not TaskState.DELIVERED:
            raise RequestRefused("Only a delivered video can be shared.")
        if task.deliver_by_dm:
            raise RequestRefused("This video was delivered privately, so it is not shared.")
        showcase = await self._storage.showcase.get(actor.guild_id)
        if showcase is None:
            raise RequestRefused(
                "This server has no showcase yet: a moderator can set one with `/videoadmin showcase`."
            )
        claim = await self._storage.showcase.claim(
            task_id, actor.guild_id, shared_by=actor.user_id, now=self._clock()
        )
        if not claim.claimed:
            raise RequestRefused(_already(claim.existing))
        return ShareTicket(task, showcase)

    async def shared(self, task_id: int, channel_id: int, message_id: int) -> None:
        await self._storage.showcase.completed(task_id, channel_id, message_id)

    async def share_failed(self, task_id: int) -> None:
        await self._storage.showcase.release(task_id)

    async def remove(self, task_id: int, actor: Actor) -> ShowcasePost:
        """A moderator takes the post down; returns it (with where it is, for the cog to delete)."""
        post = await self._storage.showcase.post(task_id)
        if post is None or post.guild_id != actor.guild_id:
            raise RequestRefused("That video is not in this server's showcase.")
        if not await self._moderates(actor):
            raise RequestRefused("Only a moderator can remove a video from the showcase.")
        change = await self._storage.showcase.remove(task_id, actor_id=actor.user_id, now=self._clock())
        assert change.after is not None
        return change.after

    async def vote(self, task_id: int, actor: Actor) -> Vote:
        """Toggle the member's vote; the count after it."""
        post = await self._storage.showcase.post(task_id)
        if post is None or post.guild_id != actor.guild_id:
            raise RequestRefused("That video is not in this server's showcase.")
        vote = await self._storage.showcase.toggle_vote(task_id, actor.user_id, now=self._clock())
        if vote is None:
            raise RequestRefused("This video was removed from the showcase; votes are closed.")
        return vote

    async def top(self, guild_id: int, period: str) -> list[TopEntry]:
        """The most-voted videos shared in the last day, week (7 days) or month (30 days)."""
        window = TOP_PERIODS.get(period)
        if window is None:
            raise RequestRefused("The period is day, week or month.")
        return await self._storage.showcase.top(guild_id, self._clock() - window, limit=TOP_LIMIT)


def _already(existing: ShowcasePost | None) -> str:
    if existing is not None and existing.removed:
        return "A moderator removed this video from the showcase, so it is not shared again."
    if existing is not None and existing.posted:
        return "This video is already in the showcase."
    return "This video is being shared right now."
