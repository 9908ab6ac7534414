"""A guild's prompt filter: words and regular expressions matched on a normalised prompt.

Members get around naive filters with look-alike letters (Cyrillic ``а`` for Latin ``a``), full-width or
mathematical letters, accents and invisible characters. Both the filter entries and the prompt go
through the same :func:`normalize`, so an entry written plainly still catches those spellings.

An entry is a regular expression (stored with ``is_regex``, typed as ``/pattern/``) or a word or
phrase matched on word boundaries (``ass`` does not match ``class``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

MAX_ENTRY_CHARS = 200

# Characters that render as nothing (or nearly) and are used to split a word past a filter.
_INVISIBLE = {
    0x00AD,  # soft hyphen
    0x034F,  # combining grapheme joiner
    0x061C,  # Arabic letter mark
    0x115F,
    0x1160,  # Hangul fillers
    0x17B4,
    0x17B5,
    0x180E,  # Mongolian vowel separator
    0x3164,  # Hangul filler
    0xFEFF,  # byte order mark / zero-width no-break space
    0xFFA0,
}
_INVISIBLE_RANGES = (
    (0x200B, 0x200F),  # zero-width space/joiners, direction marks
    (0x202A, 0x202E),  # bidi embeddings
    (0x2060, 0x206F),  # word joiner, invisible operators
    (0xFE00, 0xFE0F),  # variation selectors
    (0xE0000, 0xE007F),  # tag characters
)

# Letters that look like Latin ones but NFKC leaves alone (mostly Cyrillic and Greek), folded to Latin.
_CONFUSABLES = {
    # Cyrillic
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j",
    "к": "k", "ӏ": "l", "м": "m", "н": "h", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "т": "t", "у": "y",
    "ү": "y", "х": "x", "ԝ": "w", "ь": "b", "ɡ": "g", "ո": "n", "ս": "u",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "ω": "w", "γ": "y", "μ": "u", "ϲ": "c", "ϳ": "j", "ς": "c",
    # Latin variants and symbols
    "ı": "i", "ȷ": "j", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŧ": "t", "ß": "ss", "æ": "ae",
    "œ": "oe", "ɑ": "a", "ɩ": "i", "ʀ": "r", "ʏ": "y", "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d",
    "ᴇ": "e", "ɢ": "g", "ʜ": "h", "ɪ": "i", "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n",
    "ᴏ": "o", "ᴘ": "p", "ꞯ": "q", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ᴢ": "z",
}  # fmt: skip
_FOLD_TABLE = str.maketrans(_CONFUSABLES)


class FilterEntryError(ValueError):
    """A filter entry that cannot be used; ``str()`` tells the moderator how to fix it."""


@dataclass(frozen=True)
class FilterRule:
    """One compiled entry; ``entry`` is what the moderator typed, shown back when it matches."""

    entry: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class CompiledFilter:
    rules: tuple[FilterRule, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rules)


def _is_invisible(ch: str) -> bool:
    code = ord(ch)
    if code in _INVISIBLE:
        return True
    return any(lo <= code <= hi for lo, hi in _INVISIBLE_RANGES)


def normalize(text: str) -> str:
    """Fold ``text`` so look-alike spellings compare equal: NFKC, no marks, no invisibles, Latin, lower."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if not _is_invisible(ch))
    # Accents and other combining marks go, so "nüde" and "nude" compare equal.
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    text = text.casefold().translate(_FOLD_TABLE)
    return unicodedata.normalize("NFKC", text)


def parse_entry(entry: str) -> tuple[str, bool]:
    """``"/pattern/"`` → ``("pattern", True)``; anything else → ``(entry, False)`` (a word or phrase)."""
    raw = entry.strip()
    if len(raw) >= 3 and raw.startswith("/") and raw.endswith("/"):
        return raw[1:-1], True
    return raw, False


def display_entry(pattern: str, is_regex: bool) -> str:
    """How an entry is shown back to moderators: regexes between slashes."""
    return f"/{pattern}/" if is_regex else pattern


def compile_entry(pattern: str, *, is_regex: bool | None = None) -> FilterRule:
    """Compile one entry, or raise :class:`FilterEntryError` saying what is wrong with it.

    ``is_regex=None`` reads the ``/pattern/`` convention from the text itself.
    """
    if is_regex is None:
        pattern, is_regex = parse_entry(pattern)
    raw = pattern.strip()
    shown = display_entry(raw, is_regex)
    if not raw:
        raise FilterEntryError("The filter entry is empty: give a word, a phrase or /a regex/.")
    if len(raw) > MAX_ENTRY_CHARS:
        raise FilterEntryError(f"The filter entry is too long: keep it under {MAX_ENTRY_CHARS} characters.")
    if is_regex:
        try:
            # The regex sees normalised text, so it is written for plain lower-case Latin.
            compiled = re.compile(raw, re.IGNORECASE)
        except re.error as exc:
            raise FilterEntryError(f"That regular expression is not valid: {exc}.") from None
        if compiled.search("") is not None:
            raise FilterEntryError("That regular expression matches every prompt; make it more specific.")
        return FilterRule(shown, compiled)
    words = normalize(raw).split()
    if not words:
        raise FilterEntryError("The filter entry has only invisible characters: give a visible word.")
    # Any run of spaces between the words of a phrase; word boundaries only where the entry has letters.
    body = r"\s+".join(re.escape(w) for w in words)
    start = r"(?<!\w)" if words[0][0].isalnum() or words[0][0] == "_" else ""
    end = r"(?!\w)" if words[-1][-1].isalnum() or words[-1][-1] == "_" else ""
    return FilterRule(shown, re.compile(start + body + end))


def compile_filter(entries: Iterable[str | tuple[str, bool]]) -> CompiledFilter:
    """Compile stored entries (``"/re/"`` strings or ``(pattern, is_regex)`` pairs).

    A broken entry is skipped: one bad regex must never let every prompt through, nor block them all.
    """
    rules: list[FilterRule] = []
    for entry in entries:
        try:
            if isinstance(entry, str):
                rules.append(compile_entry(entry))
            else:
                rules.append(compile_entry(entry[0], is_regex=entry[1]))
        except FilterEntryError:
            continue
    return CompiledFilter(tuple(rules))


def matches(compiled: CompiledFilter, prompt: str) -> str | None:
    """The entry that ``prompt`` hits, or ``None``."""
    if not compiled.rules:
        return None
    text = normalize(prompt)
    # Also try with separators removed between single letters ("n u d e", "n.u.d.e").
    squeezed = _squeeze_spelled_out(text)
    for rule in compiled.rules:
        if rule.pattern.search(text) or (squeezed != text and rule.pattern.search(squeezed)):
            return rule.entry
    return None


_SPELLED_OUT = re.compile(r"(?<!\w)(?:\w[\s.\-_*]+){2,}\w(?!\w)")


def _squeeze_spelled_out(text: str) -> str:
    """Join words spelled out letter by letter with separators, so ``n.u.d.e`` reads as ``nude``."""

    def join(match: re.Match[str]) -> str:
        return re.sub(r"[\s.\-_*]+", "", match.group(0))

    return _SPELLED_OUT.sub(join, text)
