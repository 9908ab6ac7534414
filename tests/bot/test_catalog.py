"""The model table against the official matrix and price list (minimax-api.md §4 and §6)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.catalog import (
    MODELS,
    SEQUELS,
    as_sent,
    credits_text,
    default_model_for,
    describe_combos,
    format_credits,
    models_for_mode,
    price_tenths,
)
from bot.spec import MediaRef, MediaRole, Mode, VideoSpec


@pytest.mark.parametrize(
    ("model", "resolution", "duration", "credits"),
    [
        ("MiniMax-Hailuo-2.3", "768P", 6, "1"),
        ("MiniMax-Hailuo-2.3", "768P", 10, "2"),
        ("MiniMax-Hailuo-2.3", "1080P", 6, "1.8"),
        ("MiniMax-Hailuo-2.3-Fast", "768P", 6, "0.7"),
        ("MiniMax-Hailuo-2.3-Fast", "768P", 10, "1.1"),
        ("MiniMax-Hailuo-2.3-Fast", "1080P", 6, "1.2"),
        ("MiniMax-Hailuo-02", "512P", 6, "0.4"),
        ("MiniMax-Hailuo-02", "512P", 10, "0.5"),
    ],
)
def test_prices_in_credits(model: str, resolution: str, duration: int, credits: str) -> None:
    assert format_credits(price_tenths(model, resolution, duration)) == credits


def mode_for(*, has_first: bool, has_last: bool, has_subject: bool) -> Mode:
    """The mode a spec with these images is made in."""
    given = {MediaRole.FIRST_FRAME: has_first, MediaRole.LAST_FRAME: has_last, MediaRole.SUBJECT: has_subject}
    media = tuple(MediaRef(f"https://cdn.example/{role}.png", role) for role, on in given.items() if on)
    return VideoSpec("a fox", media=media).mode


def test_every_allowed_combination_has_a_price() -> None:
    for spec in MODELS.values():
        for combos in spec.modes.values():
            for combo in combos:
                assert combo in spec.prices_usd, (spec.name, combo)


def test_matrix_rules() -> None:
    assert ("1080P", 10) not in MODELS["MiniMax-Hailuo-2.3"].combos(Mode.TEXT)
    assert ("512P", 6) in MODELS["MiniMax-Hailuo-02"].combos(Mode.IMAGE)
    assert ("512P", 6) not in MODELS["MiniMax-Hailuo-02"].combos(Mode.TEXT)
    assert Mode.TEXT not in MODELS["MiniMax-Hailuo-2.3-Fast"].modes
    assert models_for_mode(Mode.FIRST_LAST) == ["MiniMax-Hailuo-02", "MiniMax-H3", "MiniMax-H3-Max"]
    assert models_for_mode(Mode.SUBJECT) == ["S2V-01"]
    assert not MODELS["T2V-01"].sends_resolution
    assert MODELS["MiniMax-Hailuo-2.3"].sends_resolution


def test_mode_and_default_model() -> None:
    assert mode_for(has_first=False, has_last=False, has_subject=False) is Mode.TEXT
    assert mode_for(has_first=True, has_last=False, has_subject=False) is Mode.IMAGE
    assert mode_for(has_first=True, has_last=True, has_subject=False) is Mode.FIRST_LAST
    assert mode_for(has_first=False, has_last=False, has_subject=True) is Mode.SUBJECT
    assert default_model_for(Mode.FIRST_LAST) == "MiniMax-Hailuo-02"
    assert default_model_for(Mode.TEXT) == "MiniMax-Hailuo-2.3"


def test_describe_combos_reads_well() -> None:
    text = describe_combos(MODELS["MiniMax-Hailuo-2.3"].combos(Mode.TEXT))
    assert text == "768P: 6 s or 10 s; 1080P: 6 s"


def test_as_sent_states_each_v1_field_rule() -> None:
    """duration wherever the schema has it (the 01 series' only value; none on S2V-01), no resolution
    on fixed-output models, fast_pretreatment only in text- and image-to-video. Checked failing before:
    the 01 series got no duration and first+last frame got fast_pretreatment."""
    first = MediaRef("https://a/1.png", MediaRole.FIRST_FRAME)
    last = MediaRef("https://a/2.png", MediaRole.LAST_FRAME)
    face = MediaRef("https://a/f.png", MediaRole.SUBJECT)
    legacy = as_sent(VideoSpec("x", model="T2V-01", duration=6, resolution="720P"))
    assert (legacy.duration, legacy.resolution) == (6, None)
    subject = VideoSpec("", model="S2V-01", duration=6, resolution="720P", media=(face,))
    assert (as_sent(subject).duration, as_sent(subject).resolution) == (None, None)
    frames = VideoSpec("x", model="MiniMax-Hailuo-02", duration=6, resolution="768P", fast=True)
    frames = replace(frames, media=(first, last))
    assert as_sent(frames).fast is False
    assert as_sent(replace(frames, media=(first,))).fast is True
    assert as_sent(replace(frames, media=())).fast is True


@pytest.mark.parametrize(
    ("tenths", "text"),
    [(10, "1 credit"), (-10, "-1 credit"), (0, "0 credits"), (5, "0.5 credits"), (18, "1.8 credits")],
)
def test_credits_text_says_one_credit_and_otherwise_credits(tenths: int, text: str) -> None:
    assert credits_text(tenths) == text


def test_no_message_or_log_line_spells_the_credit_word_itself() -> None:
    """#16: "1 credits" came from amounts followed by a literal "credits", and log lines said
    "tenths". Every amount now goes through ``credits_text`` (the one place that knows the plural)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    amount_then_word = re.compile(r"format_credits\([^()]*\)\}\*{0,2}\s*\"?\s*f?\"?\s*credits\b")
    log_tenths = re.compile(r"log\.\w+\(\s*\"[^\"]*\btenths\b")
    offenders = [
        f"{path.relative_to(root)}"
        for folder in ("bot", "cogs")
        for path in sorted((root / folder).rglob("*.py"))
        if amount_then_word.search(text := path.read_text()) or log_tenths.search(text)
    ]
    assert offenders == []


def test_every_model_continues_and_loops_with_a_model_that_can() -> None:
    """Extend needs an image-to-video model, Loop a first + last frame one, of the same API family."""
    assert set(SEQUELS) == set(MODELS)
    for name, sequel in SEQUELS.items():
        assert Mode.IMAGE in MODELS[sequel.extend].modes, name
        assert Mode.FIRST_LAST in MODELS[sequel.loop].modes, name
        assert MODELS[sequel.extend].family is MODELS[name].family, name
    assert SEQUELS["T2V-01"].extend == "I2V-01"  # text-to-video continues as its image-to-video twin
