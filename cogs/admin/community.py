"""`/videoadmin showcase`: the channel (text or forum) where members share their delivered videos."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.i18n import translate
from bot.lifecycle.moderation import ShowcaseChannel
from cogs import admin_embeds as embeds
from cogs.admin._base import AdminBase, shown_refusals, videoadmin
from cogs.locales import member_locale
from cogs.replies import send
from storage.showcase import Showcase


def showcase_channel(channel: discord.abc.GuildChannel) -> ShowcaseChannel:
    """Discord's channel as the plain record the rule checks (its kind decides how videos are posted)."""
    if isinstance(channel, discord.ForumChannel):
        kind = "forum"
    elif isinstance(channel, discord.TextChannel):
        kind = "text"
    else:
        kind = "other"
    return ShowcaseChannel(channel.id, channel.guild.id, kind)


def showcase_text(showcase: Showcase | None, locale: str | None = None) -> str:
    """The showcase as a ``before → after`` side, in the moderator's language."""
    if showcase is None:
        return translate(locale, "admin.community.none")
    kind = "forum" if showcase.is_forum else "text"
    return translate(locale, f"admin.community.{kind}", channel=f"<#{showcase.channel_id}>")


class CommunityCommands(AdminBase):
    """`/videoadmin showcase`."""

    @videoadmin.command(name="showcase", description="The channel where members share and vote on videos")
    @app_commands.describe(channel="A text or forum channel (a forum: one post per video)")
    async def showcase(
        self,
        interaction: discord.Interaction[Any],
        channel: discord.TextChannel | discord.ForumChannel,
    ) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            change = await self.service.set_showcase(mod, showcase_channel(channel))
        locale = member_locale(interaction)
        embed = embeds.change_embed(
            translate(locale, "admin.community.title"),
            [
                (
                    translate(locale, "admin.community.channel"),
                    showcase_text(change.before, locale),
                    showcase_text(change.after, locale),
                )
            ],
            changed=change.audit_id is not None,
            note=translate(locale, "admin.community.note"),
            locale=locale,
        )
        await send(interaction, embed=embed)
