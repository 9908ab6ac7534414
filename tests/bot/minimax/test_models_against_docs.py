"""The bot's model table against the fake's own table of the documented API rules.

The fake MiniMax refuses what the documentation says MiniMax refuses (``tests/fakes/minimax_rules``,
written from the docs, importing nothing from ``bot``). These tests send every option the bot's
table offers through the bot's own body builder to the fake's validator, and check the bot offers
every combination the docs allow: a wrong row in ``bot/catalog.py`` fails here by name.
"""

from __future__ import annotations

import base64
import struct

import pytest

from bot.catalog import MAX_PROMPT_CHARS, MODELS, ApiFamily, ModelRules, as_sent
from bot.minimax.client import build_submit_body
from bot.minimax.v2 import build_v2_body, submit_path
from bot.spec import MediaKind, MediaRef, MediaRole, Mode, VideoSpec
from tests.fakes import minimax_rules as docs
from tests.fakes.fake_discord import png_bytes
from tests.fakes.fake_minimax import (
    sniff_image,
    validate_submission,
    validate_v2_regeneration,
    validate_v2_submission,
)

URL = "https://images.example/a.png"
_TO_API_MODE = {
    Mode.TEXT: docs.ApiMode.TEXT,
    Mode.IMAGE: docs.ApiMode.FIRST_FRAME,
    Mode.FIRST_LAST: docs.ApiMode.FIRST_LAST,
    Mode.SUBJECT: docs.ApiMode.SUBJECT,
}


def _request(spec: ModelRules, mode: Mode, resolution: str, duration: int) -> VideoSpec:
    """The spec the bot would send for this choice: resolved, then as the catalog says it goes out
    (fixed-output models get no duration or resolution)."""
    roles = {
        Mode.TEXT: (),
        Mode.IMAGE: (MediaRole.FIRST_FRAME,),
        Mode.FIRST_LAST: (MediaRole.FIRST_FRAME, MediaRole.LAST_FRAME),
        Mode.SUBJECT: (MediaRole.SUBJECT,),
        Mode.REFERENCE: (MediaRole.REFERENCE_IMAGE,),
        Mode.UPSCALE: (MediaRole.BASE_VIDEO,),
    }[mode]
    resolved = VideoSpec(
        "a cat walks [Pan left]",
        model=spec.name,
        duration=duration,
        resolution=resolution,
        prompt_optimizer=True,
        fast=spec.fast_pretreatment,
        media=tuple(
            MediaRef(URL, role, MediaKind.VIDEO if role is MediaRole.BASE_VIDEO else MediaKind.IMAGE)
            for role in roles
        ),
    )
    return as_sent(resolved)


_OFFERED = [
    (spec, mode, resolution, duration)
    for spec in MODELS.values()
    for mode, pairs in spec.modes.items()
    for resolution, duration in sorted(pairs)
]


@pytest.mark.parametrize(
    ("spec", "mode", "resolution", "duration"),
    _OFFERED,
    ids=[f"{s.name}-{m}-{r}-{d}" for s, m, r, d in _OFFERED],
)
def test_every_choice_the_bot_offers_is_one_the_api_accepts(
    spec: ModelRules, mode: Mode, resolution: str, duration: int
) -> None:
    request = _request(spec, mode, resolution, duration)
    if mode is Mode.UPSCALE:
        assert submit_path(request) == "/v2/video_regeneration"
        assert validate_v2_regeneration(build_v2_body(request)) is None
    elif spec.family is ApiFamily.V2:
        assert validate_v2_submission(build_v2_body(request)) is None
    else:
        body = build_submit_body(request)
        assert validate_submission(body, strict_fixed_output=True, require_duration=True) is None


def test_the_bot_offers_every_model_mode_and_pair_the_docs_allow() -> None:
    assert set(MODELS) == set(docs.API_MODELS) | set(docs.V2_MODELS)
    for name, v2_model in docs.V2_MODELS.items():
        rules = MODELS[name]
        assert rules.family is ApiFamily.V2, name
        pairs = {(r, d) for r in v2_model.resolutions for d in v2_model.durations}
        assert all(combos == pairs for mode, combos in rules.modes.items() if mode is not Mode.UPSCALE), name
        target = docs.V2_REGENERATION_TARGET
        upscales = {(target, d) for d in v2_model.durations} if target in v2_model.resolutions else set()
        assert rules.combos(Mode.UPSCALE) == upscales, name
        assert (Mode.REFERENCE in rules.modes) == v2_model.references, name
        assert rules.max_prompt_chars == docs.V2_MAX_PROMPT_CHARS, name
        assert set(rules.ratios) == set(docs.V2_RATIOS), name
    for name, api in docs.API_MODELS.items():
        offered = {_TO_API_MODE[mode]: pairs for mode, pairs in MODELS[name].modes.items()}
        assert offered == api.pairs, name


def test_the_bot_agrees_with_the_docs_on_each_models_extras() -> None:
    for name, api in docs.API_MODELS.items():
        spec = MODELS[name]
        assert spec.default_resolution == api.default_resolution, name
        assert spec.fast_pretreatment == api.fast_pretreatment, name
        assert spec.sends_resolution is not api.fixed_output, name
        assert spec.duration_field == api.duration_field, name
        for mode in spec.modes:
            assert spec.sends_fast(mode) == (
                api.fast_pretreatment and _TO_API_MODE[mode] in docs.FAST_PRETREATMENT_MODES
            ), (name, mode)
        assert spec.camera_commands == api.camera_commands, name
    assert MAX_PROMPT_CHARS == docs.MAX_PROMPT_CHARS


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"model": "MiniMax-Hailuo-2.3", "prompt": "x", "resolution": "720P"}, "720P at 6 s"),
        ({"model": "MiniMax-Hailuo-02", "prompt": "x", "resolution": "512P"}, "512P at 6 s for text"),
        ({"model": "S2V-01", "prompt": "x", "subject_reference": [{"type": "character", "image": [URL]}],
          "duration": 6}, "fixed output"),
        ({"model": "I2V-01", "prompt": "", "first_frame_image": URL, "resolution": "720P"}, "fixed output"),
        ({"model": "MiniMax-Hailuo-02", "prompt": "x", "first_frame_image": URL, "last_frame_image": URL,
          "resolution": "512P"}, "512P at 6 s for first + last frame"),
        ({"model": "I2V-01-live", "prompt": "x", "fast_pretreatment": True, "first_frame_image": URL},
         "fast_pretreatment"),
    ],
)  # fmt: skip
def test_the_fake_refuses_what_the_docs_refuse(body: dict[str, object], words: str) -> None:
    problem = validate_submission(body, strict_fixed_output=True)
    assert problem is not None and words in problem


def test_fixed_output_values_are_tolerated_when_not_strict() -> None:
    body = {"model": "T2V-01", "prompt": "x", "duration": 6, "resolution": "720P"}
    assert validate_submission(body, strict_fixed_output=False) is None
    assert validate_submission({**body, "duration": 10}, strict_fixed_output=False) is not None


def _data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x00" * 9
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def _webp_vp8x(width: int, height: int) -> bytes:
    chunk = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4
    chunk += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def test_the_image_sniffer_reads_each_documented_format() -> None:
    assert sniff_image(png_bytes(640, 480)) == ("image/png", (640, 480))
    assert sniff_image(_jpeg(1280, 720)) == ("image/jpeg", (1280, 720))
    assert sniff_image(_webp_vp8x(800, 600)) == ("image/webp", (800, 600))


@pytest.mark.parametrize(
    ("image", "words"),
    [
        (_data_url(png_bytes(300, 640)), "short side must be over 300"),
        (_data_url(png_bytes(1001, 400)), "aspect ratio"),
        (_data_url(png_bytes(400, 1001)), "aspect ratio"),
        (_data_url(_jpeg(640, 480), "image/png"), "matching its data URL type"),
        (_data_url(b"GIF89a" + b"\x00" * 20, "image/png"), "JPG, PNG or WebP"),
        ("data:image/png;base64,@@@", "first_frame_image"),
    ],
)
def test_the_documented_image_rules(image: str, words: str) -> None:
    body = {"model": "MiniMax-Hailuo-2.3", "prompt": "x", "first_frame_image": image}
    problem = validate_submission(body)
    assert problem is not None and words in problem


@pytest.mark.parametrize(
    "image",
    [
        _data_url(png_bytes(301, 301)),
        _data_url(png_bytes(1000, 400)),  # exactly 5:2
        _data_url(png_bytes(400, 1000)),  # exactly 2:5
        _data_url(_jpeg(1280, 720), "image/jpeg"),
        _data_url(_webp_vp8x(720, 1280), "image/webp"),
        URL,
    ],
)
def test_images_inside_the_rules_are_accepted(image: str) -> None:
    body = {"model": "MiniMax-Hailuo-2.3", "prompt": "x", "first_frame_image": image}
    assert validate_submission(body) is None
