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
from bot.i18n import msg
from bot.lifecycle.deps import LifecycleDeps
from bot.lifecycle.refusal import RequestRefused
from bot.minimax.errors import MiniMaxError
from bot.minimax.types import TaskStatus
from bot.minimax.v2 import on_v2
from bot.spec import VideoSpec

log = logging.getLogger(__name__)

# The expansion is text only: it is given this long before the member is told to try again.
PREVIEW_TIMEOUT = 90.0


class PromptPreview:
    def __init__(self, deps: LifecycleDeps, *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self._deps = deps
        self._sleep = sleep

    async def expand(self, spec: VideoSpec) -> str:
        """The expanded prompt of a resolved V2 spec; raises :class:`RequestRefused` with the reason."""
        if not on_v2(spec.model):
            raise RequestRefused.keyed("preview.refused.not_h3")
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
                    raise _failed("declined")
                if deps.now() >= deadline:
                    raise _failed("too_long")
        except MiniMaxError as exc:
            log.warning("Prompt preview failed: %s%s", exc, exc.request_note)
            raise _failed("no_answer") from None


def _failed(why: str) -> RequestRefused:
    """The preview could not be made (``why``: one of ``preview.why.*``); nothing was charged."""
    return RequestRefused.keyed("preview.refused.failed", why=msg(f"preview.why.{why}"))
