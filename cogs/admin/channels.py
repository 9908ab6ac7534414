"""`/videoadmin channels …`: the allow-list and deny-list of channels where `/video` works."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.i18n import translate
from bot.lifecycle.moderation import ChannelChange, ChannelOutcome
from cogs import admin_embeds as embeds
from cogs.admin._base import AdminBase, channel_ref, channels, shown_refusals
from cogs.locales import member_locale
from cogs.replies import send


class ChannelCommands(AdminBase):
    """`/videoadmin channels allow|deny|list`."""

    @channels.command(name="allow", description="Allow /video in a channel (then only in listed ones)")
    @app_commands.describe(channel="A text channel")
    async def channels_allow(
        self, interaction: discord.Interaction[Any], channel: discord.TextChannel
    ) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            answer = await self.service.allow_channel(mod, channel_ref(channel))
        await send(interaction, embed=_channel_change_embed(channel, answer, member_locale(interaction)))

    @channels.command(name="deny", description="Refuse /video in a channel")
    @app_commands.describe(
        channel="A text channel",
        open_other_channels=("To deny the last allowed channel: /video then works everywhere else"),
    )
    async def channels_deny(
        self,
        interaction: discord.Interaction[Any],
        channel: discord.TextChannel,
        open_other_channels: bool = False,
    ) -> None:
        mod = await self.moderation(interaction)
        with shown_refusals():
            answer = await self.service.deny_channel(
                mod, channel_ref(channel), open_other_channels=open_other_channels
            )
        await send(interaction, embed=_channel_change_embed(channel, answer, member_locale(interaction)))

    @channels.command(name="list", description="Where /video may be used")
    async def channels_list(self, interaction: discord.Interaction[Any]) -> None:
        mod = await self.moderation(interaction)
        await send(
            interaction,
            embed=embeds.channels_embed(await self.service.channel_rules(mod), member_locale(interaction)),
        )


def _note(answer: ChannelChange, locale: str) -> str | None:
    """What the change means for the other channels."""
    if answer.outcome is ChannelOutcome.DENY_LIFTED:
        return translate(locale, "admin.channels.deny_lifted")
    if answer.outcome is ChannelOutcome.ALLOW_LISTED:
        listed = ", ".join(f"<#{c}>" for c in answer.allow_list)
        key = "admin.channels.was_open" if answer.was_open else "admin.channels.only_in"
        return translate(locale, key, channels=listed)
    if answer.outcome is ChannelOutcome.LAST_ALLOWED_DENIED:
        return translate(locale, "admin.channels.last_denied")
    return None


def _channel_change_embed(
    channel: discord.abc.GuildChannel, answer: ChannelChange, locale: str
) -> discord.Embed:
    """The confirmation of a channel rule change, alike for allow and deny, in the moderator's
    language."""
    change = answer.change
    return embeds.change_embed(
        translate(locale, "admin.channels.title"),
        [
            (
                f"#{channel.name}",
                embeds.channel_rule_text(change.before, locale),
                embeds.channel_rule_text(change.after, locale),
            )
        ],
        changed=change.audit_id is not None,
        note=_note(answer, locale),
        locale=locale,
    )
