"""The prompt filter catches look-alikes, invisible characters and spacing tricks, not innocent words."""

from __future__ import annotations

import pytest

from bot.lifecycle.prompt_filter import (
    FilterEntryError,
    compile_entry,
    compile_filter,
    display_entry,
    matches,
    normalize,
    parse_entry,
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
