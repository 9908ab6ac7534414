"""Failure reasons and card notes in the reader's language, from the English text the core stores.

The core words a failure once, in English, and stores it on the task row (``error_message``) for
moderators and logs; a card edited later, a notice repaired at a start or the Details button only
have that stored text. So the text itself is the stable key: each English template of a
``failure.`` / ``note.`` / ``image.fetch.`` key in :mod:`bot.i18n.en` is matched against it (its ``{placeholder}``s
read back as values), and the same key is rendered in the reader's catalog. A text no template
matches (an API's own wording, an image check) stays as stored: nothing is ever lost.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

from bot.i18n import DEFAULT_LOCALE, Message, catalog_for, en, msg, translate

_NOTES = ("failure.", "note.", "image.fetch.", "refusal.not_served")
"""The keys a stored text may come from (a queued task may fail with a refusal's words)."""
_CREDITS = ("credits.one", "credits.many")
_NESTED = {"message": _NOTES, "credits": _CREDITS}
"""Placeholders holding another rendered text (a take's reason, an amount), read back in turn."""
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _pattern(template: str) -> re.Pattern[str]:
    """A regex reading ``template``'s placeholders back (a repeated one must repeat its value)."""
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for found in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[position : found.start()]))
        name = found.group(1)
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        position = found.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts), re.DOTALL)


@cache
def _templates(prefixes: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Every key starting with one of ``prefixes`` with its pattern, exact texts first (no
    placeholder to mismatch)."""
    keys = [k for k in en.MESSAGES if k.startswith(prefixes)]
    keys.sort(key=lambda k: "{" in en.MESSAGES[k])
    return tuple((k, _pattern(en.MESSAGES[k])) for k in keys)


def stored_note(text: str, prefixes: tuple[str, ...] = _NOTES) -> Message | None:
    """The key and values an English failure reason or note was rendered from, or None."""
    for key, pattern in _templates(prefixes):
        found = pattern.fullmatch(text)
        if found is None:
            continue
        values: Mapping[str, str] = found.groupdict()
        rendered: dict[str, object] = dict(values)
        for name, nested_prefixes in _NESTED.items():
            if name in values:
                nested = stored_note(values[name], nested_prefixes)
                rendered[name] = nested if nested is not None else values[name]
        return msg(key, **rendered)
    return None


def localise_note(text: str, locale: str | None) -> str:
    """``text`` (a stored English reason or note) in ``locale``'s language; as stored when it is
    not one of the catalog's (English readers always get it byte for byte)."""
    if catalog_for(locale) == DEFAULT_LOCALE:
        return text
    found = stored_note(text)
    if found is None:
        return text
    return translate(locale, found.key, **found.values)
