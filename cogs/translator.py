"""Slash-command descriptions and choices in the member's language, through discord.py's
:class:`~discord.app_commands.Translator`.

Discord shows each member the ``description_localizations`` / ``name_localizations`` for their
client's language, so the translations travel with the command sync: nothing runs per interaction.
Command, group and option names stay English (they are what README, help texts and members type);
descriptions and choice names are looked up in :mod:`bot.i18n.commands` by their English text.
A choice that is a code (a model name, ``720P``, ``16:9``, ``8``) reads the same everywhere and is
never looked up (:func:`is_verbatim`).

To add a language: add ``bot/i18n/commands/<code>.py`` and map its Discord locales in
:data:`CATALOGS` (``tests/cogs/test_translator.py`` fails on a missing or stale string).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where

from bot.i18n.commands import de, es, fr, ja, pt_br

# Discord locale → the catalog of its language, keyed by the English text (English needs none).
CATALOGS: Mapping[discord.Locale, Mapping[str, str]] = {
    discord.Locale.spain_spanish: es.DESCRIPTIONS,
    discord.Locale.latin_american_spanish: es.DESCRIPTIONS,
    discord.Locale.brazil_portuguese: pt_br.DESCRIPTIONS,
    discord.Locale.french: fr.DESCRIPTIONS,
    discord.Locale.german: de.DESCRIPTIONS,
    discord.Locale.japanese: ja.DESCRIPTIONS,
}

# What is translated: names are not (a member types the English ones; the docs name them).
TRANSLATED: frozenset[Where] = frozenset(
    {Where.command_description, Where.group_description, Where.parameter_description, Where.choice_name}
)

# A model name, resolution, aspect ratio or number: no words, so no translation.
_CODE = re.compile(r"[0-9:]+|\S*[A-Z]\S*")


def is_verbatim(text: str, where: Where) -> bool:
    """A choice name that is a code (``MiniMax-H3``, ``1080P``, ``9:16``, ``10``) rather than words."""
    return where is Where.choice_name and _CODE.fullmatch(text) is not None


def translation(text: str, locale: discord.Locale, where: Where) -> str | None:
    """The text in ``locale``'s language; None where Discord should show the English default."""
    if where not in TRANSLATED or is_verbatim(text, where):
        return None
    catalog = CATALOGS.get(locale)
    return None if catalog is None else catalog.get(text)


class CommandTranslator(app_commands.Translator):
    """Installed on the command tree before every sync (``VideoBot.setup_hook``)."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        return translation(string.message, locale, context.location)
