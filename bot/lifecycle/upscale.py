"""Upscale to 2K: a delivered 768P MiniMax-H3 video re-rendered at 2K, as a new task of its own.

MiniMax documents ``POST {base}/v2/video_regeneration`` for this: ``content`` holds the text and a
``video_url`` item with role ``base_video``. The bot makes it an ordinary request (the catalog's
``upscale`` mode of MiniMax-H3): the prompt and ratio of the original, ``2K``, the delivered length
in whole seconds, and the original video as the base, from a fresh download URL the API gives for
it. So it is priced (2K per-second price × delivered seconds), reserved, queued, tracked, delivered
and charged like any request, to whoever asked for it; the original stays as it was.
"""

from __future__ import annotations

import logging

from bot.catalog import MODELS, UPSCALE_RESOLUTION, UPSCALE_SOURCE_RESOLUTION
from bot.lifecycle.actor import Actor
from bot.lifecycle.admission import Admission
from bot.lifecycle.deps import LifecycleDeps
from bot.lifecycle.queries import Queries, task_or_refusal
from bot.lifecycle.refusal import RequestRefused
from bot.lifecycle.validation import VideoRequest
from bot.spec import MediaKind, MediaRef, MediaRole, Mode, VideoSpec
from storage.models import Task
from storage.states import TaskState

log = logging.getLogger(__name__)


def offers_upscale(task: Task) -> bool:
    """Whether ``task``'s result gets the Upscale button: a 768P video of a model that upscales to
    2K (asked while the result is being posted, before the task is marked delivered)."""
    rules = MODELS.get(task.model)
    return (
        rules is not None
        and bool(rules.combos(Mode.UPSCALE))
        and task.spec.resolution == UPSCALE_SOURCE_RESOLUTION
        and task.spec.mode is not Mode.UPSCALE
    )


def upscalable(task: Task) -> bool:
    """Whether ``task`` can be upscaled now: delivered, with an API task to fetch the video from."""
    return offers_upscale(task) and task.state is TaskState.DELIVERED and task.api_task_id is not None


def upscale_seconds(task: Task) -> int:
    """The length an upscale is priced at: the delivered one in whole seconds (an H3 clip runs at most
    half a second over what was asked), else the one asked for."""
    assert task.spec.duration is not None
    if task.delivered_seconds is None:
        return task.spec.duration
    return max(1, round(task.delivered_seconds))


class Upscaler:
    def __init__(self, deps: LifecycleDeps, admission: Admission, queries: Queries) -> None:
        self._deps = deps
        self._admission = admission
        self._queries = queries

    async def upscale(self, task_id: int, actor: Actor) -> Task:
        """Reserve and queue the 2K version of ``task_id`` for ``actor``. Raises RequestRefused."""
        original = await task_or_refusal(self._deps, task_id)
        in_dm = actor.guild_id is None and original.guild_id is not None
        if original.guild_id != actor.guild_id and not (in_dm and original.user_id == actor.user_id):
            raise RequestRefused("That video belongs to another server.")
        if not upscalable(original):
            raise RequestRefused(
                f"Video #{original.id} cannot be upscaled: only a delivered {UPSCALE_SOURCE_RESOLUTION} "
                "MiniMax-H3 video can be re-rendered at 2K."
            )
        link = await self._queries.fresh_link(original)
        spec = VideoSpec(
            prompt=original.prompt,
            model=original.model,
            resolution=UPSCALE_RESOLUTION,
            duration=upscale_seconds(original),
            ratio=original.spec.ratio,
            media=(MediaRef(link.url, MediaRole.BASE_VIDEO, MediaKind.VIDEO, checked=True),),
        )
        request = VideoRequest(
            guild_id=original.guild_id,
            channel_id=original.channel_id,
            user_id=actor.user_id,
            spec=spec,
            role_ids=actor.role_ids,
            regenerated_from=original.id,
            parent_channel_id=await self._channel_parent(original.channel_id),
            private=original.deliver_by_dm,
            locale=actor.locale,
        )
        return await self._admission.request(request)

    async def _channel_parent(self, channel_id: int) -> int | None:
        """The thread's parent, for the server's channel rules (as Regenerate asks it)."""
        try:
            return await self._deps.notifier.channel_parent(channel_id)
        except Exception:
            log.exception("Could not look up the parent of channel %s", channel_id)
            return None
