"""`/videoadmin forget member`: erase a member's prompts and preferences (audited)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.i18n import Message, msg, translate
from cogs import admin_embeds as embeds
from cogs.admin._base import AdminBase, forget, member_ref, shown_refusals
from cogs.locales import member_locale
from cogs.replies import send


class PrivacyCommands(AdminBase):
    """`/videoadmin forget member`."""

    @forget.command(name="member", description="Erase a member's prompts and preferences (kept: credits)")
    @app_commands.describe(member="Whose prompts and /video settings to erase")
    async def forget_member(self, interaction: discord.Interaction[Any], member: discord.Member) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            forgotten = await self.service.forget_member(mod, member_ref(member))
        locale = member_locale(interaction)
        if forgotten.prompts == 1:
            prompts = translate(locale, "admin.privacy.prompts_one")
        else:
            prompts = translate(locale, "admin.privacy.prompts_many", n=forgotten.prompts)
        unfinished: Message | str = ""
        if kept := forgotten.unfinished_kept:
            unfinished = (
                msg("admin.privacy.unfinished_one")
                if kept == 1
                else msg("admin.privacy.unfinished_many", n=kept)
            )
        none = translate(locale, "admin.privacy.none")
        settings_before = translate(locale, "admin.privacy.settings_kept") if forgotten.preferences else none
        embed = embeds.change_embed(
            translate(locale, "admin.privacy.title", name=member.display_name),
            [
                (
                    prompts,
                    translate(locale, "admin.privacy.kept"),
                    translate(locale, "admin.privacy.erased"),
                ),
                (translate(locale, "admin.privacy.settings"), settings_before, none),
            ],
            changed=True,  # audited every time, even when there was nothing left to erase
            note=translate(locale, "admin.privacy.note", unfinished=unfinished),
            locale=locale,
        )
        await send(interaction, embed=embed)
