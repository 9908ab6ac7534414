"""What every moderation action shares: the service's dependencies, the gate and the common checks.

Each action first needs a :class:`Moderator` from :meth:`ModerationCore.authorize` (in a guild, and
a moderator there by the one rule in :mod:`bot.lifecycle.actor`). It then checks what the moderator
asked for, makes **one** storage call (which writes the change and its audit row in one transaction)
and returns the change record; a refusal is a :class:`ModerationRefused` whose text says what to
fix, and nothing is written then. The guild always comes from the moderator, never from an option,
so a moderator can only ever see and change their own server.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from bot.config import Settings
from bot.lifecycle.actor import Actor, is_moderator, moderator_refusal
from bot.lifecycle.moderation.records import ChannelRef, MemberRef, ModerationRefused, Moderator, RoleRef
from bot.lifecycle.timing import PollTiming
from storage import Storage
from storage.errors import InvalidValue
from storage.models import Task


class VideoControls(Protocol):
    """What moderation asks of the video service (``VideoService`` has it; tests pass a recorder)."""

    @property
    def submissions_paused(self) -> bool: ...

    def resume_submissions(self) -> None: ...

    def policy_changed(self, guild_id: int) -> None: ...

    def wake(self) -> None: ...

    def refresh_card(self, task: Task, *, note: str | None = None) -> Awaitable[None]: ...


@contextmanager
def refusing_bad_values() -> Iterator[None]:
    """Storage's own checks (the last line of defence) become a moderator-facing refusal."""
    try:
        yield
    except InvalidValue as exc:
        raise ModerationRefused.keyed("admin.refused.invalid", detail=str(exc)) from None


class ModerationCore:
    """The service's state and gate; the action mixins build on it."""

    def __init__(
        self,
        *,
        storage: Storage,
        settings: Settings,
        video: VideoControls | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.storage = storage
        self.settings = settings
        self.video = video
        self.timing = PollTiming.from_settings(settings)
        self._clock = clock

    # ------------------------------------------------------------------------------ the gate

    async def authorize(self, actor: Actor) -> Moderator:
        """The run-time check of every command and every button: in a guild, and a moderator there.

        ``default_permissions`` only hides `/videoadmin`; a server owner can grant it to anyone in the
        integration settings, so nothing is done without this check.
        """
        if actor.guild_id is None:
            raise ModerationRefused.keyed("admin.refused.outside_guild")
        policy = await self.storage.policy.get(actor.guild_id)
        if not is_moderator(actor, policy.moderator_role_id):
            raise ModerationRefused.of(moderator_refusal(policy.moderator_role_id))
        return Moderator(actor, actor.guild_id, policy)

    def check_member(self, mod: Moderator, member: MemberRef) -> None:
        if member.guild_id != mod.guild_id:
            raise ModerationRefused.keyed("admin.refused.member_elsewhere")

    @property
    def bot_default(self) -> tuple[int, str]:
        """The allowance (tenths, period) of a guild that never set its own default."""
        return self.settings.default_quota_tenths, self.settings.default_quota_period

    @property
    def member_maximum(self) -> int | None:
        """The most (tenths) a moderator may grant one member: override, role limit or server default."""
        return self.settings.max_member_credits_tenths

    @property
    def guild_cap_maximum(self) -> int | None:
        """The most (tenths) a moderator may set as the server's cap."""
        return self.settings.max_guild_cap_credits_tenths

    def _policy_changed(self, guild_id: int) -> None:
        if self.video is not None:
            self.video.policy_changed(guild_id)

    # ------------------------------------------------------------------------------ checks

    @staticmethod
    def _check_role(mod: Moderator, role: RoleRef, *, purpose: str) -> None:
        # Discord resolves a role option within the guild it was used in; the cache may lag behind.
        if role.guild_id != mod.guild_id:
            raise ModerationRefused.keyed("admin.refused.role_elsewhere")
        if role.is_everyone:
            key = "everyone_limit" if purpose == "a role limit" else "everyone_moderator"
            raise ModerationRefused.keyed(f"admin.refused.{key}")

    @staticmethod
    def _check_channel(mod: Moderator, channel: ChannelRef) -> None:
        if not channel.is_text:
            raise ModerationRefused.keyed("admin.refused.text_channel")
        if channel.guild_id != mod.guild_id:
            raise ModerationRefused.keyed("admin.refused.channel_elsewhere")
