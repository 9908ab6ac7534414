"""Who is asking, as Discord told us: an interaction becomes a plain :class:`Actor`.

Whether that actor moderates the bot is decided once, in :func:`bot.lifecycle.actor.is_moderator`,
for `/video`'s moderator actions and every `/videoadmin` command alike; this module only reads the
Discord side of it (Manage Server, the member's role ids).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

import discord
from discord.ext import commands

from bot.lifecycle.actor import Actor
from cogs.scope import scope_guild_id

log = logging.getLogger(__name__)


def actor_from(interaction: discord.Interaction[Any]) -> Actor:
    user = interaction.user
    guild_id = scope_guild_id(interaction)  # a personal use (USER_INSTALL): no guild, no roles
    member = user if isinstance(user, discord.Member) else None
    roles = tuple(member_role_ids(user, guild_id)) if guild_id is not None else ()
    # Discord's resolved permissions for this interaction, else the member's roles (a payload
    # without ``permissions`` resolves to none).
    manage = guild_id is not None and (
        interaction.permissions.manage_guild or (member is not None and has_manage_server(member))
    )
    # The member's language, for what they are sent later (a fake without one: not known).
    locale = getattr(interaction, "locale", None)
    language = str(locale.value) if isinstance(locale, discord.Locale) else None
    return Actor(user_id=user.id, guild_id=guild_id, role_ids=roles, manage_guild=manage, locale=language)


async def is_operator(interaction: discord.Interaction[Any], owner_ids: Collection[int]) -> bool:
    """The bot's operator: in ``owner_ids`` (``OWNER_IDS``), or the application's owner or a team
    admin/developer (``commands.Bot.is_owner`` asks Discord once and caches the answer)."""
    user = interaction.user
    if user.id in owner_ids:
        return True
    if not isinstance(interaction.client, commands.Bot):
        return False
    try:
        return await interaction.client.is_owner(user)
    except discord.HTTPException as exc:
        log.warning(
            "Could not read the application's owner (assuming %s is not the operator): %s", user.id, exc
        )
        return False


def has_manage_server(member: discord.Member) -> bool:
    """Manage Server from the member's roles, or as Discord resolved it for this interaction.

    ``guild_permissions`` already implies it for the owner and for administrators.
    """
    if member.guild_permissions.manage_guild:
        return True
    resolved = member.resolved_permissions
    return resolved is not None and resolved.manage_guild


def member_role_ids(member: object, guild_id: int | None) -> list[int]:
    """The ids of the member's roles as Discord sent them, without @everyone (``guild_id``).

    ``Member.roles`` keeps only the roles found in the guild's cache, which can lag behind (a role
    made a moment ago, a guild still loading): a moderator role or a role limit must not vanish then.
    A ``User`` (a DM) has none.
    """
    raw = getattr(member, "_roles", None)  # discord.py's list of the payload's role ids
    if raw is not None:
        ids = [int(r) for r in raw]
    else:
        ids = [int(role.id) for role in getattr(member, "roles", ())]
    return [r for r in ids if r != guild_id]


def has_role(member: discord.Member, role_id: int) -> bool:
    return role_id in member_role_ids(member, member.guild.id)
