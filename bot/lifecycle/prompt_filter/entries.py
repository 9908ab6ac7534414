"""Moderator entries: parsed, validated and compiled once, then matched against every prompt.

An entry is a regular expression (stored with ``is_regex``, typed as ``/pattern/``) or a word or
phrase matched on word boundaries (``ass`` does not match ``class``), its last word also with its
regular English endings (:func:`word_forms`: ``nude`` refuses ``nudes``), a single word also spelled
out with separators (``n/u/d/e``). Both the entry and the
prompt are normalised the same way (:mod:`.normalization`); a regular expression that could
backtrack for minutes is refused (:mod:`.backtracking`), and matching stops at a time budget.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

import regex

from bot.i18n import msg
from bot.lifecycle.prompt_filter.backtracking import MATCH_BUDGET_SECONDS, regex_risk
from bot.lifecycle.prompt_filter.normalization import normalize, prompt_variants

# The package's name, as before it was split: operators' log filters keep working.
log = logging.getLogger("bot.lifecycle.prompt_filter")

MAX_ENTRY_CHARS = 200
# What a moderator may type for one entry: the longest one, with the slashes of ``/regex/``.
MAX_TYPED_ENTRY_CHARS = MAX_ENTRY_CHARS + 2


class FilterEntryError(ValueError):
    """A filter entry that cannot be used; ``words`` tell the moderator how to fix it, in their
    language, and ``str()`` in English (for the logs)."""

    def __init__(self, key: str, **values: object) -> None:
        self.words = msg(f"admin.refused.filter.{key}", **values)
        super().__init__(self.words.render("en"))


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
        raise FilterEntryError("empty")
    if len(raw) > MAX_ENTRY_CHARS:
        raise FilterEntryError("too_long", limit=MAX_ENTRY_CHARS)
    if is_regex:
        # The regex sees normalised text: its letters are folded the same way ("/секс/" → "cekc").
        source = _normalize_literals(raw)
        if _ENGINE_ONLY_SYNTAX.search(source):
            raise FilterEntryError("fuzzy")
        try:
            re.compile(source, re.IGNORECASE)  # Python's syntax, which the shape check reads
            # Matched with the `regex` engine, which can stop a search at a deadline (`re` cannot).
            compiled = regex.compile(source, regex.IGNORECASE | regex.V0)
        except (re.error, regex.error) as exc:
            raise FilterEntryError("bad_regex", error=str(exc)) from None
        if compiled.search("") is not None:  # instant even for a slow regex: "" gives it nothing to try
            raise FilterEntryError("everything")
        risk = regex_risk(source)
        if risk is not None:
            raise FilterEntryError("slow", why=risk)
        return FilterRule(shown, compiled)
    words = normalize(raw).split()
    if not words:
        raise FilterEntryError("invisible")
    # Any run of spaces between the words of a phrase; word boundaries only where the entry has letters.
    body = r"\s+".join([*(re.escape(w) for w in words[:-1]), inflected(words[-1])])
    spelled = spelled_out(words[0]) if len(words) == 1 else None
    if spelled is not None:
        body = f"(?:{body}|{spelled})"
    start = r"(?<!\w)" if words[0][0].isalnum() or words[0][0] == "_" else ""
    end = r"(?!\w)" if words[-1][-1].isalnum() or words[-1][-1] == "_" else ""
    return FilterRule(shown, regex.compile(start + body + end))


_SIBILANT_ENDINGS = ("s", "x", "z", "ch", "sh")
_VOWELS = frozenset("aeiou")
_LATIN_WORD = re.compile(r"[a-z]{3,}")
# Between the letters of a word spelled out: any run of what is neither a letter nor a digit.
_SPELLING_GAP = r"[\W_]+"


def word_forms(word: str) -> tuple[str, tuple[str, ...]]:
    """``word`` (normalised) as a stem and the endings a word entry also refuses.

    A plural or a verb form is the same word to a moderator: ``kill`` also refuses ``kills``,
    ``killed`` and ``killing``; ``kiss`` takes ``kisses``; a final ``e`` is dropped before ``-ed`` and
    ``-ing`` (``nude``: ``nudes``, ``nuded``, ``nuding``) except after another ``e`` (``pee``: ``peeing``);
    ``ie`` becomes ``ying`` (``die``: ``dying``); a ``y`` after a consonant becomes ``ies``/``ied``.
    Only endings, never a longer stem: ``kill`` does not refuse ``killer`` nor ``skill``. Words of
    fewer than three Latin letters, and anything else, match as written (``ho`` does not take ``hoes``).
    """
    if not _LATIN_WORD.fullmatch(word):
        return word, ("",)
    if word.endswith("ie"):
        return word[:-2], ("ie", "ies", "ied", "ying")
    if word.endswith("e") and not word.endswith("ee"):
        return word[:-1], ("e", "es", "ed", "ing")
    if word.endswith("y") and word[-2] not in _VOWELS:
        return word[:-1], ("y", "ies", "ied", "ying")
    return word, ("", "es" if word.endswith(_SIBILANT_ENDINGS) else "s", "ed", "ing")


def inflected(word: str) -> str:
    """The pattern of ``word`` with its endings (:func:`word_forms`)."""
    stem, endings = word_forms(word)
    if endings == ("",):
        return re.escape(word)
    return re.escape(stem) + "(?:" + "|".join(re.escape(e) for e in endings) + ")"


def spelled_out(word: str) -> str | None:
    """The pattern of ``word`` (and its forms) spelled letter by letter with any separators between:
    ``n/u/d/e``, ``n • u • d • e``, ``a n.u-d e s``. ``None`` for a word of fewer than three Latin letters.

    Matched on word boundaries like the word itself, so the letters must stand alone ("n u d e", not
    "an u de"); a separator is never a letter or a digit, so the search stays linear.
    """
    if not _LATIN_WORD.fullmatch(word):
        return None
    stem, endings = word_forms(word)
    forms = sorted({stem + ending for ending in endings}, key=len, reverse=True)
    return "|".join(_SPELLING_GAP.join(re.escape(letter) for letter in form) for form in forms)


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
                raise FilterEntryError("char_class", char=repr(ch))
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


def matches(compiled: CompiledFilter, prompt: str, *, budget: float = MATCH_BUDGET_SECONDS) -> str | None:
    """The entry that ``prompt`` hits, or ``None``.

    Runs on the event loop, so it is bounded: an entry still searching when ``budget`` runs out counts
    as a hit. Failing open would let a crafted prompt past the filter; failing closed costs one member
    a rephrase, and the log names the entry to simplify.
    """
    if not compiled.rules:
        return None
    deadline = time.perf_counter() + budget
    texts = prompt_variants(prompt)
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
