"""A fake MiniMax video API on 127.0.0.1, faithful enough to catch what the real one would refuse.

It speaks both flavours the bot meets (see the project's API notes): the official API (bodies with
``task_id`` + ``base_resp``) and the reseller gateway (``/minimax`` prefix, ``{code, message, data}``
envelopes, upper-case statuses and ``"NN%"`` progress). It validates submissions against its own
table of the API's documented rules (``minimax_rules``, never the bot's model table), runs tasks on
a controllable clock, serves downloads from its own signed, expiring URLs, and lets each test
inject the faults a real deployment sees: rate limits, 5xx, slow answers, garbage, dropped
connections, moderation failures, tasks that never finish.

Usage::

    async with FakeMiniMax(flavour="reseller") as fake:
        client = MiniMaxClient(session, fake.api_key, fake.base_url)
        task_id = await client.submit(request)
        fake.clock.advance(120)
        info = await client.query(task_id)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import random
import re
import struct
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from aiohttp import web

from tests.fakes.minimax_rules import (
    API_MODELS,
    DEFAULT_DURATION,
    DURATIONS,
    FAST_PRETREATMENT_MODES,
    IMAGE_MAX_BYTES,
    IMAGE_MIME_TYPES,
    IMAGE_MIN_SHORT_SIDE,
    MAX_PROMPT_CHARS,
    PROMPT_REQUIRED_MODES,
    RESOLUTIONS,
    SUBJECT_REFERENCE_IMAGES,
    SUBJECT_REFERENCE_TYPE,
    V2_ADAPTIVE,
    V2_FPS,
    V2_ITEM_ROLES,
    V2_KEYFRAME_ROLES,
    V2_MAX_FILES,
    V2_MAX_PROMPT_CHARS,
    V2_MAX_REFERENCES,
    V2_MODELS,
    V2_RATIOS,
    V2_REGENERATION_SOURCE,
    V2_REGENERATION_TARGET,
    api_mode,
    aspect_allowed,
    v2_frames,
)
from tests.fakes.mp4 import make_mp4

Flavour = Literal["official", "reseller"]
# What the fake's prompt expansion appends to a prompt (tests recognise the expanded one by it).
EXPANSION_SUFFIX = "Cinematic lighting, slow dolly-in, rain on the lens, thunder in stereo."
ENDPOINTS = ("submit", "query", "retrieve", "download", "list", "cancel", "expand")
FaultKind = int | str  # HTTP status (< 600), API code (>= 1000), "slow", "malformed", "drop", "no_task_id"
_NAMED_FAULTS = ("slow", "malformed", "drop", "no_task_id")
# Faults that happen after the API acted: on submit the task exists although the client may not know.
_FAULTS_AFTER_HANDLING = ("slow", "malformed", "drop", "no_task_id")

_IMAGE_URL = re.compile(
    r"^(https?://\S+|data:image/(jpeg|png|webp);base64,[A-Za-z0-9+/=\s]+)$", re.IGNORECASE
)
_TRUNCATE = web.RequestKey("truncate", bool)
_MP4_HEADER = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
_FIRST_TASK_ID = 106916112212032
_FIRST_FILE_ID = 176844028768320
_SIZES = {
    "480P": (854, 480),
    "512P": (912, 512),
    "720P": (1280, 720),
    "768P": (1366, 768),
    "1080P": (1920, 1080),
    "2K": (2560, 1440),
}
# The V2 spelling of each stage of the fake's timeline.
_V2_STATUS = {
    "Preparing": "queued",
    "Queueing": "queued",
    "Processing": "running",
    "Success": "succeeded",
    "Fail": "failed",
}
_GATEWAY_STATUS = {
    "Preparing": "SUBMITTED",
    "Queueing": "QUEUED",
    "Processing": "IN_PROGRESS",
    "Success": "SUCCESS",
    "Fail": "FAILURE",
}
_CODE_MESSAGES = {
    1000: "unknown error",
    1001: "request timeout",
    1002: "rate limit exceeded, please try again later",
    1004: "login fail: Please carry the API secret key in the 'Authorization' field of the request header",
    1008: "insufficient balance",
    1013: "internal service error",
    1026: "input content involves sensitive content",
    1027: "output video involves sensitive content",
    1039: "token limit exceeded",
    1042: "too many invisible characters in the prompt",
    2013: "invalid params",
    2049: "invalid api key",
}


class FakeClock:
    """Fake wall-clock seconds: frozen and moved by ``advance``, or following real time × ``speed``."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._base = start
        self._speed: float | None = None
        self._anchor = 0.0

    def now(self) -> float:
        if self._speed is None:
            return self._base
        return self._base + (time.monotonic() - self._anchor) * self._speed

    def advance(self, seconds: float) -> None:
        self._base += seconds

    def follow_real_time(self, speed: float = 1.0) -> None:
        """From now on fake time runs ``speed`` times faster than real time (for e2e and benches)."""
        self._base = self.now()
        self._anchor = time.monotonic()
        self._speed = speed

    def freeze(self) -> None:
        self._base = self.now()
        self._speed = None

    def __float__(self) -> float:
        return self.now()


@dataclass
class TaskPlan:
    """How one task will run, in fake seconds."""

    preparing: float = 5.0
    queueing: float = 10.0
    processing: float = 45.0
    fail_code: int | None = None  # non-None: the task ends in Fail; 0 means Fail with base_resp 0
    fail_message: str | None = None
    never_finish: bool = False
    download_size: int | None = None

    @property
    def total(self) -> float:
        return self.preparing + self.queueing + self.processing


@dataclass
class FakeTask:
    task_id: str
    file_id: int
    body: dict[str, Any]
    created_at: float
    plan: TaskPlan
    v2: bool = False
    content: bytes | None = None  # a V2 task's real MP4 (H.264 + AAC); V1 is made at download
    cancelled: bool = False
    # The wall-clock moment it was created: what the V2 list reports as ``created_at`` (the fake's
    # own clock starts in 2023 and may run fast; the list is matched against the bot's real clock).
    created_wall: float = field(default_factory=time.time)

    def official_status(self, now: float) -> str:
        if self.cancelled:
            return "Cancelled"
        elapsed = now - self.created_at
        plan = self.plan
        if plan.fail_code == 1026 and elapsed >= plan.preparing:
            return "Fail"  # input moderation ends the task before it queues
        if elapsed < plan.preparing:
            return "Preparing"
        if elapsed < plan.preparing + plan.queueing:
            return "Queueing"
        if plan.never_finish or elapsed < plan.total:
            return "Processing"
        return "Fail" if plan.fail_code is not None else "Success"

    def progress(self, now: float) -> int:
        status = self.official_status(now)
        if status in ("Success", "Fail"):
            return 100
        if status != "Processing":
            return 0
        done = now - self.created_at - self.plan.preparing - self.plan.queueing
        return max(0, min(99, int(100 * done / max(self.plan.processing, 1e-9))))

    @property
    def size(self) -> tuple[int, int]:
        spec = API_MODELS.get(str(self.body.get("model")))
        resolution = self.body.get("resolution") or (spec.default_resolution if spec else "768P")
        return _SIZES.get(str(resolution), (1366, 768))


@dataclass
class Fault:
    kind: FaultKind
    times: int
    retry_after: float | None = None
    delay: float = 5.0
    message: str | None = None


@dataclass
class RecordedRequest:
    endpoint: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any = None
    at: float = field(default_factory=time.time)  # when it arrived (wall clock): the account's RPM


@dataclass
class _RandomFaults:
    rate: float
    rng: random.Random
    kinds: tuple[FaultKind, ...]
    endpoints: tuple[str, ...]
    slow_delay: float


def validate_submission(
    body: object, *, strict_fixed_output: bool = False, require_duration: bool = False
) -> str | None:
    """What the real API would say (2013) about a submit body, or None when it is acceptable.

    The rules are the fake's own (``tests.fakes.minimax_rules``, from the API documentation), not the
    bot's table, so a wrong table in the bot is refused here as MiniMax would refuse it.
    ``require_duration`` is a reseller enforcing its spec's "duration: required" wherever the
    official schema has the field.
    """
    if not isinstance(body, dict):
        return "invalid params, the body must be a JSON object"
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return "invalid params, model is required"
    spec = API_MODELS.get(model)
    if spec is None:
        return f"invalid params, model {model} is not supported"
    first, last = body.get("first_frame_image"), body.get("last_frame_image")
    subject = body.get("subject_reference")
    for name, value in (("first_frame_image", first), ("last_frame_image", last)):
        if value is not None:
            problem = _check_image(name, value)
            if problem:
                return problem
    if subject is not None:
        problem = _check_subject(subject)
        if problem:
            return problem
    if last is not None and first is None:
        return "invalid params, last_frame_image requires first_frame_image"
    mode = api_mode(first=first is not None, last=last is not None, subject=subject is not None)
    if mode not in spec.modes:
        return f"invalid params, model {model} does not support {mode}"
    prompt = body.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        return "invalid params, prompt must be a string"
    if prompt is not None and len(prompt) > MAX_PROMPT_CHARS:
        return f"invalid params, prompt exceeds {MAX_PROMPT_CHARS} characters"
    if mode in PROMPT_REQUIRED_MODES and not (prompt or "").strip():
        return f"invalid params, prompt is required for {mode}"
    duration, resolution = body.get("duration"), body.get("resolution")
    if duration is not None and not spec.duration_field:
        return f"invalid params, model {model} has a fixed output and no duration field: omit duration"
    if duration is None and spec.duration_field and require_duration:
        return "invalid params, duration is required"
    if duration is not None and (isinstance(duration, bool) or duration not in DURATIONS):
        return f"invalid params, duration must be one of {', '.join(map(str, DURATIONS))}"
    if resolution is not None and resolution not in RESOLUTIONS:
        return f"invalid params, resolution must be one of {', '.join(RESOLUTIONS)}"
    if duration is not None or resolution is not None:
        pair = (str(resolution or spec.default_resolution), int(duration or DEFAULT_DURATION))
        if pair not in spec.pairs[mode]:
            return f"invalid params, model {model} does not support {pair[0]} at {pair[1]} s for {mode}"
        if strict_fixed_output and spec.fixed_output and resolution is not None:
            return f"invalid params, model {model} has a fixed output: omit resolution"
    for flag in ("prompt_optimizer", "fast_pretreatment"):
        if flag in body and not isinstance(body[flag], bool):
            return f"invalid params, {flag} must be a boolean"
    if body.get("fast_pretreatment") and not spec.fast_pretreatment:
        return f"invalid params, fast_pretreatment is not supported by model {model}"
    if "fast_pretreatment" in body and mode not in FAST_PRETREATMENT_MODES:
        return f"invalid params, fast_pretreatment is not a field of {mode}"
    return None


def validate_v2_regeneration(body: object) -> str | None:
    """What ``POST /v2/video_regeneration`` would say about a body: a model that makes 2K, one text
    item and exactly one ``video_url`` item with role ``base_video``, nothing else."""
    if not isinstance(body, dict):
        return "invalid params, the body must be a JSON object"
    model = V2_MODELS.get(str(body.get("model")))
    if model is None or V2_REGENERATION_TARGET not in model.resolutions:
        return f"invalid params, model {body.get('model')} cannot regenerate at {V2_REGENERATION_TARGET}"
    content = body.get("content")
    if not isinstance(content, list):
        return "invalid params, content must be a list"
    texts = [i for i in content if isinstance(i, dict) and i.get("type") == "text"]
    bases = [
        i for i in content
        if isinstance(i, dict) and i.get("type") == "video_url" and i.get("role") == "base_video"
    ]  # fmt: skip
    if len(texts) != 1 or len(bases) != 1 or len(content) != 2:
        return "invalid params, content must hold one text item and one base_video item"
    extra = set(body) - {"model", "content", "callback_url", "aigc_watermark"}
    if extra:
        return f"invalid params, unexpected fields {', '.join(sorted(extra))}"
    return None


def validate_v2_submission(body: object) -> str | None:
    """What the V2 API would say (2013) about a ``POST /v2/video_generation`` body, or None.

    From the fake's own V2 table (``minimax_rules``): one text item, media items with a documented
    type and role, keyframes and references not mixed, the reference counts, audio only together
    with an image or a video, and each model's resolutions, durations and ratios.
    """
    if not isinstance(body, dict):
        return "invalid params, the body must be a JSON object"
    model = V2_MODELS.get(str(body.get("model")))
    if model is None:
        return f"invalid params, model {body.get('model')} is not supported on /v2/video_generation"
    content = body.get("content")
    if not isinstance(content, list) or not content:
        return "invalid params, content must be a non-empty list"
    texts = [item for item in content if isinstance(item, dict) and item.get("type") == "text"]
    if len(texts) != 1 or not isinstance(texts[0].get("text"), str):
        return "invalid params, content must hold exactly one text item"
    prompt = texts[0]["text"]
    if len(prompt) > V2_MAX_PROMPT_CHARS:
        return f"invalid params, text exceeds {V2_MAX_PROMPT_CHARS} characters"
    roles: list[str] = []
    for item in content:
        if not isinstance(item, dict):
            return "invalid params, each content item must be an object"
        kind = item.get("type")
        if kind == "text":
            continue
        allowed = V2_ITEM_ROLES.get(str(kind))
        if allowed is None:
            return f"invalid params, content type {kind} is not supported"
        url = (item.get(str(kind)) or {}).get("url") if isinstance(item.get(str(kind)), dict) else None
        if not isinstance(url, str) or not url:
            return f"invalid params, {kind}.url is required"
        if item.get("role") not in allowed:
            return f"invalid params, role {item.get('role')} is not allowed for {kind}"
        if kind == "image_url":
            problem = _check_image(str(item["role"]), url)
            if problem:
                return problem
        roles.append(str(item["role"]))
    keyframes = [r for r in roles if r in V2_KEYFRAME_ROLES]
    references = [r for r in roles if r not in V2_KEYFRAME_ROLES]
    if keyframes and references:
        return "invalid params, keyframe roles and reference roles cannot be mixed"
    if len(keyframes) != len(set(keyframes)):
        return "invalid params, each keyframe role may appear once"
    if references and not model.references:
        return f"invalid params, model {model.name} does not support reference mode"
    counts = Counter(references)
    for role, most in V2_MAX_REFERENCES.items():
        if counts[role] > most:
            return f"invalid params, at most {most} {role} items"
    if len(references) > V2_MAX_FILES:
        return f"invalid params, at most {V2_MAX_FILES} reference files"
    if counts["reference_audio"] and not (counts["reference_image"] or counts["reference_video"]):
        return "invalid params, reference_audio requires a reference_image or reference_video"
    if not roles and not prompt.strip():
        return "invalid params, text is required for text-to-video"
    resolution, duration, ratio = body.get("resolution"), body.get("duration"), body.get("ratio")
    if resolution is not None and resolution not in model.resolutions:
        return f"invalid params, resolution must be one of {', '.join(model.resolutions)} for {model.name}"
    if duration is not None and (isinstance(duration, bool) or duration not in model.durations):
        first, last = model.durations[0], model.durations[-1]
        return f"invalid params, duration must be {first}-{last} for {model.name}"
    if ratio is not None and ratio not in V2_RATIOS:
        return f"invalid params, ratio must be one of {', '.join(V2_RATIOS)}"
    if not roles and (ratio is None or ratio == V2_ADAPTIVE):
        return "invalid params, a text-only request needs a concrete ratio"
    return None


def _check_image(name: str, value: object) -> str | None:
    """The documented image rules; only a ``data:`` URL's bytes can be checked without fetching."""
    if not isinstance(value, str) or not _IMAGE_URL.match(value):
        return f"invalid params, {name} must be a public URL or a data:image/...;base64, URL"
    if not value.lower().startswith("data:"):
        return None  # the real API fetches it; the fake takes a public URL on trust
    header, _, encoded = value.partition(",")
    try:
        data = base64.b64decode("".join(encoded.split()), validate=True)
    except ValueError:
        return f"invalid params, {name} is not valid base64"
    if len(data) >= IMAGE_MAX_BYTES:
        return f"invalid params, {name} must be under 20 MB"
    facts = sniff_image(data)
    if facts is None:
        return None  # too short to tell (a signature only): tolerate, as the docs do not say
    mime, size = facts
    if mime not in IMAGE_MIME_TYPES or not header.lower().startswith(f"data:{mime}"):
        return f"invalid params, {name} must be a JPG, PNG or WebP image matching its data URL type"
    if size is None:
        return None
    width, height = size
    if min(width, height) <= IMAGE_MIN_SHORT_SIDE:
        return f"invalid params, {name} short side must be over {IMAGE_MIN_SHORT_SIDE} px"
    if not aspect_allowed(width, height):
        return f"invalid params, {name} aspect ratio must be between 2:5 and 5:2"
    return None


def _check_subject(subject: object) -> str | None:
    problem = "invalid params, subject_reference must be [{type: character, image: [one url]}]"
    if not isinstance(subject, list) or len(subject) != 1 or not isinstance(subject[0], dict):
        return problem
    entry = subject[0]
    images = entry.get("image")
    if (
        entry.get("type") != SUBJECT_REFERENCE_TYPE
        or not isinstance(images, list)
        or len(images) != SUBJECT_REFERENCE_IMAGES
    ):
        return problem
    return _check_image("subject_reference image", images[0])


def sniff_image(data: bytes) -> tuple[str, tuple[int, int] | None] | None:
    """(MIME type, (width, height) when readable) from an image's bytes, or None if unrecognised."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        if len(data) >= 24 and data[12:16] == b"IHDR":
            return "image/png", struct.unpack(">II", data[16:24])
        return "image/png", None
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", _jpeg_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", _webp_size(data)
    if data.startswith((b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")):
        return "image/other", None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    at = 2
    while at + 9 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + struct.unpack(">H", data[at + 2 : at + 4])[0]
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8X" and len(data) >= 30:
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    return None


def video_bytes(file_id: int | str, size: int) -> bytes:
    """A corrupt MP4 for ``file_id``: an ``ftyp`` box (so it passes a sniff), then a fixed pattern
    and no movie. What the fake serves with ``v1_video = "corrupt"``."""
    return _video_slice(int(file_id), 0, size)


def _video_slice(file_id: int, start: int, end: int, head: bytes = _MP4_HEADER) -> bytes:
    """Bytes ``start:end`` of ``head`` followed by ``file_id``'s fixed pattern."""
    first = head[start:end] if start < len(head) else b""
    body_start = max(start, len(head))
    if end <= body_start:
        return first
    pattern = hashlib.sha256(str(file_id).encode()).digest() * 8  # 256 bytes
    offset = (body_start - len(head)) % len(pattern)
    length = end - body_start
    repeated = pattern * (length // len(pattern) + 2)
    return first + repeated[offset : offset + length]


def padded_mp4_head(mp4: bytes, size: int) -> bytes | None:
    """``mp4`` and the header of one ``free`` box that takes the file to ``size`` bytes (players and
    FFmpeg skip ``free`` boxes, so the file plays and is exactly as big as a test asked); None
    when ``size`` leaves no room for the box."""
    pad = size - len(mp4)
    if pad < 8 or pad >= 2**32:
        return None
    return mp4 + struct.pack(">I4s", pad, b"free")


# What a V1 download serves: a real MP4 (the default), a corrupt one (an ftyp box, then no movie),
# or something that is not an MP4 at all (no ftyp box: the client's sniff refuses it).
V1Video = Literal["mp4", "corrupt", "not_mp4"]


class FakeMiniMax:
    """The fake server. See the module docstring; every knob is a plain attribute or method."""

    def __init__(
        self,
        flavour: Flavour = "official",
        api_key: str = "test-key",
        *,
        clock: FakeClock | None = None,
        speed: float | None = None,
        plan: TaskPlan | None = None,
        download_size: int = 64 * 1024,
        url_ttl: float = 3600.0,
        auth_failure: Literal["base_resp", "http401"] | None = None,
        reseller_official_submit: bool = False,
        seed: int = 0,
    ) -> None:
        if flavour not in ("official", "reseller"):
            raise ValueError(f"unknown flavour {flavour!r}")
        self.flavour: Flavour = flavour
        self.api_key = api_key
        self.clock = clock or FakeClock()
        if speed is not None:
            self.clock.follow_real_time(speed)
        self.plan = plan or TaskPlan()
        self.download_size = download_size
        self.url_ttl = url_ttl
        self.auth_failure = auth_failure or ("base_resp" if flavour == "official" else "http401")
        self.reseller_official_submit = reseller_official_submit
        self.download_content_length = True  # False: chunked downloads without Content-Length
        self.v2_content: bytes | None = None  # set: every new V2 task serves these bytes (a test's MP4)
        # V1 downloads: a real silent H.264 MP4 of the asked duration (tiny, made once per duration
        # and padded to the download size with a ``free`` box), or a fault: see :data:`V1Video`.
        self.v1_video: V1Video = "mp4"
        # Where the download URLs handed out point (None: this server). A test points them at a
        # host the bot must refuse; this server still answers them when they reach it.
        self.download_root: str | None = None
        # When set, every download serves these bytes instead of the video (an HTML page, say).
        self.download_body: bytes | None = None
        # The docs say the 01 series is "safest" without duration/resolution; strict refuses them.
        self.strict_fixed_output = True
        # The reseller spec marks duration required; a reseller enforcing it refuses V1 bodies
        # without one wherever the official schema has the field (the lifecycle harness turns it on).
        self.require_duration = False
        self.sensitive_rate = 0.0
        self.counts: Counter[str] = Counter()
        self.submissions: list[Any] = []
        self.requests: list[RecordedRequest] = []
        self.tasks: dict[str, FakeTask] = {}
        self.expansions: dict[str, tuple[float, str]] = {}  # prompt expansions: (created, prompt)
        self._rng = random.Random(seed)
        self._faults: dict[str, list[Fault]] = {endpoint: [] for endpoint in ENDPOINTS}
        self._random_faults: _RandomFaults | None = None
        self._next_plans: list[TaskPlan] = []
        self._files: dict[int, FakeTask] = {}
        self._size_overrides: dict[int, int] = {}
        self._valid_tokens: set[str] = set()
        self._secret = uuid.uuid4().hex
        self._task_ids = itertools.count(_FIRST_TASK_ID, 7919)
        self._file_ids = itertools.count(_FIRST_FILE_ID, 104729)
        self._changed: asyncio.Condition | None = None
        self._closing: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        # Push notifications: a submit's callback_url is challenged, then told of the task's end.
        # The fake only ever calls 127.0.0.1: ``callback_target`` stands in for the public URL.
        self.callback_target: str | None = None
        self.callback_echo_ok = True  # False: the bot's answer to the challenge is taken as wrong
        self.push_copies = 1  # how many times each status push is sent
        self.pushes_sent = 0
        self.challenges_sent = 0
        self._push_jobs: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------------------ life cycle

    async def __aenter__(self) -> FakeMiniMax:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        self._changed = asyncio.Condition()
        self._closing = asyncio.Event()
        app = web.Application()
        for prefix in ("", "/minimax"):
            app.router.add_post(f"{prefix}/v1/video_generation", self._route("submit", self._submit))
            app.router.add_get(f"{prefix}/v1/query/video_generation", self._route("query", self._query))
            app.router.add_get(f"{prefix}/v1/files/retrieve", self._route("retrieve", self._retrieve))
            app.router.add_post(f"{prefix}/v2/video_generation", self._route("submit", self._submit_v2))
            app.router.add_get(
                f"{prefix}/v2/query/video_generation/{{task_id}}", self._route("query", self._query_v2)
            )
            app.router.add_get(f"{prefix}/v2/query/video_generation", self._route("list", self._list_v2))
            app.router.add_post(f"{prefix}/v2/h3_context_ir", self._route("expand", self._expand_v2))
            app.router.add_post(f"{prefix}/v2/video_regeneration", self._route("submit", self._regenerate_v2))
            app.router.add_delete(
                f"{prefix}/v2/video_generation/{{task_id}}", self._route("cancel", self._cancel_v2)
            )
        app.router.add_get("/download/{file_id}", self._route("download", self._download))
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        if self._closing is not None:
            self._closing.set()
        for job in list(self._push_jobs):
            job.cancel()
        for job in list(self._push_jobs):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await job
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The base the client should be configured with for this flavour."""
        return self.root_url + ("/minimax" if self.flavour == "reseller" else "")

    # ------------------------------------------------------------------------------ test knobs

    def inject(
        self,
        endpoint: str,
        kind: FaultKind,
        *,
        times: int = 1,
        retry_after: float | None = None,
        delay: float = 5.0,
        message: str | None = None,
    ) -> None:
        """Make the next ``times`` requests to ``endpoint`` misbehave.

        ``kind``: an HTTP status (< 600; 429 sends ``Retry-After`` when given; the body is an HTML
        page, or ``message``, or nothing at all when ``message=""``), an API code
        (>= 1000, answered in the flavour's shape), ``"slow"`` (answer after ``delay`` real seconds),
        ``"malformed"`` (invalid JSON; a truncated body on downloads), ``"drop"`` (read the request,
        then close the connection), ``"no_task_id"`` (success without a task id). The last four
        happen *after* the request was handled: a submit still creates its task.
        """
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}")
        _check_kind(kind)
        self._faults[endpoint].append(Fault(kind, times, retry_after, delay, message))

    def clear_faults(self) -> None:
        for queue in self._faults.values():
            queue.clear()
        self._random_faults = None

    def random_faults(
        self,
        rate: float = 0.2,
        *,
        seed: int = 0,
        kinds: Iterable[FaultKind] = (429, 500, 503, "slow", "malformed"),
        endpoints: Iterable[str] = ENDPOINTS,
        slow_delay: float = 0.05,
    ) -> None:
        """Each request fails with probability ``rate`` with one of ``kinds`` (seeded; for soak tests)."""
        kinds = tuple(kinds)
        for kind in kinds:
            _check_kind(kind)
        self._random_faults = _RandomFaults(rate, random.Random(seed), kinds, tuple(endpoints), slow_delay)

    def next_task(
        self,
        *,
        preparing: float | None = None,
        queueing: float | None = None,
        processing: float | None = None,
        fail_code: int | None = None,
        fail_message: str | None = None,
        never_finish: bool = False,
        download_size: int | None = None,
    ) -> None:
        """Plan the next created task (queued: calling twice plans the next two)."""
        self._next_plans.append(
            TaskPlan(
                preparing=self.plan.preparing if preparing is None else preparing,
                queueing=self.plan.queueing if queueing is None else queueing,
                processing=self.plan.processing if processing is None else processing,
                fail_code=fail_code,
                fail_message=fail_message,
                never_finish=never_finish,
                download_size=download_size,
            )
        )

    def fail_next_task(self, code: int = 1027, message: str | None = None) -> None:
        """The next task ends in ``Fail`` with ``base_resp`` ``code`` (0: Fail with a message only)."""
        self.next_task(fail_code=code, fail_message=message)

    def never_finish_next_task(self) -> None:
        self.next_task(never_finish=True)

    def set_download_size(self, file_id: int | str, size: int) -> None:
        self._size_overrides[int(file_id)] = size

    def expire_urls(self) -> None:
        """Every download URL handed out so far now answers 403, as after the real ~1-9 h expiry."""
        self._valid_tokens.clear()

    def finish_all(self) -> None:
        """Move the clock past the end of every task that can finish."""
        now = self.clock.now()
        ends = [t.created_at + t.plan.total - now for t in self.tasks.values() if not t.plan.never_finish]
        if ends and max(ends) > 0:
            self.clock.advance(max(ends) + 0.001)

    def task_status(self, task_id: str) -> str:
        """The official status spelling a query would answer now."""
        return self.tasks[task_id].official_status(self.clock.now())

    def file_size(self, file_id: int | str) -> int:
        file_int = int(file_id)
        task = self._files.get(file_int)
        if task is not None and task.content is not None and file_int not in self._size_overrides:
            return len(task.content)
        planned = task.plan.download_size if task is not None else None
        return self._size_overrides.get(file_int, planned if planned is not None else self.download_size)

    def file_bytes(self, file_id: int | str) -> bytes:
        """What a download of ``file_id`` returns (for assertions on the written file)."""
        task = self._files.get(int(file_id))
        if task is not None and task.content is not None and int(file_id) not in self._size_overrides:
            return task.content
        return self._v1_slice(int(file_id), 0, self.file_size(file_id))

    def _v1_slice(self, file_id: int, start: int, end: int) -> bytes:
        """Bytes ``start:end`` of what a V1 download of ``file_id`` serves (see ``v1_video``)."""
        if self.v1_video == "not_mp4":
            return _video_slice(file_id, start, end, head=b"")
        task = self._files.get(file_id)
        if self.v1_video == "mp4" and task is not None:
            seconds = int(task.body.get("duration") or DEFAULT_DURATION)
            head = padded_mp4_head(make_mp4(seconds * 24, audio=False), self.file_size(file_id))
            if head is not None:
                return _video_slice(file_id, start, end, head=head)
        return _video_slice(file_id, start, end)

    async def wait_for_count(self, endpoint: str, count: int, *, within: float = 5.0) -> None:
        """Wait until ``endpoint`` has received ``count`` requests (no sleeps in tests)."""
        assert self._changed is not None, "start the fake first"
        changed = self._changed

        async def reached() -> None:
            async with changed:
                await changed.wait_for(lambda: self.counts[endpoint] >= count)

        await asyncio.wait_for(reached(), within)

    # ------------------------------------------------------------------------------ plumbing

    def _route(
        self, endpoint: str, inner: Callable[[web.Request, Any], Awaitable[web.StreamResponse]]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            body: Any = None
            if request.method == "POST":
                raw = await request.read()
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", errors="replace")
            self.requests.append(
                RecordedRequest(
                    endpoint, request.method, request.path, dict(request.query), dict(request.headers), body
                )
            )
            self.counts[endpoint] += 1
            if endpoint == "submit":
                self.submissions.append(body)
            await self._notify()
            fault = self._take_fault(endpoint)
            if fault is not None and fault.kind not in _FAULTS_AFTER_HANDLING:
                return self._fault_answer(endpoint, fault)
            if fault is not None and endpoint == "download":
                # A download has no "after handling": misbehave before or while streaming instead.
                await self._download_fault(request, fault)
                fault = None
            if endpoint != "download" and not self._authorised(request):
                return self._auth_failure(endpoint)
            response = await inner(request, body)
            if fault is None:
                return response
            return await self._late_fault(request, endpoint, fault, response)

        return handler

    async def _notify(self) -> None:
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()

    def _take_fault(self, endpoint: str) -> Fault | None:
        queue = self._faults[endpoint]
        if queue:
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            return fault
        chaos = self._random_faults
        if (
            chaos is not None
            and endpoint in chaos.endpoints
            and chaos.kinds
            and chaos.rng.random() < chaos.rate
        ):
            kind = chaos.rng.choice(chaos.kinds)
            if endpoint == "download" and isinstance(kind, int) and kind >= 1000:
                kind = 500
            return Fault(kind, 1, retry_after=1.0 if kind == 429 else None, delay=chaos.slow_delay)
        return None

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization", "") == f"Bearer {self.api_key}"

    def _auth_failure(self, endpoint: str) -> web.Response:
        if self.auth_failure == "http401":
            return web.json_response(
                {"error": {"message": "Invalid token", "type": "new_api_error"}}, status=401
            )
        return self._code_answer(endpoint, 1004, None)

    def _fault_answer(self, endpoint: str, fault: Fault) -> web.Response:
        kind = fault.kind
        assert isinstance(kind, int)
        if kind >= 1000:
            return self._code_answer(endpoint, kind, fault.message)
        headers = {}
        if kind == 429 and fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        if fault.message == "":
            return web.Response(status=kind, headers=headers)  # no body at all, as a bare balancer answers
        reason = fault.message or f"<html><body><h1>{kind}</h1>injected failure</body></html>"
        return web.Response(status=kind, text=reason, content_type="text/html", headers=headers)

    async def _pause(self, seconds: float) -> None:
        """Sleep, but let close() end it at once so a slow answer never holds up shutdown."""
        assert self._closing is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    @staticmethod
    def _hang_up(request: web.Request) -> None:
        assert request.transport is not None
        request.transport.close()
        raise asyncio.CancelledError  # nothing more can be sent on a closed connection

    async def _download_fault(self, request: web.Request, fault: Fault) -> None:
        if fault.kind == "slow":
            await self._pause(fault.delay)
        elif fault.kind == "drop":
            self._hang_up(request)
        elif fault.kind == "malformed":
            request[_TRUNCATE] = True

    async def _late_fault(
        self, request: web.Request, endpoint: str, fault: Fault, response: web.StreamResponse
    ) -> web.StreamResponse:
        if fault.kind == "slow":
            await self._pause(fault.delay)
            return response
        if fault.kind == "drop":
            self._hang_up(request)
        if fault.kind == "malformed":
            return web.Response(text='{"task_id": "1069161122', content_type="application/json")
        # no_task_id
        if endpoint == "submit" and self._reseller_envelope_submit():
            return web.json_response(self._envelope(0, "success", {"task_status": "Queueing"}))
        return web.json_response({"base_resp": _base_resp(0, "success")})

    def _reseller_envelope_submit(self) -> bool:
        return self.flavour == "reseller" and not self.reseller_official_submit

    def _envelope(self, code: int | str, message: str, data: Any) -> dict[str, Any]:
        return {"code": code, "message": message, "request_id": uuid.uuid4().hex, "data": data}

    def _code_answer(self, endpoint: str, code: int, message: str | None) -> web.Response:
        message = message or _CODE_MESSAGES.get(code, f"error {code}")
        if endpoint in ("query", "list", "cancel") and self.flavour == "reseller":
            return web.json_response(self._envelope(code, message, None))
        if endpoint == "submit" and self._reseller_envelope_submit():
            return web.json_response(self._envelope(code, message, None))
        body: dict[str, Any] = {"base_resp": _base_resp(code, message)}
        if endpoint == "submit":
            body["task_id"] = ""
        return web.json_response(body)

    # ------------------------------------------------------------------------------ endpoints

    async def _submit(self, request: web.Request, body: Any) -> web.Response:
        problem = validate_submission(
            body, strict_fixed_output=self.strict_fixed_output, require_duration=self.require_duration
        )
        if problem is None:
            problem = await self._challenge(body)
        if problem is not None:
            return self._code_answer("submit", 2013, problem)
        task = self._create_task(body)
        if self._reseller_envelope_submit():
            now = int(self.clock.now())
            data = {"task_id": task.task_id, "task_status": "Queueing", "created_at": now, "updated_at": now}
            return web.json_response(self._envelope(0, "success", data))
        return web.json_response({"task_id": task.task_id, "base_resp": _base_resp(0, "success")})

    async def _submit_v2(self, request: web.Request, body: Any) -> web.Response:
        problem = validate_v2_submission(body)
        if problem is None:
            problem = await self._challenge(body)
        if problem is not None:
            return self._code_answer("submit", 2013, problem)
        task = self._create_task(body, v2=True)
        if self._reseller_envelope_submit():
            return web.json_response(self._envelope(0, "success", {"task_id": task.task_id}))
        return web.json_response({"task_id": task.task_id, "base_resp": _base_resp(0, "success")})

    async def _regenerate_v2(self, request: web.Request, body: Any) -> web.Response:
        """``POST /v2/video_regeneration``: a 768P H3 result re-rendered at 2K. ``content`` is one
        text item and one ``video_url`` item with role ``base_video`` [doc]; the new task runs as
        long as the base video (a download of this fake), at 2K."""
        problem = validate_v2_regeneration(body)
        if problem is not None:
            return self._code_answer("submit", 2013, problem)
        url = next(i["video_url"]["url"] for i in body["content"] if i.get("type") == "video_url")
        base = self._task_of_download(str(url))
        if base is None:
            return self._code_answer("submit", 2013, "invalid params, base_video could not be fetched")
        if base.body.get("resolution") != V2_REGENERATION_SOURCE:
            return self._code_answer("submit", 2013, "invalid params, base_video must be a 768P result")
        made = {**body, "duration": base.body.get("duration"), "resolution": V2_REGENERATION_TARGET}
        task = self._create_task(made, v2=True)
        if self._reseller_envelope_submit():
            return web.json_response(self._envelope(0, "success", {"task_id": task.task_id}))
        return web.json_response({"task_id": task.task_id, "base_resp": _base_resp(0, "success")})

    def _task_of_download(self, url: str) -> FakeTask | None:
        """The task whose video ``url`` (one of this fake's download URLs) serves."""
        match = re.search(r"/download/(\d+)", url)
        return self._files.get(int(match.group(1))) if match else None

    async def _expand_v2(self, request: web.Request, body: Any) -> web.Response:
        """``POST /v2/h3_context_ir``: the create body's rules; an expansion task, done after the
        plan's preparing time, whose query answer names ``content.prompt``."""
        problem = validate_v2_submission(body)
        if problem is not None:
            return self._code_answer("submit", 2013, problem)
        task_id = str(next(self._task_ids))
        text = next(i["text"] for i in body["content"] if i.get("type") == "text")
        self.expansions[task_id] = (self.clock.now(), f"{text}. {EXPANSION_SUFFIX}")
        if self._reseller_envelope_submit():
            return web.json_response(self._envelope(0, "success", {"task_id": task_id}))
        return web.json_response({"task_id": task_id, "base_resp": _base_resp(0, "success")})

    def _expansion_answer(self, task_id: str) -> dict[str, Any]:
        created, expanded = self.expansions[task_id]
        if self.clock.now() < created + self.plan.preparing:
            return {"task_id": task_id, "status": "running"}
        return {"task_id": task_id, "status": "succeeded", "content": {"prompt": expanded}}

    async def _query_v2(self, request: web.Request, body: Any) -> web.Response:
        if request.match_info["task_id"] in self.expansions:
            answer = self._expansion_answer(request.match_info["task_id"])
            if self.flavour == "reseller":
                return web.json_response(self._envelope(0, "success", {"task": answer}))
            return web.json_response({"task": answer, "base_resp": _base_resp(0, "success")})
        task = self.tasks.get(request.match_info["task_id"])
        if task is None or not task.v2:
            return self._code_answer("query", 2013, "invalid params, task not found")
        answer = self._v2_task(task)
        if self.flavour == "reseller":
            return web.json_response(self._envelope(0, "success", {"task": answer}))
        return web.json_response({"task": answer, "base_resp": _base_resp(0, "success")})

    async def _list_v2(self, request: web.Request, body: Any) -> web.Response:
        """The account's recent V2 tasks, newest first, a page at a time."""
        page = max(1, int(request.query.get("page_num", "1") or 1))
        size = max(1, min(100, int(request.query.get("page_size", "20") or 20)))
        # Newest first; tasks created at the same fake moment, the later-made first.
        newest = sorted(reversed([t for t in self.tasks.values() if t.v2]), key=lambda t: -t.created_at)
        tasks = [self._listed_v2_task(t) for t in newest[(page - 1) * size : page * size]]
        data = {"tasks": tasks, "total": len(newest), "page_num": page, "page_size": size}
        if self.flavour == "reseller":
            return web.json_response(self._envelope(0, "success", data))
        return web.json_response({**data, "base_resp": _base_resp(0, "success")})

    def _listed_v2_task(self, task: FakeTask) -> dict[str, Any]:
        """A list entry: the task's query answer, its creation time on the wall clock and the prompt
        it was asked with (the list's entry shape is not documented: this is the likely one)."""
        texts = [i.get("text") for i in task.body.get("content", []) if i.get("type") == "text"]
        return {
            **self._v2_task(task),
            "created_at": int(task.created_wall),
            "prompt": texts[0] if texts else "",
        }

    async def _cancel_v2(self, request: web.Request, body: Any) -> web.Response:
        """``DELETE /v2/video_generation/{id}``: a queued task is cancelled (and not billed); a running
        one is refused; a finished one's record is deleted [3p]."""
        task = self.tasks.get(request.match_info["task_id"])
        if task is None or not task.v2:
            return self._code_answer("cancel", 2013, "invalid params, task not found")
        status = task.official_status(self.clock.now())
        if status in ("Preparing", "Queueing"):
            task.cancelled = True
        elif status == "Processing":
            return self._code_answer("cancel", 2013, "invalid params, a running task cannot be cancelled")
        else:
            del self.tasks[task.task_id]
        if self.flavour == "reseller":
            return web.json_response(self._envelope(0, "success", {"task_id": task.task_id}))
        return web.json_response({"task_id": task.task_id, "base_resp": _base_resp(0, "success")})

    def _v2_task(self, task: FakeTask) -> dict[str, Any]:
        status = task.official_status(self.clock.now())
        answer: dict[str, Any] = {
            "task_id": task.task_id,
            "model": task.body.get("model"),
            "status": "cancelled" if status == "Cancelled" else _V2_STATUS[status],
            "created_at": int(task.created_at),
        }
        if status == "Success":
            answer["content"] = {"url": self._download_url(task)}
            seconds = v2_frames(int(task.body.get("duration") or 6)) / V2_FPS
            images = sum(1 for item in task.body["content"] if item.get("role") == "reference_image")
            answer["usage"] = {
                "output_seconds": round(seconds, 3),
                "input_seconds": 0,
                "input_image_count": images,
            }
        if status == "Fail":
            code = task.plan.fail_code or 0
            message = task.plan.fail_message or _CODE_MESSAGES.get(code, "video generation failed")
            answer["error"] = {"code": code, "message": message}
        return answer

    def cancel(self, task_id: str) -> None:
        """The task ends ``cancelled`` (as after ``DELETE /v2/video_generation/{id}`` on a queued task)."""
        self.tasks[task_id].cancelled = True

    def _create_task(self, body: dict[str, Any], *, v2: bool = False) -> FakeTask:
        plan = self._next_plans.pop(0) if self._next_plans else TaskPlan(**vars(self.plan))
        if plan.fail_code is None and not plan.never_finish and self._rng.random() < self.sensitive_rate:
            plan.fail_code = 1027
        task = FakeTask(str(next(self._task_ids)), next(self._file_ids), body, self.clock.now(), plan, v2=v2)
        if v2:
            task.content = self.v2_content or make_mp4(v2_frames(int(body.get("duration") or 6)))
        self.tasks[task.task_id] = task
        self._files[task.file_id] = task
        if isinstance(body.get("callback_url"), str):
            job = asyncio.get_running_loop().create_task(self._push_when_done(task))
            self._push_jobs.add(job)
            job.add_done_callback(self._push_jobs.discard)
        return task

    # ------------------------------------------------------------------------------ callbacks

    def _callback_address(self, body: dict[str, Any]) -> str | None:
        target = self.callback_target or str(body.get("callback_url"))
        return target if target.startswith(("http://127.0.0.1:", "https://127.0.0.1:")) else None

    async def _challenge(self, body: Any) -> str | None:
        """The documented challenge: POST {"challenge"} and expect it echoed within 3 s (else 2013)."""
        if not isinstance(body, dict) or "callback_url" not in body:
            return None
        address = self._callback_address(body)
        failed = "invalid params, callback_url verification failed"
        if address is None:
            return failed
        token = uuid.uuid4().hex
        self.challenges_sent += 1
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    address, json={"challenge": token}, timeout=aiohttp.ClientTimeout(total=3)
                ) as resp,
            ):
                answer = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return failed
        echoed = isinstance(answer, dict) and answer.get("challenge") == token
        return None if echoed and self.callback_echo_ok else failed

    async def _push_when_done(self, task: FakeTask) -> None:
        """Once the task ends, POST its status the way the query would name it (lower case)."""
        address = self._callback_address(task.body)
        if address is None:
            return
        # The fake clock moves by itself (speed) or by advance(); neither sets an event to wait on.
        while task.official_status(self.clock.now()) not in ("Success", "Fail", "Cancelled"):  # noqa: ASYNC110
            await asyncio.sleep(0.002)
        status = task.official_status(self.clock.now())
        if task.v2:
            body: dict[str, Any] = {"task": self._v2_task(task)}
        else:
            body = self._official_query_body(task, status)
            body["status"] = {"Success": "success", "Fail": "failed"}.get(status, status.lower())
        async with aiohttp.ClientSession() as session:
            for _ in range(self.push_copies):
                self.pushes_sent += 1
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.post(address, json=body, timeout=aiohttp.ClientTimeout(total=5)):
                        pass

    async def _query(self, request: web.Request, body: Any) -> web.Response:
        task = self.tasks.get(request.query.get("task_id", ""))
        if task is None:
            if self.flavour == "reseller":
                return web.json_response(
                    {"code": "task_not_exist", "message": "task_not_exist", "data": None}, status=400
                )
            return self._code_answer("query", 2013, "invalid params, task not found")
        now = self.clock.now()
        status = task.official_status(now)
        official = self._official_query_body(task, status)
        if self.flavour == "official":
            return web.json_response(official)
        if status == "Success":
            official["file"] = self._file_object(task)
        finished = status in ("Success", "Fail")
        end = int(task.created_at + (task.plan.preparing if task.plan.fail_code == 1026 else task.plan.total))
        data = {
            "task_id": task.task_id,
            "action": "generate",
            "status": _GATEWAY_STATUS[status],
            "fail_reason": official["base_resp"]["status_msg"] if status == "Fail" else "",
            "submit_time": int(task.created_at),
            "start_time": int(task.created_at + task.plan.preparing),
            "finish_time": end if finished else 0,
            "progress": f"{task.progress(now)}%",
            "data": official,
        }
        return web.json_response({"code": "success", "message": "", "data": data})

    def _official_query_body(self, task: FakeTask, status: str) -> dict[str, Any]:
        body: dict[str, Any] = {"task_id": task.task_id, "status": status, "file_id": ""}
        if status == "Success":
            width, height = task.size
            body.update(file_id=str(task.file_id), video_width=width, video_height=height)
        if status == "Fail":
            code = task.plan.fail_code or 0
            message = task.plan.fail_message or _CODE_MESSAGES.get(code, "video generation failed")
            body["base_resp"] = _base_resp(code, message)
        else:
            body["base_resp"] = _base_resp(0, "success")
        return body

    async def _retrieve(self, request: web.Request, body: Any) -> web.Response:
        raw_id = request.query.get("file_id", "")
        task = self._files.get(int(raw_id)) if raw_id.isdigit() else None
        if task is None or task.official_status(self.clock.now()) != "Success":
            return self._code_answer("retrieve", 2013, "invalid params, file not found")
        return web.json_response({"file": self._file_object(task), "base_resp": _base_resp(0, "success")})

    def _download_url(self, task: FakeTask) -> str:
        expires = int(self.clock.now() + self.url_ttl)
        token = self._token(task.file_id, expires)
        self._valid_tokens.add(token)
        return (
            f"{self.download_root or self.root_url}/download/{task.file_id}?token={token}&expires={expires}"
        )

    def _file_object(self, task: FakeTask) -> dict[str, Any]:
        return {
            "file_id": task.file_id,
            "bytes": 0,
            "created_at": int(task.created_at + task.plan.total),
            "filename": "output.mp4",
            "purpose": "video_generation",
            "download_url": self._download_url(task),
        }

    def _token(self, file_id: int, expires: int) -> str:
        return hashlib.sha256(f"{self._secret}:{file_id}:{expires}".encode()).hexdigest()[:32]

    async def _download(self, request: web.Request, body: Any) -> web.StreamResponse:
        raw_id = request.match_info["file_id"]
        token = request.query.get("token", "")
        expires_text = request.query.get("expires", "")
        if not raw_id.isdigit() or not expires_text.isdigit():
            return web.Response(status=404, text="not found")
        file_id, expires = int(raw_id), int(expires_text)
        if (
            token not in self._valid_tokens
            or token != self._token(file_id, expires)
            or self.clock.now() > expires
            or file_id not in self._files
        ):
            return web.Response(status=403, text="<Error><Code>AccessDenied</Code></Error>")
        if self.download_body is not None:
            return web.Response(body=self.download_body, content_type="text/html")
        size = self.file_size(file_id)
        truncate = request.get(_TRUNCATE, False)
        response = web.StreamResponse(status=200, headers={"Content-Type": "video/mp4"})
        if self.download_content_length:
            response.content_length = size
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        limit = size // 2 if truncate else size
        step = 64 * 1024
        content = self._files[file_id].content if file_id not in self._size_overrides else None
        for start in range(0, limit, step):
            end = min(start + step, limit)
            await response.write(
                content[start:end] if content is not None else self._v1_slice(file_id, start, end)
            )
        if truncate:
            self._hang_up(request)
        await response.write_eof()
        return response


def _check_kind(kind: FaultKind) -> None:
    if isinstance(kind, bool) or not (
        (isinstance(kind, int) and (100 <= kind < 600 or kind >= 1000)) or kind in _NAMED_FAULTS
    ):
        raise ValueError(f"unknown fault kind {kind!r}")


def _base_resp(code: int, message: str) -> dict[str, Any]:
    return {"status_code": code, "status_msg": message}
