"""What every `/videoadmin` command shares: the command groups, the gate, and Discord → plain values.

The commands are thin: they turn the interaction's member, roles and channels into the moderation
service's records, call the service once (it checks, writes the change and its audit row in one
transaction) and confirm with an ephemeral ``before → after`` embed. A refusal from the service
(:class:`ModerationRefused`) becomes the same ephemeral reply as any other refusal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import msg
from bot.lifecycle.moderation import (
    ChannelRef,
    MemberRef,
    ModerationRefused,
    ModerationService,
    Moderator,
    RoleRef,
)
from cogs.permissions import actor_from, is_operator, member_role_ids
from cogs.replies import UserFacingError
from cogs.scope import OUTSIDE_GUILD, guild_scoped

PAGE_SIZE = 10

videoadmin = guild_scoped(
    app_commands.Group(
        name="videoadmin",
        description="Moderator controls for videos in this server",
        default_permissions=discord.Permissions(manage_guild=True),
    )
)
quota = app_commands.Group(name="quota", description="Members' credit allowances", parent=videoadmin)
filter_group = app_commands.Group(name="filter", description="The server's prompt filter", parent=videoadmin)
channels = app_commands.Group(name="channels", description="Where /video may be used", parent=videoadmin)
forget = app_commands.Group(
    name="forget", description="Erase what the bot keeps about someone", parent=videoadmin
)
pool = app_commands.Group(name="pool", description="Team credit pools", parent=videoadmin)  # terse: 4,000


@contextmanager
def shown_refusals() -> Iterator[None]:
    """A refusal of the moderation service becomes the member-facing reply of the command or click."""
    try:
        yield
    except ModerationRefused as exc:
        raise UserFacingError(exc.message, words=exc.words) from None


def member_ref(member: discord.Member) -> MemberRef:
    return MemberRef(member.id, member.guild.id, tuple(member_role_ids(member, member.guild.id)))


def role_ref(role: discord.Role) -> RoleRef:
    return RoleRef(role.id, role.guild.id)


def channel_ref(channel: discord.abc.GuildChannel) -> ChannelRef:
    """The option is typed as a text channel, but a command can be invoked by other means too."""
    return ChannelRef(channel.id, channel.guild.id, is_text=isinstance(channel, discord.TextChannel))


class AdminBase(commands.Cog):
    """The part of the cog every command mixin relies on (``AdminCog`` combines the mixins; a mixin
    is a ``Cog`` only so discord.py's typing accepts its methods as commands of a group)."""

    def __init__(self, moderation: ModerationService) -> None:
        self.service = moderation

    async def moderation(self, interaction: discord.Interaction[Any]) -> Moderator:
        """The run-time check of every command and every button: in a guild, and a moderator there."""
        if interaction.guild is None or not isinstance(interaction.user, discord.Member):
            raise UserFacingError(OUTSIDE_GUILD, words=msg("error.outside_guild"))
        actor = replace(
            actor_from(interaction),
            is_operator=await is_operator(interaction, self.service.settings.owner_ids),
        )
        with shown_refusals():
            return await self.service.authorize(actor)

    async def _authorize(self, interaction: discord.Interaction[Any]) -> None:
        await self.moderation(interaction)
