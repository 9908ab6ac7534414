"""Message catalogs: what members and moderators read, in their language (a start: `/video queue`
and `/video top`; every other message is still English).

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


def translate(locale: str | None, key: str, **values: object) -> str:
    """The message ``key`` in the locale's language (English if that catalog lacks it)."""
    template = CATALOGS[catalog_for(locale)].get(key) or en.MESSAGES[key]
    return template.format(**values)
