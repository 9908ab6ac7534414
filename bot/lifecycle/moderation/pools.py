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
        raise ModerationRefused(
            "A pool's name is 1 to 32 lowercase letters, digits, `-` or `_` (for example `design-team`). "
            "Nothing was changed."
        )
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
            raise ModerationRefused("`period` is day, week or month. Nothing was changed.")
        return period

    def _pool_role(self, mod: Moderator, role: RoleRef) -> int:
        if role.guild_id != mod.guild_id:
            raise ModerationRefused("That role does not exist in this server. Nothing was changed.")
        if role.is_everyone:
            raise ModerationRefused(
                "A pool cannot be for @everyone: pick the team's role, or a channel. Nothing was changed."
            )
        return role.role_id

    def _pool_channel(self, mod: Moderator, channel: ChannelRef) -> int:
        self._check_channel(mod, channel)
        return channel.channel_id

    async def _existing(self, mod: Moderator, raw: str) -> PoolUsage:
        name = pool_name(raw)
        usage = await self.storage.pools.get(mod.guild_id, name, now=self._clock())
        if usage is None:
            raise ModerationRefused(
                f"There is no pool called `{name}` in this server: `/videoadmin pool list` shows them."
            )
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
            raise ModerationRefused(
                "Name a `role` or a `channel` (or both): who may spend from the pool. Nothing was changed."
            )
        existing = await self.storage.pools.all(mod.guild_id)
        if any(u.pool.name == chosen for u in existing):
            raise ModerationRefused(
                f"There is already a pool called `{chosen}`: change it with `/videoadmin pool set`. "
                "Nothing was changed."
            )
        if len(existing) >= MAX_POOLS_PER_GUILD:
            raise ModerationRefused(
                f"This server has {len(existing)} pools, the most it may have: delete one first. "
                "Nothing was changed."
            )
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
            raise ModerationRefused("`clear` is role or channel. Nothing was changed.")
        if (clear == "role" and role is not None) or (clear == "channel" and channel is not None):
            raise ModerationRefused(f"Give a new {clear} or clear it, not both. Nothing was changed.")
        role_id = pool.role_id if role is None else self._pool_role(mod, role)
        channel_id = pool.channel_id if channel is None else self._pool_channel(mod, channel)
        role_id = None if clear == "role" else role_id
        channel_id = None if clear == "channel" else channel_id
        if role_id is None and channel_id is None:
            raise ModerationRefused(
                f"The pool `{pool.name}` would be for no one: it needs a role or a channel (or both). "
                "Nothing was changed."
            )
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
