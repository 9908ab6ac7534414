"""Who counts as a moderator of the bot in a guild: Manage Server, or the role the guild configured.

``default_permissions`` only hides commands; a server owner can grant them to anyone in the
integration settings, so every moderator action checks this at run time as well.

`/videoadmin` checks it here, on the ``discord.Member``. `/video`'s moderator actions (on someone
else's video) apply the same rule in ``VideoService.is_moderator``, on a plain ``Actor`` built by
``cogs.video_support.actor_from``: a change to the rule must be made in both places.
"""

from __future__ import annotations

from typing import Protocol

import discord


class ModeratorPolicy(Protocol):
    """The one field of a guild's policy this rule reads (``storage.GuildPolicy`` has it)."""

    @property
    def moderator_role_id(self) -> int | None: ...


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


def is_moderator(member: discord.Member | discord.User, policy: ModeratorPolicy | None) -> bool:
    """Manage Server, or the moderator role the guild configured. A plain user (a DM) never is."""
    if not isinstance(member, discord.Member):
        return False
    if has_manage_server(member):
        return True
    role_id = policy.moderator_role_id if policy is not None else None
    return role_id is not None and has_role(member, role_id)


def refusal_text(policy: ModeratorPolicy | None) -> str:
    """What a member without rights is told; the role is a mention that renders without pinging."""
    role_id = policy.moderator_role_id if policy is not None else None
    if role_id is None:
        return "You need the Manage Server permission to use the video moderator commands."
    return (
        f"You need the Manage Server permission or the <@&{role_id}> role to use the video moderator "
        "commands."
    )
