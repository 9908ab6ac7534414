"""Servers the bot does not serve (``ALLOWED_GUILD_IDS``): refused at every entry point, and left.

Anyone can add a public bot to their own server and spend its operator's balance there. Every
interaction comes in through one of two doors: the command tree (slash commands, the context menu,
autocomplete: ``VideoCommandTree.interaction_check``) or a persistent button of a message posted
earlier (every item of `DYNAMIC_ITEMS`: :class:`ServedOnly`). Both ask :func:`serves` before anything runs.
Short-lived views and modals only exist in answer to a command that passed the tree's check.
The bot also leaves such servers when it joins one and at every start (:func:`leave_unserved`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import discord

from bot.config import Settings
from bot.lifecycle.served import NOT_SERVED
from cogs.replies import send
from cogs.scope import scope_guild_id
from cogs.video_support import service_of

log = logging.getLogger(__name__)


async def serves(interaction: discord.Interaction[Any]) -> bool:
    """``True`` when the interaction may go on. Otherwise it is answered here (an ephemeral refusal;
    no suggestions for an autocomplete), logged, and nothing else runs: no storage, no API."""
    settings = service_of(interaction).settings
    # A personal use (USER_INSTALL=on) is in no server of the operator's: ALLOWED_GUILD_IDS is not
    # about it. Off, the interaction's server is checked as it always was.
    guild_id = scope_guild_id(interaction) if settings.user_install else interaction.guild_id
    if settings.guild_allowed(guild_id):
        return True
    log.warning(
        "Refused an interaction from server %s (user %s): it is not in ALLOWED_GUILD_IDS",
        interaction.guild_id,
        interaction.user.id,
    )
    try:
        if interaction.type is discord.InteractionType.autocomplete:
            await interaction.response.autocomplete([])
        else:
            await send(interaction, NOT_SERVED)
    except discord.HTTPException as exc:
        log.warning("Could not answer the refused interaction %s: %s", interaction.id, exc)
    return False


class ServedOnly:
    """Mixin for persistent buttons: the click is refused (and its callback never runs) outside the
    servers the bot serves. Put it first in the bases, before ``discord.ui.DynamicItem``."""

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        return await serves(interaction)


async def leave_unserved(settings: Settings, guilds: Iterable[discord.Guild]) -> list[int]:
    """Leave every guild of ``guilds`` outside ``ALLOWED_GUILD_IDS``; the ids left (or tried)."""
    left = []
    for guild in guilds:
        if settings.guild_allowed(guild.id):
            continue
        left.append(guild.id)
        log.warning("Leaving server %s (%r): it is not in ALLOWED_GUILD_IDS", guild.id, guild.name)
        try:
            await guild.leave()
        except discord.HTTPException as exc:
            # Its interactions are still refused; the next start (or join) tries again.
            log.error("Could not leave server %s: %s", guild.id, exc)
    return left
