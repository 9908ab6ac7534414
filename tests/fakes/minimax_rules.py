"""The fake MiniMax's own copy of the API's rules, written from the API documentation.

Why a copy: the fake used to read the bot's model table, so a wrong table (a combination MiniMax
refuses, a mode a model lacks) was accepted by the bot *and* by the fake, and no test could fail.
This table is transcribed from MiniMax's V1 reference (video-generation-t2v/-i2v/-fl2v/-s2v) as
summarised in the project's API notes, §3 "Request fields and rules" and §4 "Model matrix", and
from the reseller spec we were given. It deliberately imports nothing from ``bot``: when the two
tables disagree, ``tests/bot/minimax/test_models_against_docs.py`` names the difference.

Where the documentation hedges, the note next to the rule says so and the fake takes the reading
that is stricter for the bot (a request the fake accepts should be one MiniMax accepts).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ApiMode(StrEnum):
    """Which kind of generation a body asks for, decided by the image fields it carries."""

    TEXT = "text-to-video"  # no image
    FIRST_FRAME = "image-to-video"  # first_frame_image
    FIRST_LAST = "first + last frame"  # first_frame_image + last_frame_image
    SUBJECT = "subject reference"  # subject_reference


Pair = tuple[str, int]  # (resolution, duration in seconds)

RESOLUTIONS: tuple[str, ...] = ("512P", "720P", "768P", "1080P")  # §3 resolution
DURATIONS: tuple[int, ...] = (6, 10)  # §3 duration: "6 or 10 (default 6)"
DEFAULT_DURATION = 6
MAX_PROMPT_CHARS = 2000  # §3 prompt: "≤ 2000 characters"

# §3 first_frame_image (and last_frame_image / subject image: "same rules").
IMAGE_MIME_TYPES: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp")  # JPG/JPEG/PNG/WebP
IMAGE_MAX_BYTES = 20 * 1024 * 1024  # "< 20 MB": 20 MiB itself is refused
IMAGE_MIN_SHORT_SIDE = 300  # "short side > 300 px": 300 itself is refused
IMAGE_MIN_ASPECT = (2, 5)  # "aspect ratio between 2:5 and 5:2" (inclusive)
IMAGE_MAX_ASPECT = (5, 2)

# §3 fast_pretreatment, per endpoint: the t2v and i2v schemas list it; fl2v and s2v do not.
FAST_PRETREATMENT_MODES: frozenset[ApiMode] = frozenset({ApiMode.TEXT, ApiMode.FIRST_FRAME})
# §3 prompt: "required for text-to-video"; the i2v, fl2v and s2v schemas mark it optional.
PROMPT_REQUIRED_MODES: frozenset[ApiMode] = frozenset({ApiMode.TEXT})

SUBJECT_REFERENCE_TYPE = "character"  # [{"type": "character", "image": ["<one url>"]}]
SUBJECT_REFERENCE_IMAGES = 1


@dataclass(frozen=True)
class ApiModel:
    """What one model accepts, per the official matrix (§4)."""

    name: str
    pairs: dict[ApiMode, frozenset[Pair]]  # allowed (resolution, duration) per accepted mode
    default_resolution: str  # §3 resolution: 768P on Hailuo models, 720P on the 01 series
    # §4: "For the 01 series, safest is to omit duration and resolution" (S2V-01: "fixed"). The docs
    # do not say a sent value is refused, so the fake accepts only the fixed output's own values and
    # refuses any other; ``FakeMiniMax.strict_fixed_output`` refuses a resolution at all, and a
    # duration where the schema has no such field.
    fixed_output: bool
    fast_pretreatment: bool  # §3 fast_pretreatment: "Hailuo models only"
    camera_commands: bool  # §4 camera commands column (not enforced: the API ignores unknown brackets)
    # The official schemas: t2v, i2v and fl2v list ``duration`` (the 01 series: 6 only); s2v has no
    # duration field. The reseller spec marks duration required: its fake refuses a body without it.
    duration_field: bool = True

    @property
    def modes(self) -> frozenset[ApiMode]:
        return frozenset(self.pairs)


# §4 rows. Hailuo 6 s: 768P and 1080P; 10 s: 768P only ("1080P is 6 s only").
_HAILUO: frozenset[Pair] = frozenset({("768P", 6), ("1080P", 6), ("768P", 10)})
# §4 MiniMax-Hailuo-02: "+512P image→video" at 6 s and 10 s; §3 duration "or 512P on Hailuo-02 i2v".
_HAILUO_02_FIRST_FRAME: frozenset[Pair] = _HAILUO | {("512P", 6), ("512P", 10)}
# §3 last_frame_image: "first+last frame mode, MiniMax-Hailuo-02 only, 768P/1080P" (10 s at 768P).
_HAILUO_02_FIRST_LAST: frozenset[Pair] = _HAILUO
# §4 01 series: 720P, 6 s, no 10 s; S2V-01 "fixed (720P, 6 s)".
_FIXED_720_6: frozenset[Pair] = frozenset({("720P", 6)})


def _hailuo(name: str, pairs: dict[ApiMode, frozenset[Pair]]) -> ApiModel:
    return ApiModel(name, pairs, "768P", fixed_output=False, fast_pretreatment=True, camera_commands=True)


def _series_01(name: str, mode: ApiMode, *, camera: bool) -> ApiModel:
    return ApiModel(
        name,
        {mode: _FIXED_720_6},
        "720P",
        fixed_output=True,
        fast_pretreatment=False,
        camera_commands=camera,
        duration_field=mode is not ApiMode.SUBJECT,
    )


API_MODELS: dict[str, ApiModel] = {
    model.name: model
    for model in (
        _hailuo("MiniMax-Hailuo-2.3", {ApiMode.TEXT: _HAILUO, ApiMode.FIRST_FRAME: _HAILUO}),
        _hailuo("MiniMax-Hailuo-2.3-Fast", {ApiMode.FIRST_FRAME: _HAILUO}),  # image-to-video only
        _hailuo(
            "MiniMax-Hailuo-02",
            {
                ApiMode.TEXT: _HAILUO,
                ApiMode.FIRST_FRAME: _HAILUO_02_FIRST_FRAME,
                ApiMode.FIRST_LAST: _HAILUO_02_FIRST_LAST,
            },
        ),
        _series_01("T2V-01-Director", ApiMode.TEXT, camera=True),
        _series_01("T2V-01", ApiMode.TEXT, camera=False),
        _series_01("I2V-01-Director", ApiMode.FIRST_FRAME, camera=True),
        _series_01("I2V-01", ApiMode.FIRST_FRAME, camera=False),
        _series_01("I2V-01-live", ApiMode.FIRST_FRAME, camera=False),
        _series_01("S2V-01", ApiMode.SUBJECT, camera=False),
    )
}


def api_mode(*, first: bool, last: bool, subject: bool) -> ApiMode:
    """The mode a body asks for; a last frame without a first is refused before this is asked."""
    if subject:
        return ApiMode.SUBJECT
    if last:
        return ApiMode.FIRST_LAST
    if first:
        return ApiMode.FIRST_FRAME
    return ApiMode.TEXT


def aspect_allowed(width: int, height: int) -> bool:
    """2:5 ≤ width:height ≤ 5:2, in integers so the edges are exact."""
    low_w, low_h = IMAGE_MIN_ASPECT
    high_w, high_h = IMAGE_MAX_ASPECT
    return width * low_h >= low_w * height and width * high_h <= high_w * height


# ---------------------------------------------------------------------------------- V2 (MiniMax-H3)
# Transcribed from the V2 contract summary (the project's H3 notes: "The model" and "The V2
# endpoints"), which quotes MiniMax's V2 docs (video-generation-v2-create, -v2-query) and marks what
# only third parties say. MiniMax-H3-Max is third-party only; the fake accepts it as those describe.

V2_RATIOS: tuple[str, ...] = ("adaptive", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16")  # [doc]
V2_ADAPTIVE = "adaptive"  # text-only requests need a concrete ratio [3p]
V2_MAX_PROMPT_CHARS = 7000  # "Prompts can be long (about 7,000 characters)"
V2_IMAGE_ROLES: tuple[str, ...] = ("first_frame", "last_frame", "reference_image")
V2_KEYFRAME_ROLES: tuple[str, ...] = ("first_frame", "last_frame")
V2_ITEM_ROLES: dict[str, tuple[str, ...]] = {
    "image_url": V2_IMAGE_ROLES,
    "video_url": ("reference_video",),
    "audio_url": ("reference_audio",),
}
# Reference mode: "at most 9 images, 3 videos ... and 3 audio clips ..., 12 files in all".
V2_MAX_REFERENCES: dict[str, int] = {"reference_image": 9, "reference_video": 3, "reference_audio": 3}
V2_MAX_FILES = 12
V2_STATUSES: tuple[str, ...] = ("queued", "running", "succeeded", "failed", "cancelled")
V2_FPS = 24
# POST /v2/video_regeneration: "re-render an H3 768P result at 2K" [doc].
V2_REGENERATION_SOURCE = "768P"
V2_REGENERATION_TARGET = "2K"  # "H.264 video with native stereo audio (AAC), 24 fps"


@dataclass(frozen=True)
class V2Model:
    name: str
    resolutions: tuple[str, ...]
    durations: range
    references: bool  # takes reference mode
    keyframes: bool = True  # takes first_frame / last_frame


V2_MODELS: dict[str, V2Model] = {
    m.name: m
    for m in (
        V2Model("MiniMax-H3", ("768P", "2K"), range(4, 16), references=True),  # [doc]
        V2Model("MiniMax-H3-Max", ("480P", "768P"), range(5, 16), references=False),  # [3p]
    )
}


def v2_frames(seconds: int) -> int:
    """Frames a clip of ``seconds`` gets: the 17n+5 grid at 24 fps, so it runs a little longer [3p]."""
    wanted = seconds * V2_FPS
    n = max(0, -(-(wanted - 5) // 17))
    return 17 * n + 5
