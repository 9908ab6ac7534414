"""Allowances and blocks: quota overrides, role limits, the server default, fresh allowances."""

from __future__ import annotations

from bot.lifecycle.moderation._core import ModerationCore, refusing_bad_values
from bot.lifecycle.moderation.records import MemberRef, ModerationRefused, Moderator, QuotaReport, RoleRef
from bot.lifecycle.moderation.values import clean_reason, credits_to_tenths
from storage.models import Block, Change, GuildDefault, RoleLimit, UserOverride


class LimitActions(ModerationCore):
    """Who may spend how much: overrides, role limits, the server default, fresh allowances, blocks."""

    # ------------------------------------------------------------------------------ quota

    async def quota_report(self, mod: Moderator, member: MemberRef) -> QuotaReport:
        self.check_member(mod, member)
        gid, now = mod.guild_id, self._clock()
        usage = await self.storage.quota.usage(
            gid,
            member.user_id,
            role_ids=member.role_ids,
            now=now,
            default_limit_tenths=self.settings.default_quota_tenths,
            default_period=self.settings.default_quota_period,
        )
        roles = [r for r in await self.storage.limits.role_limits(gid) if r.role_id in member.role_ids]
        best: RoleLimit | None = max(roles, key=lambda r: r.credits_tenths, default=None)
        return QuotaReport(
            usage=usage,
            override=await self.storage.limits.override(gid, member.user_id),
            best_role=best,
            guild_default=await self.storage.limits.guild_default(gid),
            block=await self.storage.limits.blocked(gid, member.user_id),
            guild_usage=await self.storage.quota.guild_usage(
                gid,
                now=now,
                default_period=self.settings.default_quota_period,
                max_guild_cap_tenths=self.guild_cap_maximum,
            ),
        )

    async def set_override(
        self, mod: Moderator, member: MemberRef, credits: float | str, period: str | None
    ) -> Change[UserOverride]:
        """The member's own allowance: it wins over their roles and the server default."""
        self.check_member(mod, member)
        tenths = credits_to_tenths(credits, option="credits", operator_tenths=self.member_maximum)
        with refusing_bad_values():
            return await self.storage.limits.set_override(
                mod.guild_id, member.user_id, tenths, period, actor_id=mod.actor_id, now=self._clock()
            )

    async def clear_override(self, mod: Moderator, member: MemberRef) -> Change[UserOverride]:
        self.check_member(mod, member)
        return await self.storage.limits.clear_override(
            mod.guild_id, member.user_id, actor_id=mod.actor_id, now=self._clock()
        )

    async def fresh_allowance(self, mod: Moderator, member: MemberRef) -> Change[int]:
        """Forget what the member used this period; their limit (and the guild's spending) stay."""
        self.check_member(mod, member)
        return await self.storage.quota.grant_fresh_allowance(
            mod.guild_id,
            member.user_id,
            actor_id=mod.actor_id,
            now=self._clock(),
            default_period=self.settings.default_quota_period,
        )

    async def set_guild_default(
        self, mod: Moderator, credits: float | str, period: str
    ) -> Change[GuildDefault]:
        tenths = credits_to_tenths(credits, option="credits", operator_tenths=self.member_maximum)
        with refusing_bad_values():
            return await self.storage.limits.set_guild_default(
                mod.guild_id, tenths, period, actor_id=mod.actor_id, now=self._clock()
            )

    async def set_role_limit(self, mod: Moderator, role: RoleRef, credits: float | str) -> Change[RoleLimit]:
        self._check_role(mod, role, purpose="a role limit")
        tenths = credits_to_tenths(credits, option="credits", operator_tenths=self.member_maximum)
        with refusing_bad_values():
            return await self.storage.limits.set_role_limit(
                mod.guild_id, role.role_id, tenths, actor_id=mod.actor_id, now=self._clock()
            )

    async def clear_role_limit(self, mod: Moderator, role: RoleRef) -> Change[RoleLimit]:
        if role.guild_id != mod.guild_id:
            raise ModerationRefused.keyed("admin.refused.role_not_here")
        return await self.storage.limits.clear_role_limit(
            mod.guild_id, role.role_id, actor_id=mod.actor_id, now=self._clock()
        )

    # ------------------------------------------------------------------------------ blocks

    async def block(self, mod: Moderator, member: MemberRef, reason: str | None) -> Change[Block]:
        self.check_member(mod, member)
        text = clean_reason(reason)
        with refusing_bad_values():
            return await self.storage.limits.block(
                mod.guild_id, member.user_id, text, actor_id=mod.actor_id, now=self._clock()
            )

    async def unblock(self, mod: Moderator, member: MemberRef) -> Change[Block]:
        self.check_member(mod, member)
        return await self.storage.limits.unblock(
            mod.guild_id, member.user_id, actor_id=mod.actor_id, now=self._clock()
        )

    async def blocks(self, mod: Moderator) -> list[Block]:
        return await self.storage.limits.blocks(mod.guild_id)
