"""Regular expressions that could stall the bot are refused; one the check misses is cut off in time."""

from __future__ import annotations

import logging

import pytest
import regex

from bot.lifecycle import prompt_filter
from bot.lifecycle.prompt_filter import FilterEntryError, compile_entry, matches, parse_entry, regex_risk

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
