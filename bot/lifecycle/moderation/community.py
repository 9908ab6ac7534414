"""The server's community features a moderator sets (the showcase channel where videos are shared),
and what the stats chart draws credits against."""

from __future__ import annotations

from dataclasses import dataclass

from bot.lifecycle.moderation._core import ModerationCore
from bot.lifecycle.moderation.records import ModerationRefused, Moderator
from storage.models import Change
from storage.showcase import Showcase


@dataclass(frozen=True)
class ShowcaseChannel:
    """The channel a moderator picked, as the cog saw it: a text channel, a forum, or neither."""

    channel_id: int
    guild_id: int
    kind: str  # "text", "forum" or "other"


class CommunityActions(ModerationCore):
    """`/videoadmin showcase`."""

    async def set_showcase(self, mod: Moderator, channel: ShowcaseChannel) -> Change[Showcase]:
        """Shared videos go to ``channel`` from now on; a forum gets one post per video."""
        if channel.guild_id != mod.guild_id:
            raise ModerationRefused.keyed("admin.refused.channel_elsewhere")
        if channel.kind not in ("text", "forum"):
            raise ModerationRefused.keyed("admin.refused.text_or_forum")
        return await self.storage.showcase.set(
            mod.guild_id,
            channel.channel_id,
            is_forum=channel.kind == "forum",
            actor_id=mod.actor_id,
            now=self._clock(),
        )

    async def showcase(self, mod: Moderator) -> Showcase | None:
        return await self.storage.showcase.get(mod.guild_id)

    async def cap_with_period(self, mod: Moderator) -> tuple[int | None, str]:
        """The server's cap (tenths, None: none) and the period it counts over (the quota period),
        for the stats chart's line."""
        default = await self.storage.limits.guild_default(mod.guild_id)
        period = default.period if default is not None else self.settings.default_quota_period
        return mod.policy.cap_tenths, period
