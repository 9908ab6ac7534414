"""`/videoadmin quota …`: members' allowances, role limits and the server default."""

from __future__ import annotations

from typing import Any, Literal

import discord
from discord import app_commands

from bot.i18n import translate
from bot.lifecycle.moderation.values import MAX_MEMBER_CREDITS
from cogs import admin_embeds as embeds
from cogs.admin._base import AdminBase, member_ref, quota, role_ref, shown_refusals
from cogs.locales import member_locale
from cogs.replies import send

Period = Literal["day", "week", "month"]
ResetMode = Literal["clear-override", "fresh-allowance"]


class QuotaCommands(AdminBase):
    """`/videoadmin quota show|set|reset|default|role|role-clear`."""

    @quota.command(name="show", description="A member's allowance, usage and what sets the limit")
    @app_commands.describe(member="The member to look at")
    async def quota_show(self, interaction: discord.Interaction[Any], member: discord.Member) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            report = await self.service.quota_report(mod, member_ref(member))
        embed = embeds.quota_embed(
            member_mention=member.mention,
            usage=report.usage,
            override=report.override,
            best_role=report.best_role,
            guild_default=report.guild_default,
            block=report.block,
            guild_usage=report.guild_usage,
            locale=member_locale(interaction),
        )
        await send(interaction, embed=embed)

    @quota.command(name="set", description="Give a member their own allowance (above any role)")
    @app_commands.describe(
        member="The member",
        credits="Credits per period, one decimal allowed (e.g. 2.5)",
        period="Period (default: the server's)",
    )
    async def quota_set(
        self,
        interaction: discord.Interaction[Any],
        member: discord.Member,
        credits: app_commands.Range[float, 0, MAX_MEMBER_CREDITS],
        period: Period | None = None,
    ) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            change = await self.service.set_override(mod, member_ref(member), credits, period)
        locale = member_locale(interaction)
        embed = embeds.change_embed(
            translate(locale, "admin.quota.title", name=member.display_name),
            [
                (
                    translate(locale, "admin.quota.override"),
                    embeds.override_text(change.before, locale),
                    embeds.override_text(change.after, locale),
                )
            ],
            changed=change.audit_id is not None,
            note=translate(locale, "admin.quota.set_note", mention=member.mention),
            locale=locale,
        )
        await send(interaction, embed=embed)

    @quota.command(name="reset", description="Clear a member's override, or forgive this period's use")
    @app_commands.describe(
        member="The member",
        mode="clear-override: role/server limit · fresh-allowance: forgive this period's use",
    )
    async def quota_reset(
        self, interaction: discord.Interaction[Any], member: discord.Member, mode: ResetMode
    ) -> None:
        mod = await self.moderation(interaction)
        locale = member_locale(interaction)
        if mode == "clear-override":
            with shown_refusals():
                change = await self.service.clear_override(mod, member_ref(member))
            embed = embeds.change_embed(
                translate(locale, "admin.quota.title", name=member.display_name),
                [
                    (
                        translate(locale, "admin.quota.override"),
                        embeds.override_text(change.before, locale),
                        embeds.override_text(None, locale),
                    )
                ],
                changed=change.audit_id is not None,
                note=translate(locale, "admin.quota.clear_note"),
                locale=locale,
            )
        else:
            with shown_refusals():
                grant = await self.service.fresh_allowance(mod, member_ref(member))
            embed = embeds.change_embed(
                translate(locale, "admin.quota.fresh_title", name=member.display_name),
                [
                    (
                        translate(locale, "admin.quota.used"),
                        embeds.credits(grant.before or 0, locale),
                        embeds.credits(grant.after or 0, locale),
                    )
                ],
                changed=True,
                note=translate(locale, "admin.quota.fresh_note"),
                locale=locale,
            )
        await send(interaction, embed=embed)

    @quota.command(name="default", description="Allowance of members without a role limit or override")
    @app_commands.describe(
        credits="Credits per period, one decimal allowed", period="Day, week or month (UTC)"
    )
    async def quota_default(
        self,
        interaction: discord.Interaction[Any],
        credits: app_commands.Range[float, 0, MAX_MEMBER_CREDITS],
        period: Period,
    ) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            change = await self.service.set_guild_default(mod, credits, period)
        locale = member_locale(interaction)
        before = embeds.default_text(change.before, locale)
        if change.before is None:
            bot_default = embeds.per_period(*self.service.bot_default, locale)
            before = translate(locale, "admin.quota.bot_default", value=bot_default)
        embed = embeds.change_embed(
            translate(locale, "admin.quota.default_title"),
            [(translate(locale, "admin.quota.default"), before, embeds.default_text(change.after, locale))],
            changed=change.audit_id is not None,
            note=translate(locale, "admin.quota.default_note"),
            locale=locale,
        )
        await send(interaction, embed=embed)

    @quota.command(name="role", description="Allowance for this role (a member gets their best role's)")
    @app_commands.describe(role="The role", credits="Credits per period, one decimal allowed")
    async def quota_role(
        self,
        interaction: discord.Interaction[Any],
        role: discord.Role,
        credits: app_commands.Range[float, 0, MAX_MEMBER_CREDITS],
    ) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            change = await self.service.set_role_limit(mod, role_ref(role), credits)
        locale = member_locale(interaction)
        embed = embeds.change_embed(
            translate(locale, "admin.quota.role_title", name=role.name),
            [
                (
                    f"@{role.name}",
                    embeds.role_text(change.before, locale),
                    embeds.role_text(change.after, locale),
                )
            ],
            changed=change.audit_id is not None,
            note=translate(locale, "admin.quota.role_note"),
            locale=locale,
        )
        await send(interaction, embed=embed)

    @quota.command(name="role-clear", description="Remove a role's allowance")
    @app_commands.describe(role="The role")
    async def quota_role_clear(self, interaction: discord.Interaction[Any], role: discord.Role) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            change = await self.service.clear_role_limit(mod, role_ref(role))
        locale = member_locale(interaction)
        embed = embeds.change_embed(
            translate(locale, "admin.quota.role_title", name=role.name),
            [(f"@{role.name}", embeds.role_text(change.before, locale), embeds.role_text(None, locale))],
            changed=change.audit_id is not None,
            locale=locale,
        )
        await send(interaction, embed=embed)
