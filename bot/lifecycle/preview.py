"""The prompt preview: MiniMax-H3's documented prompt expansion, shown before anything is reserved.

``POST /v2/h3_context_ir`` takes the create body (model, content, duration, ratio) and starts an
asynchronous task, read through the V2 query endpoint until ``task.content.prompt`` names the
expanded prompt. MiniMax publishes no price for it, so the bot charges no credits and reserves
nothing: the member sees the expanded prompt privately and then chooses which prompt the video
(priced and reserved as ever) is made from.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.backoff import backoff
from bot.lifecycle.deps import LifecycleDeps
from bot.lifecycle.refusal import RequestRefused
from bot.minimax.errors import MiniMaxError
from bot.minimax.types import TaskStatus
from bot.minimax.v2 import on_v2
from bot.spec import VideoSpec

log = logging.getLogger(__name__)

# The expansion is text only: it is given this long before the member is told to try again.
PREVIEW_TIMEOUT = 90.0
NOT_H3_TEXT = (
    "A prompt preview is only offered for MiniMax-H3 models: choose `model: MiniMax-H3` "
    "(or MiniMax-H3-Max), or leave `preview` out."
)
FAILED_TEXT = (
    "The prompt preview could not be made ({reason}). Nothing was charged; try again, or leave "
    "`preview` out to make the video from your own prompt."
)


class PromptPreview:
    def __init__(self, deps: LifecycleDeps, *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self._deps = deps
        self._sleep = sleep

    async def expand(self, spec: VideoSpec) -> str:
        """The expanded prompt of a resolved V2 spec; raises :class:`RequestRefused` with the reason."""
        if not on_v2(spec.model):
            raise RequestRefused(NOT_H3_TEXT)
        deps = self._deps
        client = deps.client
        try:
            task_id = await client.start_prompt_expansion(spec)
            deadline = deps.now() + PREVIEW_TIMEOUT
            attempt = 0
            while True:
                attempt += 1
                await self._sleep(backoff(attempt, base=deps.timing.min_interval, cap=5.0))
                status, prompt = await client.prompt_expansion(task_id)
                if prompt is not None:
                    return prompt
                if status is TaskStatus.FAILED:
                    raise RequestRefused(FAILED_TEXT.format(reason="the video service declined it"))
                if deps.now() >= deadline:
                    raise RequestRefused(FAILED_TEXT.format(reason="it took too long"))
        except MiniMaxError as exc:
            log.warning("Prompt preview failed: %s%s", exc, exc.request_note)
            raise RequestRefused(FAILED_TEXT.format(reason="the video service did not answer")) from None
