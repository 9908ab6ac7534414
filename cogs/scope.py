"""Where the bot's commands exist: installed to a server, used inside it. Declared once, here.

Every command is guild-installed and used in a guild context only, declared explicitly
(``contexts: [0]``, ``integration_types: [0]``) rather than left to Discord's defaults, which have
changed before and let a user-installed app run its commands anywhere. A server is what gives
a request its quota, rules and moderators; a DM or a user install has none of them.

The declaration is what Discord shows; :func:`refuse_outside_guild` is the run-time check behind it
(a command reaching the bot without a guild is refused, never run with no rules).
"""

from __future__ import annotations

from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.i18n import translate

GUILD_CONTEXT = app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False)
GUILD_INSTALL = app_commands.AppInstallationType(guild=True, user=False)

Scoped = TypeVar("Scoped", app_commands.Group, app_commands.ContextMenu)


def guild_scoped(command: Scoped) -> Scoped:
    """Declare ``command`` (a top-level group or context menu) guild-installed and guild-only.

    ``guild_only`` is Discord's deprecated DM permission: discord.py still sends
    ``dm_permission = not guild_only``, so it is set too, or that field would contradict ``contexts``.
    """
    command.allowed_contexts = GUILD_CONTEXT
    command.allowed_installs = GUILD_INSTALL
    command.guild_only = True
    return command


OUTSIDE_GUILD = translate("en", "error.outside_guild")


async def refuse_outside_guild(interaction: discord.Interaction[Any]) -> bool:
    """``True`` when the interaction may run; otherwise it is answered here (ephemerally) and dropped."""
    if interaction.guild_id is not None:
        return True
    if interaction.type is discord.InteractionType.autocomplete:
        await interaction.response.autocomplete([])
    elif not interaction.response.is_done():
        await interaction.response.send_message(
            translate(str(interaction.locale.value), "error.outside_guild"),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )
    return False
