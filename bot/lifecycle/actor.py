"""Who is acting, and the one rule that says whether they moderate the bot in their guild.

`/video`'s moderator actions (on someone else's video) and every `/videoadmin` command read the
rule from here, on a plain :class:`Actor` the cogs build from the interaction, so it is written once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who clicked or typed: enough to decide "the requester or a moderator" without Discord."""

    user_id: int
    guild_id: int | None
    role_ids: tuple[int, ...] = ()
    manage_guild: bool = False
    # The bot's operator (the application's owner or team, or OWNER_IDS), whichever server this is:
    # only they may act for every server at once (lift the bot-wide account pause).
    is_operator: bool = False
    # Their Discord locale (``interaction.locale``, e.g. ``ja``): a task they ask for keeps it, so
    # what reaches them later by DM is in their language. None: not known.
    locale: str | None = None


def is_moderator(actor: Actor, moderator_role_id: int | None) -> bool:
    """Manage Server, or the moderator role the guild configured. Outside a guild (a DM) nobody is."""
    if actor.guild_id is None:
        return False
    if actor.manage_guild:
        return True
    return moderator_role_id is not None and moderator_role_id in actor.role_ids


def moderator_refusal(moderator_role_id: int | None) -> str:
    """What a member without rights is told; the role is a mention that renders without pinging."""
    if moderator_role_id is None:
        return "You need the Manage Server permission to use the video moderator commands."
    return (
        f"You need the Manage Server permission or the <@&{moderator_role_id}> role to use the video "
        "moderator commands."
    )
