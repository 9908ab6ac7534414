"""`/videoadmin block`, `unblock` and `blocks`: who may not generate videos in this server."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.i18n import translate
from bot.lifecycle.moderation.values import MAX_REASON_CHARS
from cogs import admin_embeds as embeds
from cogs.admin._base import AdminBase, member_ref, shown_refusals, videoadmin
from cogs.locales import member_locale
from cogs.replies import send


class BlockCommands(AdminBase):
    """`/videoadmin block|unblock|blocks`."""

    @videoadmin.command(name="block", description="Stop a member from making videos in this server")
    @app_commands.describe(member="The member", reason="Shown to the member when they try")
    async def block(
        self,
        interaction: discord.Interaction[Any],
        member: discord.Member,
        reason: app_commands.Range[str, 1, MAX_REASON_CHARS] | None = None,
    ) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            change = await self.service.block(mod, member_ref(member), reason)
        locale = member_locale(interaction)
        embed = embeds.change_embed(
            translate(locale, "admin.block.title", name=member.display_name),
            [
                (
                    member.display_name,
                    embeds.block_text(change.before, locale),
                    embeds.block_text(change.after, locale),
                )
            ],
            changed=change.audit_id is not None,
            note=translate(locale, "admin.block.note"),
            locale=locale,
        )
        await send(interaction, embed=embed)

    @videoadmin.command(name="unblock", description="Let a blocked member generate videos again")
    @app_commands.describe(member="The member")
    async def unblock(self, interaction: discord.Interaction[Any], member: discord.Member) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            change = await self.service.unblock(mod, member_ref(member))
        locale = member_locale(interaction)
        embed = embeds.change_embed(
            translate(locale, "admin.block.title", name=member.display_name),
            [
                (
                    member.display_name,
                    embeds.block_text(change.before, locale),
                    embeds.block_text(None, locale),
                )
            ],
            changed=change.audit_id is not None,
            locale=locale,
        )
        await send(interaction, embed=embed)

    @videoadmin.command(name="blocks", description="Members blocked from generating videos")
    async def blocks(self, interaction: discord.Interaction[Any]) -> None:
        mod = await self.moderation(interaction)
        await send(
            interaction, embed=embeds.blocks_embed(await self.service.blocks(mod), member_locale(interaction))
        )
