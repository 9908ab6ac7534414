"""Normalisation: look-alikes, invisible characters and spacing tricks are caught, innocent words are not."""

from __future__ import annotations

import pytest

from bot.lifecycle.prompt_filter import CompiledFilter, compile_filter, matches


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
def test_catches_spellings(sample_filter: CompiledFilter, prompt: str) -> None:
    assert matches(sample_filter, prompt) is not None


@pytest.mark.parametrize("prompt", ["gorgeous sunset", "a bigcat", "a category", "sun and rain"])
def test_lets_innocent_prompts_through(sample_filter: CompiledFilter, prompt: str) -> None:
    assert matches(sample_filter, prompt) is None


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


def test_a_run_of_underscores_is_squeezed_in_linear_time() -> None:
    """``_`` was both a letter and a separator of the spelled-out joiner: 44 of them took a minute."""
    assert matches(compile_filter(["nude"]), "a cat on a beach " + "_" * 1980 + "ab") is None
    assert matches(compile_filter(["nude"]), "n_u_d_e on a beach") == "nude"


@pytest.mark.parametrize(
    ("entry", "prompt"),
    [("nude", "ΝUDE"), ("mom", "ΜOM"), ("zoo", "ΖOO"), ("porn", "pօrn"), ("hey", "ΗEY")],
)
def test_capital_look_alikes_fold_to_the_letter_they_look_like(entry: str, prompt: str) -> None:
    assert matches(compile_filter([entry]), prompt) == entry


def test_a_greek_word_still_catches_its_capitals() -> None:
    assert matches(compile_filter(["νερο"]), "ΝΕΡΟ everywhere") == "νερο"
    assert matches(compile_filter(["nude"]), "ΝUDE") == "nude"  # and Latin words their look-alikes


@pytest.mark.parametrize(
    "prompt",
    [
        "n/u/d/e",
        "n,u,d,e",
        "n'u'd'e",
        "n+u+d+e",
        "n:u:d:e",
        "n•u•d•e",
        "n—u—d—e",
        "n | u | d | e",
        "n/u.d—e",  # separators may differ from gap to gap
        "🅽🆄🅳🅴",  # negative squared
        "🅝🅤🅓🅔",  # negative circled
        "⒩⒰⒟⒠",  # parenthesized (NFKC makes it "(n)(u)(d)(e)")
        "🄝🄤🄓🄔",
        "🇳🇺🇩🇪",  # regional indicators
        "ɲude",  # n with a left hook
        "ⴖude",  # Georgian
        "пude",  # Cyrillic pe
    ],
)
def test_separators_enclosed_letters_and_look_alikes_are_caught(prompt: str) -> None:
    """Each of these passed the filter: only space . - _ * separated letters; the rest were symbols."""
    assert matches(compile_filter(["nude"]), f"a {prompt} on a beach") == "nude"


@pytest.mark.parametrize(
    ("entry", "prompt"),
    [
        ("nude", "nudes on a beach"),
        ("nude", "N/U/D/E/S"),
        ("nude", "a n u d e on a beach"),  # the article is a single letter too: not part of the word
        ("nude", "a n.u.d.e.s pic"),
        ("kill", "k-i-l-l-i-n-g"),
        ("kill", "he kills"),
        ("kill", "killed"),
        ("kill", "killing time"),
        ("kiss", "kisses"),
        ("die", "a dying star"),
        ("pussy", "pussies"),
        ("gore", "goring bull"),
        ("big cat", "two big cats"),
    ],
)
def test_a_word_also_refuses_its_regular_endings(entry: str, prompt: str) -> None:
    assert matches(compile_filter([entry]), prompt) == entry


@pytest.mark.parametrize(
    ("entry", "prompt"),
    [
        ("ass", "a class of students"),
        ("ass", "green grass"),
        ("ass", "an assassin"),
        ("ass", "she passes"),
        ("nude", "nudity laws"),
        ("nude", "to denude"),
        ("kill", "a killer whale"),
        ("kill", "great skill"),
        ("bee", "human being"),
        ("die", "a dingo"),
        ("cat", "a category"),
        ("cat", "catering"),
        ("ho", "garden hoes"),  # under three letters: matched as written
        ("gore", "gorgeous"),
        ("nude", "i'd a new dog"),  # letters apart by separators, but not spelling the entry
        ("nude", "n u d"),
        ("anus", "an us soldier"),  # whole words are never joined, only single letters
        ("anal", "an al pacino film"),
    ],
)
def test_word_boundaries_and_endings_do_not_reach_other_words(entry: str, prompt: str) -> None:
    assert matches(compile_filter([entry]), prompt) is None


def test_a_long_run_of_any_separator_is_squeezed_in_linear_time() -> None:
    """Every separator counts now; each still has one way to split (letters and separators never overlap)."""
    for separator in "/,'+:•— ":
        hostile = "a" + separator * 1990 + "bc"
        assert matches(compile_filter(["nude"]), hostile) is None
        assert matches(compile_filter(["nude"]), separator.join("nude") + " on a beach") == "nude"
