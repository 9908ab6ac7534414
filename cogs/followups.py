"""Interaction follow-ups kept for a while: one more way to reach a member when the channel refuses.

A ``/video generate`` (or "Animate image", or "Regenerate") is answered through an interaction whose
webhook may post in the channel for 15 minutes, even where the bot itself lost the right to (a
permission removed, the channel locked). The webhook carries the interaction's token, a secret: it is
kept in memory only, never in the database or the logs, and dropped once its task is over or the
token has (almost) expired, so the registry holds at most the last 15 minutes of requests.

Discord objects stay here and in :mod:`cogs.notifier`; the lifecycle only ever sees task ids.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import discord

from bot.lifecycle import VideoService
from storage.models import Task

log = logging.getLogger(__name__)

TOKEN_LIFETIME = 15 * 60.0  # Discord's interaction tokens
# Stop using a token a minute early: an upload started at 14:59 would fail half-way.
SAFETY_MARGIN = 60.0


@dataclass(frozen=True)
class _Followup:
    webhook: discord.Webhook
    expires_at: float

    def __repr__(self) -> str:  # nothing of the webhook (its token is a secret) in a log line
        return f"_Followup(expires_at={self.expires_at})"


class FollowupRegistry:
    """task id → the webhook of the interaction that started it, while its token lives."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._entries: dict[int, _Followup] = {}

    def remember(self, task_id: int, interaction: discord.Interaction[Any]) -> bool:
        """Keep ``interaction``'s follow-up webhook for ``task_id``; False when its token is too old."""
        now = self._clock()
        self._prune(now)
        expires_at = interaction.created_at.timestamp() + TOKEN_LIFETIME - SAFETY_MARGIN
        if expires_at <= now:
            return False
        self._entries[task_id] = _Followup(interaction.followup, expires_at)
        return True

    def get(self, task_id: int) -> discord.Webhook | None:
        """The webhook for ``task_id`` if its token is still good, else None."""
        entry = self._entries.get(task_id)
        if entry is None:
            return None
        if entry.expires_at <= self._clock():
            del self._entries[task_id]
            return None
        return entry.webhook

    def forget(self, task_id: int) -> None:
        self._entries.pop(task_id, None)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._entries

    def _prune(self, now: float) -> None:
        for task_id in [t for t, e in self._entries.items() if e.expires_at <= now]:
            del self._entries[task_id]


@runtime_checkable
class HasFollowups(Protocol):
    """A notifier that can fall back to interaction follow-ups (:class:`DiscordNotifier`)."""

    @property
    def followups(self) -> FollowupRegistry: ...


async def keep_followup(service: VideoService, interaction: discord.Interaction[Any], task: Task) -> None:
    """After a command answered: let the notifier reach the member through this interaction.

    Called once the confirmation went out, never before: the first follow-up after a deferral
    replaces the "thinking…" answer and takes its privacy, so a card sent then would be hidden.
    A task whose card could not be posted in the channel gets another try now that the follow-up
    is there to fall back on.
    """
    notifier = service.notifier
    if not isinstance(notifier, HasFollowups):
        return
    if interaction.channel_id != task.channel_id:
        # A follow-up lands where the interaction happened (a Regenerate clicked on a re-posted
        # card elsewhere, or in a DM): never a fallback for a task that belongs to another channel.
        return
    if not notifier.followups.remember(task.id, interaction):
        return
    if task.status_message_id is None:
        try:
            await service.post_missing_card(task.id)
        except Exception:
            log.exception("Could not post the missing status card of task %s", task.id)
