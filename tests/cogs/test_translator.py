"""Slash-command descriptions and choices are translated, completely, and still fit Discord.

Why: Discord shows each member the descriptions in their client's language only if the sync sends
them, and it refuses (or discord.py cuts) what is too long. The real command tree is loaded (as
tests/cogs/test_extensions.py does) and walked the way discord.py walks it at a sync, through
``get_translated_payload``: every string it asks about must have an entry in every catalog (a new or
reworded English description fails here), no catalog keeps a stale one, placeholders match, and the
payload with every localization passes the fake Discord's rules (100 characters a description, 4000
a command counting each field's longest localization).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where

from bot.app import EXTENSIONS, VideoBot
from bot.i18n.commands import de, es, fr, ja, pt_br
from cogs.translator import CATALOGS, TRANSLATED, CommandTranslator, is_verbatim
from tests.fakes.fake_discord import command_problems
from tests.fakes.lifecycle_harness import lifecycle_harness
from tests.fakes.loaded_bot import loaded_bot

LANGUAGES = {
    "es": es.DESCRIPTIONS,
    "pt_br": pt_br.DESCRIPTIONS,
    "fr": fr.DESCRIPTIONS,
    "de": de.DESCRIPTIONS,
    "ja": ja.DESCRIPTIONS,
}
_PLACEHOLDER = re.compile(r"\{(\w*)\}")


class _Recorder(app_commands.Translator):
    """What discord.py asks a translator about at a sync: every string, with where it sits."""

    def __init__(self) -> None:
        self.asked: set[tuple[str, Where]] = set()

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        self.asked.add((string.message, context.location))
        return None


@pytest.fixture
async def tree(tmp_path: Path) -> AsyncIterator[app_commands.CommandTree[Any]]:
    async with loaded_bot(tmp_path) as bot:
        yield bot.tree


async def _payloads(
    tree: app_commands.CommandTree[Any], translator: app_commands.Translator
) -> list[dict[str, Any]]:
    kinds = (discord.AppCommandType.chat_input, discord.AppCommandType.user, discord.AppCommandType.message)
    return [
        await c.get_translated_payload(tree, translator)
        for kind in kinds
        for c in tree.get_commands(type=kind)
    ]


async def _translatable(tree: app_commands.CommandTree[Any]) -> set[str]:
    recorder = _Recorder()
    await _payloads(tree, recorder)
    return {text for text, where in recorder.asked if where in TRANSLATED and not is_verbatim(text, where)}


async def test_every_language_translates_every_description_and_choice_and_nothing_stale(
    tree: app_commands.CommandTree[Any],
) -> None:
    needed = await _translatable(tree)
    assert len(needed) > 100
    for language, catalog in LANGUAGES.items():
        assert sorted(needed - catalog.keys()) == [], f"{language} lacks these"
        assert sorted(catalog.keys() - needed) == [], f"{language} keeps strings no command uses"


def test_every_translation_keeps_the_placeholders_and_fits() -> None:
    for language, catalog in LANGUAGES.items():
        for english, text in catalog.items():
            assert set(_PLACEHOLDER.findall(text)) == set(_PLACEHOLDER.findall(english)), (language, english)
            assert 1 <= len(text) <= 100 and text.strip() == text, (language, english, len(text))


def test_each_locale_served_has_a_catalog_and_english_needs_none() -> None:
    served = {locale.value for locale in CATALOGS}
    assert served == {"es-ES", "es-419", "pt-BR", "fr", "de", "ja"}
    assert {id(c) for c in CATALOGS.values()} == {id(c) for c in LANGUAGES.values()}


async def test_the_translated_payload_carries_the_languages_and_fits_discord(
    tree: app_commands.CommandTree[Any],
) -> None:
    payloads = await _payloads(tree, CommandTranslator())
    assert command_problems(payloads) == []  # 100 a description and 4000 a command, localizations counted
    video = next(p for p in payloads if p["name"] == "video")
    generate = next(o for o in video["options"] if o["name"] == "generate")
    assert generate["name_localizations"] == {}  # names stay English
    assert generate["description_localizations"]["es-ES"] == es.DESCRIPTIONS[generate["description"]]
    assert generate["description_localizations"]["es-419"] == es.DESCRIPTIONS[generate["description"]]
    assert set(generate["description_localizations"]) == {"es-ES", "es-419", "pt-BR", "fr", "de", "ja"}
    duration = next(o for o in generate["options"] if o["name"] == "duration")
    assert not duration.get("name_localizations")  # an option name too
    six = next(c for c in duration["choices"] if c["value"] == 6)
    assert six["name_localizations"]["de"] == de.DESCRIPTIONS["6 seconds"]
    model = next(o for o in generate["options"] if o["name"] == "model")
    assert all(not c.get("name_localizations") for c in model["choices"])  # a model name is a name


def test_codes_are_verbatim_and_words_are_not() -> None:
    for code in ("MiniMax-Hailuo-2.3", "I2V-01-live", "1080P", "2K", "16:9", "10"):
        assert is_verbatim(code, Where.choice_name), code
    for words in ("adaptive", "24h", "4 seconds", "clear-override"):
        assert not is_verbatim(words, Where.choice_name), words
    assert not is_verbatim("T2V-01", Where.parameter_description)  # only a choice can be a code


async def test_a_reworded_translation_is_a_changed_command_set_for_the_global_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The global sync is skipped while the command set's digest is unchanged: the digest must cover
    the translations, or a corrected German description would never reach Discord."""
    async with lifecycle_harness(tmp_path) as harness:
        settings = dataclasses.replace(
            harness.settings, discord_guild_ids=(), database_path=tmp_path / "bot.sqlite3"
        )
        bot = VideoBot(settings, harness.storage, harness.client)
        bot.compose_services()
        syncs: list[Any] = []

        async def sync(*, guild: Any = None) -> list[Any]:
            syncs.append(guild)
            return []

        bot.tree.sync = sync  # type: ignore[method-assign]
        try:
            await bot.tree.set_translator(CommandTranslator())  # as setup_hook does
            for extension in EXTENSIONS:
                await bot.load_extension(extension)
            assert await bot.sync_commands() and len(syncs) == 1
            assert await bot.sync_commands() and len(syncs) == 1  # unchanged: skipped
            monkeypatch.setitem(de.DESCRIPTIONS, "Your recent videos", "Deine neuesten Videos")
            assert await bot.sync_commands() and len(syncs) == 2
        finally:
            await bot.close()
