"""Team credit pools a moderator makes: a shared allowance per period for a role and/or a channel.

Members with the role, or asking in the channel, spend from it (:mod:`bot.lifecycle.pools`); the
pool's ledger is the members' (reserved, charged, refunded), and the server cap and the bot-wide
ceiling count it like any other spending.
"""

from __future__ import annotations

from bot.lifecycle.moderation._core import ModerationCore, refusing_bad_values
from bot.lifecycle.moderation.records import ChannelRef, ModerationRefused, Moderator, RoleRef
from bot.lifecycle.moderation.values import MAX_GUILD_CAP_CREDITS, credits_to_tenths
from bot.lifecycle.pools import fold_name
from storage import PERIODS, Pool, PoolUsage
from storage.models import Change
from storage.policy import UNSET
from storage.pools import MAX_POOLS_PER_GUILD, NAME_PATTERN

CLEARABLE = ("role", "channel")


def pool_name(raw: str) -> str:
    """What a moderator typed as a pool's name, folded to the stored spelling, or a refusal."""
    name = fold_name(raw)
    if NAME_PATTERN.fullmatch(name) is None:
        raise ModerationRefused.keyed("admin.refused.pool_name")
    return name


class PoolActions(ModerationCore):
    """`/videoadmin pool create|set|delete|show|list`."""

    def _pool_tenths(self, credits: float | str) -> int:
        # A pool is a share of the server's spending: never above what the operator lets a server spend.
        return credits_to_tenths(
            credits, option="credits", maximum=MAX_GUILD_CAP_CREDITS, operator_tenths=self.guild_cap_maximum
        )

    @staticmethod
    def _period(period: str) -> str:
        if period not in PERIODS:
            raise ModerationRefused.keyed("admin.refused.period")
        return period

    def _pool_role(self, mod: Moderator, role: RoleRef) -> int:
        if role.guild_id != mod.guild_id:
            raise ModerationRefused.keyed("admin.refused.role_elsewhere")
        if role.is_everyone:
            raise ModerationRefused.keyed("admin.refused.pool_everyone")
        return role.role_id

    def _pool_channel(self, mod: Moderator, channel: ChannelRef) -> int:
        self._check_channel(mod, channel)
        return channel.channel_id

    async def _existing(self, mod: Moderator, raw: str) -> PoolUsage:
        name = pool_name(raw)
        usage = await self.storage.pools.get(mod.guild_id, name, now=self._clock())
        if usage is None:
            raise ModerationRefused.keyed("admin.refused.pool_missing", name=name)
        return usage

    async def create_pool(
        self,
        mod: Moderator,
        name: str,
        credits: float | str,
        period: str,
        *,
        role: RoleRef | None = None,
        channel: ChannelRef | None = None,
    ) -> Change[Pool]:
        chosen = pool_name(name)
        tenths = self._pool_tenths(credits)
        period = self._period(period)
        role_id = None if role is None else self._pool_role(mod, role)
        channel_id = None if channel is None else self._pool_channel(mod, channel)
        if role_id is None and channel_id is None:
            raise ModerationRefused.keyed("admin.refused.pool_who")
        existing = await self.storage.pools.all(mod.guild_id)
        if any(u.pool.name == chosen for u in existing):
            raise ModerationRefused.keyed("admin.refused.pool_exists", name=chosen)
        if len(existing) >= MAX_POOLS_PER_GUILD:
            raise ModerationRefused.keyed("admin.refused.pool_full", count=len(existing))
        with refusing_bad_values():
            return await self.storage.pools.create(
                mod.guild_id,
                chosen,
                tenths,
                period,
                role_id=role_id,
                channel_id=channel_id,
                actor_id=mod.actor_id,
                now=self._clock(),
            )

    async def set_pool(
        self,
        mod: Moderator,
        name: str,
        *,
        credits: float | str | None = None,
        period: str | None = None,
        role: RoleRef | None = None,
        channel: ChannelRef | None = None,
        clear: str | None = None,
    ) -> Change[Pool]:
        """Change what is given; ``clear`` (``role`` or ``channel``) removes one of the two."""
        pool = (await self._existing(mod, name)).pool
        if clear is not None and clear not in CLEARABLE:
            raise ModerationRefused.keyed("admin.refused.pool_clear")
        if (clear == "role" and role is not None) or (clear == "channel" and channel is not None):
            raise ModerationRefused.keyed(f"admin.refused.pool_clear_both.{clear}")
        role_id = pool.role_id if role is None else self._pool_role(mod, role)
        channel_id = pool.channel_id if channel is None else self._pool_channel(mod, channel)
        role_id = None if clear == "role" else role_id
        channel_id = None if clear == "channel" else channel_id
        if role_id is None and channel_id is None:
            raise ModerationRefused.keyed("admin.refused.pool_no_one", name=pool.name)
        with refusing_bad_values():
            return await self.storage.pools.update(
                mod.guild_id,
                pool.name,
                credits_tenths=UNSET if credits is None else self._pool_tenths(credits),
                period=UNSET if period is None else self._period(period),
                role_id=role_id,
                channel_id=channel_id,
                actor_id=mod.actor_id,
                now=self._clock(),
            )

    async def delete_pool(self, mod: Moderator, name: str) -> Change[Pool]:
        """No new video is paid from it; the videos it already pays for are charged or refunded to it."""
        pool = (await self._existing(mod, name)).pool
        with refusing_bad_values():
            return await self.storage.pools.delete(
                mod.guild_id, pool.name, actor_id=mod.actor_id, now=self._clock()
            )

    async def pool(self, mod: Moderator, name: str) -> PoolUsage:
        return await self._existing(mod, name)

    async def pools(self, mod: Moderator) -> list[PoolUsage]:
        return await self.storage.pools.all(mod.guild_id, now=self._clock())
