"""Moderator entries: parsed, validated, compiled once, broken ones skipped, the matching one reported."""

from __future__ import annotations

import logging

import pytest

from bot.lifecycle import prompt_filter
from bot.lifecycle.prompt_filter import (
    CompiledFilter,
    FilterEntryError,
    compile_entry,
    compile_filter,
    display_entry,
    matches,
    normalize,
    parse_entry,
)
from bot.lifecycle.prompt_filter import entries as entries_module


def test_reports_the_entry_that_matched_and_skips_broken_ones(sample_filter: CompiledFilter) -> None:
    assert matches(sample_filter, "blood") == "/bl[o0]od/"
    assert len(sample_filter.rules) == 3
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


def test_a_slow_regex_stored_before_the_check_is_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entries_module, "_warned_entries", set())  # warnings are once per process
    with caplog.at_level(logging.WARNING, logger="bot.lifecycle.prompt_filter"):
        stored = compile_filter([("(a+)+$", True), "gore"])
        compile_filter([("(a+)+$", True), "gore"])  # compiled again for the next request
    assert [rule.entry for rule in stored.rules] == ["gore"]
    # Run, this prompt would backtrack for hours; skipped, the other entries still apply.
    assert matches(stored, "a" * 40 + "!") is None
    assert matches(stored, "gore") == "gore"
    warnings = [r.getMessage() for r in caplog.records if "(a+)+$" in r.getMessage()]
    assert len(warnings) == 1 and "very slow" in warnings[0]


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


@pytest.mark.parametrize("entry", ["/(?:gun){e<=3}/", "/[[:alpha:]]+x/", "/(?:gunpowder){e<=1}/"])
def test_syntax_only_the_matching_engine_reads_is_refused(entry: str) -> None:
    with pytest.raises(FilterEntryError, match="fuzzy matching or POSIX classes"):
        compile_entry(entry)
