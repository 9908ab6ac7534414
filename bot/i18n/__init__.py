"""Message catalogs: what members and moderators read, in their language : refusals, status
cards, `/video queue`, `/video top` and the other replies listed in README's Languages section.

One module per language (:mod:`bot.i18n.en` is the reference), each a flat ``MESSAGES`` mapping of
key → text with ``{name}`` placeholders. :func:`translate` picks the catalog for a Discord locale
(``pt-BR``, ``es-419``, ``en-GB``…), falling back to English for a language or key it lacks, so a
message is never missing. Which locale applies is the caller's (cogs/): the member's own for private
replies, the server's for channel posts. No Discord here: a locale is a string.

To add a language: copy ``en.py`` to ``<code>.py``, translate every value keeping each ``{name}``,
and add the module to :data:`CATALOGS` with the Discord locales it serves (``tests/bot/test_i18n.py``
fails on a missing key or a placeholder that differs from English).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.i18n import de, en, es, fr, ja, pt_br

DEFAULT_LOCALE = "en"

# Catalog name → its messages; Discord's locale codes map onto these names in ``_LANGUAGE_OF``.
CATALOGS: Mapping[str, Mapping[str, str]] = {
    "en": en.MESSAGES,
    "es": es.MESSAGES,
    "pt-BR": pt_br.MESSAGES,
    "fr": fr.MESSAGES,
    "de": de.MESSAGES,
    "ja": ja.MESSAGES,
}
_LANGUAGE_OF = {"pt-BR": "pt-BR", "es-ES": "es", "es-419": "es", "en-US": "en", "en-GB": "en"}


def catalog_for(locale: str | None) -> str:
    """The catalog serving a Discord locale: exact (``pt-BR``), else by language (``fr`` for
    ``fr``, ``es`` for ``es-419``), else English."""
    if not locale:
        return DEFAULT_LOCALE
    if locale in _LANGUAGE_OF:
        return _LANGUAGE_OF[locale]
    if locale in CATALOGS:
        return locale
    language = locale.split("-")[0]
    return language if language in CATALOGS else DEFAULT_LOCALE


@dataclass(frozen=True)
class Message:
    """A message not yet in a language: a key and its values, rendered once the reader is known.

    The core returns these (a refusal, a card line) so it stays free of Discord and of locales; a
    value may itself be a :class:`Message` (a period's name, an optional sentence), rendered in the
    same language; an optional sentence left out is the plain value ``""``."""

    key: str
    values: Mapping[str, object] = field(default_factory=dict)

    def render(self, locale: str | None) -> str:
        return translate(locale, self.key, **self.values)


def msg(key: str, **values: object) -> Message:
    return Message(key, values)


def credits(tenths: int) -> Message:
    """ "1 credit" / "1.8 credits" in any language: the localised :func:`bot.catalog.credits_text`."""
    from bot.catalog import format_credits  # bot.catalog words its options with these catalogs

    return msg("credits.one" if abs(tenths) == 10 else "credits.many", amount=format_credits(tenths))


def state_name(state: str) -> Message:
    """A task state (or the task list's ``unfinished`` / ``stuck`` filters) as moderators read it:
    the ``state`` option's translated choice (English keeps the codes)."""
    return msg(f"admin.tasks.state.{state}")


def translate(locale: str | None, key: str, **values: object) -> str:
    """The message ``key`` in the locale's language (English if that catalog lacks it); values
    that are :class:`Message` are rendered in the same language."""
    template = CATALOGS[catalog_for(locale)].get(key)
    if template is None:
        template = en.MESSAGES[key]
    rendered = {name: v.render(locale) if isinstance(v, Message) else v for name, v in values.items()}
    return template.format(**rendered)
