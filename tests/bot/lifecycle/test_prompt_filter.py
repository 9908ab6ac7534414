"""The prompt filter catches look-alikes, invisible characters and spacing tricks, not innocent words."""

from __future__ import annotations

import logging

import pytest
import regex

from bot.lifecycle import prompt_filter
from bot.lifecycle.prompt_filter import (
    FilterEntryError,
    compile_entry,
    compile_filter,
    display_entry,
    matches,
    normalize,
    parse_entry,
    regex_risk,
)

FILTER = compile_filter(["gore", ("bl[o0]od", True), "big cat", "/[broken/"])


@pytest.mark.parametrize(
    "prompt",
    [
        "GORE everywhere",
        "g\u200bore",  # zero-width space
        "g\u00adore",  # soft hyphen
        "ｇｏｒｅ",  # full-width
        "𝐠𝐨𝐫𝐞",  # mathematical bold
        "gоrе",  # Cyrillic о and е
        "gòré",  # accents
        "g o r e",
        "g.o.r.e",
        "a bloodbath",
        "BL0OD",
        "a big   cat",
    ],
)
def test_catches_spellings(prompt: str) -> None:
    assert matches(FILTER, prompt) is not None


@pytest.mark.parametrize("prompt", ["gorgeous sunset", "a bigcat", "a category", "sun and rain"])
def test_lets_innocent_prompts_through(prompt: str) -> None:
    assert matches(FILTER, prompt) is None


def test_reports_the_entry_that_matched_and_skips_broken_ones() -> None:
    assert matches(FILTER, "blood") == "/bl[o0]od/"
    assert len(FILTER.rules) == 3
    assert not compile_filter([])
    assert matches(compile_filter([]), "anything") is None


def test_entry_helpers() -> None:
    assert parse_entry(" /a+b/ ") == ("a+b", True)
    assert parse_entry("word") == ("word", False)
    assert display_entry("a+b", True) == "/a+b/"
    assert normalize("Ｃａｆé\u200b") == "cafe"
    for bad in ("", "/(/", "/.*/", "x" * 201, "\u200b"):
        with pytest.raises(FilterEntryError):
            compile_entry(bad)


@pytest.mark.parametrize(
    "invisible",
    [
        "\U0001d173",  # musical symbol begin beam (Cf)
        "\ufff9",  # interlinear annotation anchor (Cf)
        "\u2800",  # Braille pattern blank
        "\u3164",  # Hangul filler
        "\U000e0100",  # variation selector 17 (a combining mark of class 0)
        "\u180b",  # Mongolian free variation selector
        "\u20dd",  # combining enclosing circle
        "\x01",  # a control character
    ],
)
def test_invisible_characters_do_not_split_a_word(invisible: str) -> None:
    nude = compile_filter(["nude"])
    assert matches(nude, f"a nu{invisible}de statue") == "nude"


def test_other_scripts_still_match_themselves() -> None:
    assert matches(compile_filter(["नमस्ते"]), "नमस्ते दुनिया") == "नमस्ते"
    assert matches(compile_filter(["привет"]), "ПРИВЕТ мир") == "привет"
    assert matches(compile_filter(["a\tb"]), "a  b") == "a\tb"  # whitespace is not dropped


SLOW_REGEXES = [
    "/(a+)+$/",  # nested repetition: exponential on "aaaa…!"
    "/(a|aa)+$/",  # alternatives inside a repetition
    "/(x+x+)+y/",
    "/(ab?)+$/",
    "/(a)\\1/",  # back-reference
    "/a.*a.*b/",  # two repetitions sharing characters: cubic over a search
    "/\\w+\\s*\\w+x/",
    "/(?:foo\\w+)?\\w+x/",
    "/.*x/",  # a leading repetition: quadratic over a search, and pointless (same as /x/)
    "/[^x]+x/",
    "/(?:foo)?.*x/",
]


@pytest.mark.parametrize("entry", SLOW_REGEXES)
def test_regexes_that_could_stall_the_bot_are_refused(entry: str) -> None:
    with pytest.raises(FilterEntryError, match="could make the filter very slow") as info:
        compile_entry(entry)
    assert "(a+)+" in str(info.value)  # the moderator is told what to avoid


@pytest.mark.parametrize(
    "entry",
    [
        "/\\bnsfw\\b/",
        "/gore|blood/",
        "/n[u0]de/",
        "/(a|b)+c/",
        "/how\\s+to\\s+make\\s+a\\s+bomb/",
        "/n+u+d+e+/",
        "/nude.*pic/",
        "/\\bn[\\W_]*u[\\W_]*d[\\W_]*e\\b/",
        "/\\d+\\.\\d+/",
        "/k[i1!]ll(s|ed|ing)?/",
        "/^.*x/",  # anchored: one start only
        "/\\w+nude/",  # a leading repetition confined to a word is cheap
        "/\\s+x/",
        "/(?:\\s|^)nude/",
    ],
)
def test_ordinary_regexes_are_accepted(entry: str) -> None:
    pattern, _ = parse_entry(entry)
    assert regex_risk(pattern) is None
    assert compile_entry(entry).entry == entry


def test_a_slow_regex_stored_before_the_check_is_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prompt_filter, "_warned_entries", set())  # warnings are once per process
    with caplog.at_level(logging.WARNING, logger="bot.lifecycle.prompt_filter"):
        stored = compile_filter([("(a+)+$", True), "gore"])
        compile_filter([("(a+)+$", True), "gore"])  # compiled again for the next request
    assert [rule.entry for rule in stored.rules] == ["gore"]
    # Run, this prompt would backtrack for hours; skipped, the other entries still apply.
    assert matches(stored, "a" * 40 + "!") is None
    assert matches(stored, "gore") == "gore"
    warnings = [r.getMessage() for r in caplog.records if "(a+)+$" in r.getMessage()]
    assert len(warnings) == 1 and "very slow" in warnings[0]


def test_a_run_of_underscores_is_squeezed_in_linear_time() -> None:
    """``_`` was both a letter and a separator of the spelled-out joiner: 44 of them took a minute."""
    assert matches(compile_filter(["nude"]), "a cat on a beach " + "_" * 1980 + "ab") is None
    assert matches(compile_filter(["nude"]), "n_u_d_e on a beach") == "nude"


def test_a_regex_the_shape_check_misses_is_cut_off_and_counts_as_a_hit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No static check catches every backtracking shape: this one stands for the next one it misses."""
    missed = "/(a|aa)+$/"
    slow = prompt_filter.CompiledFilter(
        (prompt_filter.FilterRule(missed, regex.compile("(a|aa)+$")), compile_entry("gore"))
    )
    with caplog.at_level(logging.WARNING, logger="bot.lifecycle.prompt_filter"):
        assert (
            matches(slow, "a" * 60 + "!", budget=0.05) == missed
        )  # fails closed, in a twentieth of a second
    assert any("did not finish" in r.getMessage() and missed in r.getMessage() for r in caplog.records)
    assert matches(slow, "a calm lake") is None


@pytest.mark.parametrize(
    ("entry", "prompt"),
    [("nude", "ΝUDE"), ("mom", "ΜOM"), ("zoo", "ΖOO"), ("porn", "pօrn"), ("hey", "ΗEY")],
)
def test_capital_look_alikes_fold_to_the_letter_they_look_like(entry: str, prompt: str) -> None:
    assert matches(compile_filter([entry]), prompt) == entry


@pytest.mark.parametrize(
    ("entry", "prompt"), [("/секс/", "секс"), ("/nüde/", "NUDE"), ("/straße/", "Strasse")]
)
def test_a_regex_written_with_non_latin_letters_matches_what_it_was_written_for(
    entry: str, prompt: str
) -> None:
    assert matches(compile_filter([entry]), prompt) == entry


def test_the_compiled_filter_is_reused_while_the_entries_stay_the_same() -> None:
    entries = (("gore", False), ("bl[o0]od", True))
    assert prompt_filter.compile_filter_cached(entries) is prompt_filter.compile_filter_cached(entries)
    changed = prompt_filter.compile_filter_cached((*entries, ("kill", False)))
    assert matches(changed, "kill it") == "kill"


@pytest.mark.parametrize("entry", ["/[а-я]+/", "/[α-ω]+/", "/x[ä]y/"])
def test_a_class_of_non_latin_letters_is_refused_not_turned_into_every_latin_letter(entry: str) -> None:
    with pytest.raises(FilterEntryError, match="character class"):
        compile_entry(entry)
    stored = compile_filter([(entry[1:-1], True)])  # one saved before this check: skipped, not run
    assert matches(stored, "a cat on a beach") is None


def test_a_greek_word_still_catches_its_capitals() -> None:
    assert matches(compile_filter(["νερο"]), "ΝΕΡΟ everywhere") == "νερο"
    assert matches(compile_filter(["nude"]), "ΝUDE") == "nude"  # and Latin words their look-alikes


@pytest.mark.parametrize("entry", ["/(?:gun){e<=3}/", "/[[:alpha:]]+x/", "/(?:gunpowder){e<=1}/"])
def test_syntax_only_the_matching_engine_reads_is_refused(entry: str) -> None:
    with pytest.raises(FilterEntryError, match="fuzzy matching or POSIX classes"):
        compile_entry(entry)
