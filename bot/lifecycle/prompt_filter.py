"""A guild's prompt filter: words and regular expressions matched on a normalised prompt.

Members get around naive filters with look-alike letters (Cyrillic ``а`` for Latin ``a``), full-width or
mathematical letters, accents and invisible characters. Both the filter entries and the prompt go
through the same :func:`normalize`, so an entry written plainly still catches those spellings.

An entry is a regular expression (stored with ``is_regex``, typed as ``/pattern/``) or a word or
phrase matched on word boundaries (``ass`` does not match ``class``). A regular expression that could
backtrack for minutes on a crafted prompt is refused (:func:`regex_risk`): matching runs on the event
loop, where one slow match stalls the whole bot.
"""

from __future__ import annotations

import functools
import importlib
import logging
import re
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import regex

log = logging.getLogger(__name__)

MAX_ENTRY_CHARS = 200
# All entries together get this long on one prompt. The shape check below refuses the regexes known to
# backtrack badly, but no static check catches them all; past the budget the prompt is refused (the
# filter fails closed) and the entry that ran out is logged for the moderators to simplify.
MATCH_BUDGET_SECONDS = 0.25

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
}  # fmt: skip
_FOLD_TABLE = str.maketrans(_CONFUSABLES)
# Capitals whose lower-case form looks like another letter (Greek Ν is an N, its ν a v): folded first.
_CAPITALS = {
    "Ν": "n", "Μ": "m", "Υ": "y", "Η": "h", "Ζ": "z", "Ϲ": "c", "Ј": "j", "Ѕ": "s", "Ү": "y",
    "Օ": "o", "Ս": "u", "օ": "o",
}  # fmt: skip
_CAPITALS_TABLE = str.maketrans(_CAPITALS)


class FilterEntryError(ValueError):
    """A filter entry that cannot be used; ``str()`` tells the moderator how to fix it."""


@dataclass(frozen=True)
class FilterRule:
    """One compiled entry; ``entry`` is what the moderator typed, shown back when it matches."""

    entry: str
    pattern: regex.Pattern[str]


@dataclass(frozen=True)
class CompiledFilter:
    rules: tuple[FilterRule, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rules)


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
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if not _is_invisible(ch))
    # Accents and other combining marks go, so "nüde" and "nude" compare equal.
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not _is_mark(ch))


def _fold(stripped: str, *, capitals: bool) -> str:
    if capitals:
        stripped = stripped.translate(_CAPITALS_TABLE)
    return unicodedata.normalize("NFKC", stripped.casefold().translate(_FOLD_TABLE))


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
        # The regex sees normalised text: its letters are folded the same way ("/секс/" → "cekc").
        source = _normalize_literals(raw)
        if _ENGINE_ONLY_SYNTAX.search(source):
            raise FilterEntryError(
                "That regular expression uses fuzzy matching or POSIX classes, which the filter does not "
                "take; write the spellings out (/gun|gvn/) or use \\w, \\d and [a-z]."
            )
        try:
            re.compile(source, re.IGNORECASE)  # Python's syntax, which the shape check reads
            # Matched with the `regex` engine, which can stop a search at a deadline (`re` cannot).
            compiled = regex.compile(source, regex.IGNORECASE | regex.V0)
        except (re.error, regex.error) as exc:
            raise FilterEntryError(f"That regular expression is not valid: {exc}.") from None
        if compiled.search("") is not None:  # instant even for a slow regex: "" gives it nothing to try
            raise FilterEntryError("That regular expression matches every prompt; make it more specific.")
        risk = regex_risk(source)
        if risk is not None:
            raise FilterEntryError(_SLOW_REGEX.format(why=risk))
        return FilterRule(shown, compiled)
    words = normalize(raw).split()
    if not words:
        raise FilterEntryError("The filter entry has only invisible characters: give a visible word.")
    # Any run of spaces between the words of a phrase; word boundaries only where the entry has letters.
    body = r"\s+".join(re.escape(w) for w in words)
    start = r"(?<!\w)" if words[0][0].isalnum() or words[0][0] == "_" else ""
    end = r"(?!\w)" if words[-1][-1].isalnum() or words[-1][-1] == "_" else ""
    return FilterRule(shown, regex.compile(start + body + end))


# Syntax the `regex` engine reads differently from `re` (whose reading the checks above rely on):
# fuzzy constraints such as {e<=2} and POSIX classes such as [[:alpha:]].
_ENGINE_ONLY_SYNTAX = re.compile(r"\{\s*[eisd]\s*[<=>]|\[\[:|\[:\w+:\]")


def _normalize_literals(pattern: str) -> str:
    """Fold the pattern's non-ASCII letters as prompts are folded; ASCII (the syntax) stays as typed.

    Only non-ASCII characters change, and none of them is regex syntax, so the pattern keeps its
    meaning; an escaped one (``\\é``) is left alone rather than turned into another escape. Inside
    a character class folding would break a range (``[а-я]`` → ``[a-я]``, which takes every Latin
    letter), so a non-ASCII letter there is refused with a way out.
    """
    out: list[str] = []
    escaped = False
    in_class = False
    for ch in pattern:
        if not escaped and ord(ch) >= 128:
            if in_class:
                raise FilterEntryError(
                    f"A character class with {ch!r} can't be matched: prompts are compared in plain Latin "
                    "letters after folding look-alikes. List the words instead (/word1|word2/)."
                )
            out.append(normalize(ch))
        else:
            out.append(ch)
        if not escaped:
            if ch == "[":
                in_class = True
            elif ch == "]":
                in_class = False
        escaped = ch == "\\" and not escaped
    return "".join(out)


def compile_filter(entries: Iterable[str | tuple[str, bool]]) -> CompiledFilter:
    """Compile stored entries (``"/re/"`` strings or ``(pattern, is_regex)`` pairs).

    A broken entry is skipped: one bad regex must never let every prompt through, nor block them all.
    So is one stored before the slow-regex check existed and failing it now: running it could stall the
    bot on a crafted prompt. Each skipped entry is logged once per process (this runs on every request).
    """
    rules: list[FilterRule] = []
    for entry in entries:
        try:
            if isinstance(entry, str):
                rules.append(compile_entry(entry))
            else:
                rules.append(compile_entry(entry[0], is_regex=entry[1]))
        except FilterEntryError as exc:
            shown = entry if isinstance(entry, str) else display_entry(entry[0], entry[1])
            if shown not in _warned_entries and len(_warned_entries) < 1000:
                _warned_entries.add(shown)
                log.warning("Prompt filter entry %r is skipped: %s", shown, exc)
            continue
    return CompiledFilter(tuple(rules))


_warned_entries: set[str] = set()


# -- regular expressions that could stall the bot ----------------------------------------------------
#
# Python's ``re`` backtracks: a nested repetition such as ``(a+)+$`` takes exponential time on
# ``"aaaa…!"``, and two repetitions able to share the same characters (``\w+\s*\w+x``, ``.*a.*b``)
# take cubic time over a search. Matching runs on the event loop, so a moderator's regex plus a
# member's crafted prompt would freeze the whole bot. The parse tree is inspected at ``filter add``
# (and again at every compile, for entries stored earlier) and such shapes are refused, as is a
# leading unbounded repetition (quadratic over a search). What remains costs about the prompt's length
# times one repetition's reach, which the prompt limit keeps small.

_SLOW_REGEX = (
    "That regular expression could make the filter very slow ({why}). Avoid nested repetition like "
    "(a+)+, alternatives inside a repetition like (a|ab)+, back-references like \\1, and two "
    "repetitions that can match the same text side by side like \\w+\\s*\\w+ or .*a.*; a word or a "
    "simpler /regex/ usually does the same job."
)
# A repetition allowing more copies than this counts as unbounded when two meet side by side.
_WIDE_REPEAT = 20
_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})
_GROUP_REFERENCES = frozenset(
    {"GROUPREF", "GROUPREF_EXISTS", "GROUPREF_IGNORE", "GROUPREF_LOC_IGNORE", "GROUPREF_UNI_IGNORE"}
)
_ZERO_WIDTH = frozenset({"AT", "ASSERT", "ASSERT_NOT"})
# Characters the overlap test tries besides those the pattern names: one of each kind a category holds.
_PROBES = "az_059\u00e9\u0436\u0663 \t\n\u00a0\u3000.,-!'\"/"

Node = tuple[Any, Any]  # (opcode, argument) as Python's regex parser returns them


def _load_parser() -> ModuleType | None:
    """Python's own regex parser: ``re._parser`` since 3.11 (``sre_parse`` before)."""
    for name in ("re._parser", "sre_parse"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


_PARSER = _load_parser()


def regex_risk(pattern: str) -> str | None:
    """Why ``pattern`` could backtrack for a very long time on some prompt, or ``None`` if it cannot.

    ``pattern`` must already compile. Conservative: when in doubt, it reports a risk.
    """
    if _PARSER is None:
        return "this Python version offers no way to check it; use words instead"
    try:
        parsed = list(_PARSER.parse(pattern, re.IGNORECASE))
    except Exception:  # the parser is internal: any surprise means "cannot vouch for it"
        return "it could not be checked"
    probes = frozenset(_PROBES) | frozenset(_named_chars(parsed))
    return _sequence_risk(parsed, probes) or _leading_repeat_risk(_flatten(parsed), probes)


def _leading_repeat_risk(items: list[Node], probes: frozenset[str]) -> str | None:
    """A search tries every start, so a leading unbounded repetition costs the square of the run it
    can cover. One that spans words (``.*``, ``[^x]+``) covers the whole prompt, which normalisation
    can make 18 times longer (one Arabic ligature becomes 18 letters and spaces): seconds. It adds
    nothing to a filter either: ``/.*x/`` refuses exactly what ``/x/`` does. One confined to a word
    (``\\w+``, ``[a-z]+``) covers one word: cheap, and allowed."""
    for node in items:
        op = _op(node)
        if op == "AT" and str(getattr(node[1], "name", node[1])) in ("AT_BEGINNING", "AT_BEGINNING_STRING"):
            return None  # anchored: one start only
        chars = _chars(node, probes)
        if _is_wide(node) and " " in chars and any(not c.isspace() for c in chars):  # spans words
            return "it starts with a repetition, which a search does not need: write /x/ rather than /.*x/"
        if not _is_nullable(node):
            return None
    return None


def _op(node: Node) -> str:
    return str(getattr(node[0], "name", node[0]))


def _children(node: Node) -> list[list[Node]]:
    """The sub-sequences inside ``node``: a repeat's body, a group's, each alternative, a lookaround's."""
    op, arg = _op(node), node[1]
    if op in _REPEATS:
        return [list(arg[2])]
    if op == "SUBPATTERN":
        return [list(arg[3])]
    if op == "BRANCH":
        return [list(alt) for alt in arg[1]]
    if op == "ATOMIC_GROUP":
        return [list(arg)]
    if op in ("ASSERT", "ASSERT_NOT"):
        return [list(arg[1])]
    if op == "GROUPREF_EXISTS":
        return [list(part) for part in arg[1:] if part is not None]
    return []


def _walk(nodes: Iterable[Node]) -> Iterator[Node]:
    for node in nodes:
        yield node
        for child in _children(node):
            yield from _walk(child)


def _named_chars(nodes: Iterable[Node]) -> Iterator[str]:
    for node in _walk(nodes):
        op, arg = _op(node), node[1]
        if op in ("LITERAL", "NOT_LITERAL"):
            yield chr(arg)
        elif op == "IN":
            for item in arg:
                if _op(item) in ("LITERAL", "NOT_LITERAL"):
                    yield chr(item[1])
                elif _op(item).startswith("RANGE"):
                    yield chr(item[1][0])
                    yield chr(item[1][1])


def _sequence_risk(nodes: list[Node], probes: frozenset[str]) -> str | None:
    for node in nodes:
        op, arg = _op(node), node[1]
        if op in _GROUP_REFERENCES:
            return "it uses a back-reference"
        if (
            op in _REPEATS
            and arg[1] > 1
            and any(
                _op(inner) in _REPEATS or _op(inner) == "BRANCH"
                for child in _children(node)
                for inner in _walk(child)
            )
        ):
            return "it repeats something that itself repeats or has alternatives"
        for child in _children(node):
            risk = _sequence_risk(child, probes)
            if risk is not None:
                return risk
    return _side_by_side_risk(_flatten(nodes), probes)


def _flatten(nodes: Iterable[Node]) -> list[Node]:
    """The sequence as matched: plain and atomic groups opened up, so their items meet their neighbours."""
    flat: list[Node] = []
    for node in nodes:
        op = _op(node)
        if op == "SUBPATTERN":
            flat.extend(_flatten(node[1][3]))
        elif op == "ATOMIC_GROUP":
            flat.extend(_flatten(node[1]))
        else:
            flat.append(node)
    return flat


def _side_by_side_risk(items: list[Node], probes: frozenset[str]) -> str | None:
    """Two unbounded repetitions that could share characters, with only what either absorbs between."""
    for i, first in enumerate(items):
        if not _is_wide(first):
            continue
        shared = _chars(first, probes)
        for later in items[i + 1 :]:
            chars = _chars(later, probes)
            if _is_wide(later) and chars & shared:
                return "two repetitions can match the same characters side by side"
            if not (_is_nullable(later) or chars <= shared):
                break  # something ``first`` cannot swallow separates it from what follows
    return None


def _is_wide(node: Node) -> bool:
    op = _op(node)
    if op in _ZERO_WIDTH:
        return False
    if op in _REPEATS and node[1][1] > _WIDE_REPEAT:
        return True
    return any(_is_wide(inner) for child in _children(node) for inner in child)


def _is_nullable(node: Node) -> bool:
    op, arg = _op(node), node[1]
    if op in ("LITERAL", "NOT_LITERAL", "ANY", "IN", "CATEGORY"):
        return False
    if op in _REPEATS:
        return bool(arg[0] == 0) or all(_is_nullable(inner) for inner in arg[2])
    if op == "BRANCH":
        return any(all(_is_nullable(inner) for inner in alt) for alt in arg[1])
    if op in ("SUBPATTERN", "ATOMIC_GROUP"):
        return all(_is_nullable(inner) for child in _children(node) for inner in child)
    return True  # zero-width assertions, and anything unknown (the cautious answer here)


def _chars(node: Node, probes: frozenset[str]) -> frozenset[str]:
    """Which probe characters ``node`` can consume (case-insensitively, as the filter compiles it)."""
    op = _op(node)
    if op in _ZERO_WIDTH:
        return frozenset()
    if op in ("LITERAL", "NOT_LITERAL", "ANY", "IN", "CATEGORY"):
        return frozenset(ch for ch in probes if _single_matches(node, ch))
    children = _children(node)
    if not children:
        return probes  # unknown: assume it can match anything
    return frozenset().union(*(_chars(inner, probes) for child in children for inner in child))


def _cases(ch: str) -> set[str]:
    return {c for c in (ch, ch.lower(), ch.upper()) if len(c) == 1}


def _single_matches(node: Node, ch: str) -> bool:
    op, arg = _op(node), node[1]
    if op == "LITERAL":
        return chr(arg) in _cases(ch) or ch in _cases(chr(arg))
    if op == "NOT_LITERAL":
        return not _single_matches(("LITERAL", arg), ch)
    if op == "ANY":
        return True
    if op == "CATEGORY":
        return _category_matches(arg, ch)
    if op == "IN":
        negate = any(_op(item) == "NEGATE" for item in arg)
        hit = any(_set_item_matches(item, ch) for item in arg if _op(item) != "NEGATE")
        return hit != negate
    return True


def _set_item_matches(item: Node, ch: str) -> bool:
    op, arg = _op(item), item[1]
    if op == "LITERAL":
        return _single_matches(item, ch)
    if op.startswith("RANGE"):
        return any(arg[0] <= ord(c) <= arg[1] for c in _cases(ch))
    if op == "CATEGORY":
        return _category_matches(arg, ch)
    return True


def _category_matches(category: Any, ch: str) -> bool:
    name = str(getattr(category, "name", category))
    for prefix in ("CATEGORY_", "UNI_", "LOC_"):
        name = name.removeprefix(prefix)
    negated = name.startswith("NOT_")
    kind = name.removeprefix("NOT_")
    if kind == "DIGIT":
        hit = ch.isdecimal()
    elif kind == "SPACE":
        hit = ch.isspace()
    elif kind == "WORD":
        hit = ch.isalnum() or ch == "_"
    elif kind == "LINEBREAK":
        hit = ch == "\n"
    else:
        return True
    return hit != negated


def matches(compiled: CompiledFilter, prompt: str, *, budget: float = MATCH_BUDGET_SECONDS) -> str | None:
    """The entry that ``prompt`` hits, or ``None``.

    Runs on the event loop, so it is bounded: an entry still searching when ``budget`` runs out counts
    as a hit. Failing open would let a crafted prompt past the filter; failing closed costs one member
    a rephrase, and the log names the entry to simplify.
    """
    if not compiled.rules:
        return None
    deadline = time.perf_counter() + budget
    texts: list[str] = []
    stripped = _strip(prompt)  # once: the two foldings differ only in the case step
    for text in (_fold(stripped, capitals=True), _fold(stripped, capitals=False)):
        # Also with separators removed between single letters ("n u d e", "n.u.d.e").
        for candidate in (text, _squeeze_spelled_out(text)):
            if candidate not in texts:
                texts.append(candidate)
    for rule in compiled.rules:
        for candidate in texts:
            try:
                if rule.pattern.search(candidate, timeout=max(0.001, deadline - time.perf_counter())):
                    return rule.entry
            except TimeoutError:
                log.warning(
                    "Prompt filter entry %r did not finish within %.2f s on a %d-character prompt; the "
                    "prompt was refused. Simplify the entry (/videoadmin filter).",
                    rule.entry,
                    budget,
                    len(candidate),
                )
                return rule.entry
    return None


@functools.lru_cache(maxsize=512)
def compile_filter_cached(entries: tuple[tuple[str, bool], ...]) -> CompiledFilter:
    """Per request, the guild's entries are the same as last time: compile them once, not per prompt.
    The entries are the key, so a change to the list is a new key (nothing to invalidate)."""
    return compile_filter(entries)


# A letter here excludes "_", which is also a separator: a run of "_" then has one way to split, not
# exponentially many.
_SPELLED_OUT = re.compile(r"(?<!\w)(?:[^\W_][\s.\-_*]+){2,}[^\W_](?!\w)")


def _squeeze_spelled_out(text: str) -> str:
    """Join words spelled out letter by letter with separators, so ``n.u.d.e`` reads as ``nude``."""

    def join(match: re.Match[str]) -> str:
        return re.sub(r"[\s.\-_*]+", "", match.group(0))

    return _SPELLED_OUT.sub(join, text)
