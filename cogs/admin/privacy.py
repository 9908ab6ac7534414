"""`/videoadmin forget member`: erase a member's prompts and preferences (audited)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from cogs import admin_embeds as embeds
from cogs.admin._base import AdminBase, forget, member_ref, shown_refusals
from cogs.replies import send


class PrivacyCommands(AdminBase):
    """`/videoadmin forget member`."""

    @forget.command(name="member", description="Erase a member's prompts and preferences (kept: credits)")
    @app_commands.describe(member="Whose prompts and /video settings to erase")
    async def forget_member(self, interaction: discord.Interaction[Any], member: discord.Member) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            forgotten = await self.service.forget_member(mod, member_ref(member))
        videos = "1 finished video" if forgotten.prompts == 1 else f"{forgotten.prompts} finished videos"
        note = "Credits, states and times stay (the server's accounting); the audit log records this."
        if kept := forgotten.unfinished_kept:
            what = "video keeps its prompt" if kept == 1 else "videos keep their prompts"
            note += f" {kept} unfinished {what} until made: run this again afterwards."
        embed = embeds.change_embed(
            f"What the bot keeps of {member.display_name}",
            [
                (f"Prompts of {videos} in this server", "kept", "erased"),
                ("/video settings", "kept" if forgotten.preferences else "none", "none"),
            ],
            changed=True,  # audited every time, even when there was nothing left to erase
            note=note,
        )
        await send(interaction, embed=embed)
