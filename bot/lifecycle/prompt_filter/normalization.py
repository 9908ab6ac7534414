"""Prompt normalisation: look-alike letters, invisible characters and spelled-out words folded away.

Members get around naive filters with look-alike letters (Cyrillic ``а`` for Latin ``a``), full-width or
mathematical letters, accents and invisible characters. Both the filter entries and the prompt go
through the same :func:`normalize`, so an entry written plainly still catches those spellings.
"""

from __future__ import annotations

import re
import unicodedata

# Characters that render as nothing (or nearly) and are used to split a word past a filter. Besides
# these, every format character (category Cf: zero-width, bidi, musical and interlinear controls...),
# every non-space control character, and, after decomposition, every combining mark goes.
_INVISIBLE = {
    0x00AD,  # soft hyphen
    0x034F,  # combining grapheme joiner
    0x061C,  # Arabic letter mark
    0x115F,
    0x1160,  # Hangul fillers
    0x17B4,
    0x17B5,
    0x180E,  # Mongolian vowel separator
    0x2800,  # Braille pattern blank: a symbol that draws nothing
    0x3164,  # Hangul filler
    0xFEFF,  # byte order mark / zero-width no-break space
    0xFFA0,  # halfwidth Hangul filler
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
    # Letters with a hook, stroke or tail: no decomposition, so the accent rule leaves them alone.
    "ƀ": "b", "ƃ": "b", "ɓ": "b", "ƈ": "c", "ȼ": "c", "ɕ": "c", "ɗ": "d", "ɖ": "d", "ƌ": "d",
    "ɇ": "e", "ɛ": "e", "ƒ": "f", "ǥ": "g", "ɠ": "g", "ɦ": "h", "ɨ": "i", "ɉ": "j", "ɟ": "j",
    "ƙ": "k", "ƚ": "l", "ɫ": "l", "ɬ": "l", "ɭ": "l", "ɱ": "m", "ɲ": "n", "ɳ": "n", "ŋ": "n",
    "ƞ": "n", "ƥ": "p", "ɋ": "q", "ʠ": "q", "ɍ": "r", "ɽ": "r", "ʂ": "s", "ƭ": "t", "ʈ": "t",
    "ʉ": "u", "ʋ": "v", "ⱳ": "w", "ƴ": "y", "ɏ": "y", "ƶ": "z", "ȥ": "z", "ʐ": "z",
    # Other scripts' letters drawn like Latin ones: Cyrillic п, Armenian, Georgian, and Cherokee (whose
    # small letters case-fold to these capitals).
    "п": "n", "ռ": "n", "հ": "h", "ց": "g", "զ": "q", "ⴖ": "n", "ⴃ": "b", "ⴍ": "m", "ⴘ": "y",
    "Ꮪ": "s", "Ꮃ": "w",
}  # fmt: skip
_FOLD_TABLE = str.maketrans(_CONFUSABLES)


def _alphabet_from(first: int) -> dict[int, str]:
    return {first + i: chr(ord("a") + i) for i in range(26)}


# Letters drawn inside a shape, which NFKC leaves as symbols (negative circled 🅐, negative squared 🅰,
# regional indicators 🇦, which pair into flags) or spells with brackets (⒜ → "(a)", 🄐 → "(A)").
# Folded before NFKC; circled ⓐ and squared 🄰 letters NFKC folds by itself.
_ENCLOSED_TABLE = {
    **_alphabet_from(0x1F150),  # 🅐..🅩 negative circled capitals
    **_alphabet_from(0x1F170),  # 🅰..🆉 negative squared capitals
    **_alphabet_from(0x1F1E6),  # 🇦..🇿 regional indicators
    **_alphabet_from(0x249C),  # ⒜..⒵ parenthesized small letters
    **_alphabet_from(0x1F110),  # 🄐..🄩 parenthesized capitals
}
# Capitals whose lower-case form looks like another letter (Greek Ν is an N, its ν a v): folded first.
_CAPITALS = {
    "Ν": "n", "Μ": "m", "Υ": "y", "Η": "h", "Ζ": "z", "Ϲ": "c", "Ј": "j", "Ѕ": "s", "Ү": "y",
    "Օ": "o", "Ս": "u", "օ": "o",
}  # fmt: skip
_CAPITALS_TABLE = str.maketrans(_CAPITALS)


def _is_invisible(ch: str) -> bool:
    code = ord(ch)
    if code in _INVISIBLE or any(lo <= code <= hi for lo, hi in _INVISIBLE_RANGES):
        return True
    category = unicodedata.category(ch)
    # A hand-written list always misses one (U+1D173, U+FFF9...): the category catches them all.
    return category == "Cf" or (category == "Cc" and not ch.isspace())


def _is_mark(ch: str) -> bool:
    # Combining class 0 marks (variation selectors, Mongolian free variation selectors) are invisible
    # too; Mn and Me cover them, Mc (spacing marks, visible) stays.
    return bool(unicodedata.combining(ch)) or unicodedata.category(ch) in ("Mn", "Me")


def normalize(text: str, *, capitals: bool = True) -> str:
    """Fold ``text`` so look-alike spellings compare equal: NFKC, no marks, no invisibles, Latin, lower.

    ``capitals`` folds capitals by their own look (Greek Ν → n) before lower-casing, which would
    fold them by their small letter's (ν → v). A prompt is matched both ways: a Latin entry must
    catch "ΝUDE", and a Greek one ("νερο") must still catch "ΝΕΡΟ".
    """
    return _fold(_strip(text), capitals=capitals)


def _strip(text: str) -> str:
    """NFKC without invisibles and without marks: the case-independent half of :func:`normalize`."""
    text = unicodedata.normalize("NFKC", text.translate(_ENCLOSED_TABLE))
    text = "".join(ch for ch in text if not _is_invisible(ch))
    # Accents and other combining marks go, so "nüde" and "nude" compare equal.
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not _is_mark(ch))


def _fold(stripped: str, *, capitals: bool) -> str:
    if capitals:
        stripped = stripped.translate(_CAPITALS_TABLE)
    return unicodedata.normalize("NFKC", stripped.casefold().translate(_FOLD_TABLE))


def prompt_variants(prompt: str) -> list[str]:
    """Every normalised reading of ``prompt`` an entry is matched against, without repeats.

    Both foldings of capitals (see :func:`normalize`), each also with the separators removed between
    single letters ("n u d e", "n/u/d/e", "n•u•d•e").
    """
    texts: list[str] = []
    stripped = _strip(prompt)  # once: the two foldings differ only in the case step
    for text in (_fold(stripped, capitals=True), _fold(stripped, capitals=False)):
        for candidate in (text, _squeeze_spelled_out(text)):
            if candidate not in texts:
                texts.append(candidate)
    return texts


# A word spelled out letter by letter: at least three single letters (or digits), each pair apart by a
# run of separators, which is anything but a letter or digit: spaces, punctuation (. , ' : / —),
# symbols (+ • *) and "_". Letters exclude "_", so a run of "_" has one way to split, not
# exponentially many, and the letters and separators never overlap: the search is linear.
_SPELLED_OUT = re.compile(r"(?<!\w)(?:[^\W_][\W_]+){2,}[^\W_](?!\w)")
_SEPARATORS = re.compile(r"[\W_]+")


def _squeeze_spelled_out(text: str) -> str:
    """Join words spelled out letter by letter with separators, so ``n.u.d.e`` reads as ``nude``."""

    def join(match: re.Match[str]) -> str:
        return _SEPARATORS.sub("", match.group(0))

    return _SPELLED_OUT.sub(join, text)
