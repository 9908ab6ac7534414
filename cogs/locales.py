"""Which language a message is in: the member's Discord locale for what only they see (ephemeral
replies, DMs), the server's for what the channel sees. The texts are :mod:`bot.i18n`'s."""

from __future__ import annotations

from typing import Any

import discord


def member_locale(interaction: discord.Interaction[Any]) -> str:
    return str(interaction.locale.value)


def server_locale(interaction: discord.Interaction[Any]) -> str:
    """The server's locale (a community server's preferred language), else the member's."""
    locale = interaction.guild_locale
    return str(locale.value) if locale is not None else member_locale(interaction)
