"""Where the bot's commands exist: installed to a server, used inside it. Declared once, here.

Every command is guild-installed and used in a guild context only, declared explicitly
(``contexts: [0]``, ``integration_types: [0]``) rather than left to Discord's defaults, which have
changed before and let a user-installed app run its commands anywhere. A server is what gives
a request its quota, rules and moderators; a DM or a user install has none of them.

The declaration is what Discord shows; :func:`refuse_outside_guild` is the run-time check behind it
(a command reaching the bot without a guild is refused, never run with no rules).

``USER_INSTALL=on`` (issue 13) is the operator's exception, for ``/video`` only: it is then declared
installable on a member's own account and usable in DMs and group DMs too (:func:`anywhere_scoped`),
and such a *personal use* (:func:`personal_use`) runs with no guild at all: the member's personal
allowance pays, no server's rules or pools apply. ``/videoadmin`` and the context menus stay
guild-only whatever the setting.
"""

from __future__ import annotations

from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.i18n import translate

GUILD_CONTEXT = app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False)
GUILD_INSTALL = app_commands.AppInstallationType(guild=True, user=False)

ANYWHERE_CONTEXT = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True)
ANYWHERE_INSTALL = app_commands.AppInstallationType(guild=True, user=True)
# The one command group a personal install may use.
ANYWHERE_GROUP = "video"

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


def anywhere_scoped(command: Scoped) -> Scoped:
    """Declare ``command`` installable on a member's account too and usable in DMs (``USER_INSTALL``)."""
    command.allowed_contexts = ANYWHERE_CONTEXT
    command.allowed_installs = ANYWHERE_INSTALL
    command.guild_only = False
    return command


def personal_use(interaction: discord.Interaction[Any]) -> bool:
    """Whether ``interaction`` comes through a member's own install, not through a server the bot is in:
    no guild at all (a DM, a group DM), or a server where only the member's install authorised it
    (``authorizing_integration_owners`` names the user, not the guild)."""
    if interaction.guild_id is None:
        return True
    return interaction.is_user_integration() and not interaction.is_guild_integration()


def scope_guild_id(interaction: discord.Interaction[Any]) -> int | None:
    """The guild whose rules apply: the interaction's, or ``None`` for a personal use (a server the
    bot is not in has no rules, quota or moderators here)."""
    return None if personal_use(interaction) else interaction.guild_id


def _in_anywhere_group(interaction: discord.Interaction[Any]) -> bool:
    command = interaction.command
    if command is None or isinstance(command, app_commands.ContextMenu):
        return False
    return command.root_parent is not None and command.root_parent.name == ANYWHERE_GROUP


OUTSIDE_GUILD = translate("en", "error.outside_guild")  # the core refuses with the same key


async def refuse_outside_guild(interaction: discord.Interaction[Any], *, user_install: bool = False) -> bool:
    """``True`` when the interaction may run; otherwise it is answered here (ephemerally) and dropped.

    ``user_install`` (``USER_INSTALL``): a personal use of ``/video`` may run too.
    """
    if not personal_use(interaction):
        return True
    if user_install and _in_anywhere_group(interaction):
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
