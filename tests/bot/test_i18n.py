"""The message catalogs are complete: every language has every key, with the same placeholders."""

from __future__ import annotations

import string

import pytest

from bot.i18n import CATALOGS, catalog_for, translate
from bot.i18n import en as english
from storage.states import TaskState

SHIPPED = {"en", "es", "pt-BR", "fr", "de", "ja"}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_promised_languages_ship() -> None:
    assert set(CATALOGS) == SHIPPED


@pytest.mark.parametrize("language", sorted(SHIPPED - {"en"}))
def test_a_language_has_every_key_and_the_same_placeholders(language: str) -> None:
    catalog = CATALOGS[language]
    assert set(catalog) == set(english.MESSAGES), "missing or extra keys"
    for key, text in english.MESSAGES.items():
        assert placeholders(catalog[key]) == placeholders(text), key
        assert catalog[key].strip(), key


def test_every_state_a_queue_row_can_show_has_a_message() -> None:
    for state in TaskState:
        if not state.final:
            assert f"queue.state.{state.value}" in english.MESSAGES


@pytest.mark.parametrize(
    ("locale", "catalog"),
    [
        ("pt-BR", "pt-BR"),
        ("pt-PT", "en"),  # Portugal's Portuguese is not Brazil's: English until it ships
        ("es-ES", "es"),
        ("es-419", "es"),
        ("fr", "fr"),
        ("de", "de"),
        ("ja", "ja"),
        ("en-GB", "en"),
        ("ko", "en"),
        (None, "en"),
    ],
)
def test_discord_locales_find_their_catalog(locale: str | None, catalog: str) -> None:
    assert catalog_for(locale) == catalog


def test_translate_fills_placeholders_and_falls_back_to_english() -> None:
    assert translate("de", "queue.in_line", position=3) == "Nr. 3 in der Warteschlange"
    assert translate("ko", "queue.in_line", position=3) == "#3 in line"
