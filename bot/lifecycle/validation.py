"""Turn what a member asked for into an exact, priced plan, or refuse with how to fix it.

Pure functions over the model table and plain inputs: no storage, no Discord, no HTTP. The rules of
what a model can do live in :mod:`bot.minimax.models`; this module only decides which of the allowed
combinations a request means. Values the member typed are checked strictly (a refusal names what is
allowed); values that come from defaults or saved preferences are softened to the nearest allowed
choice instead, because the member did not ask for them in this command.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from bot.minimax.models import (
    DURATIONS,
    MAX_PROMPT_CHARS,
    MODE_LABELS,
    MODELS,
    RESOLUTIONS,
    Combo,
    Mode,
    ModelSpec,
    default_model_for,
    describe_combos,
    format_credits,
    mode_for,
    models_for_mode,
    price_tenths,
    resolution_rank,
)

IMAGE_CONTENT_TYPES = frozenset({"image/jpeg", "image/jpg", "image/png", "image/webp"})
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp"})
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MIN_SHORT_SIDE = 300  # exclusive: the API wants the short side *over* 300 px
MIN_ASPECT = 2 / 5
MAX_ASPECT = 5 / 2


class RequestRefused(Exception):
    """A request that is not sent: ``message`` says what was wrong and how to fix it, for the member."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ImageInput:
    """An image the member attached; width/height/size come from Discord's attachment metadata.

    ``checked`` is set for images of a stored task (regenerate): they passed these checks already and
    only their URL is kept.
    """

    url: str
    filename: str = ""
    content_type: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    checked: bool = False


@dataclass(frozen=True)
class VideoRequest:
    """What a member asked for; ``None`` means "not given" (defaults and preferences decide)."""

    guild_id: int | None
    channel_id: int
    user_id: int
    prompt: str
    role_ids: tuple[int, ...] = ()
    model: str | None = None
    duration: int | None = None
    resolution: str | None = None
    first_frame: ImageInput | None = None
    last_frame: ImageInput | None = None
    subject: ImageInput | None = None
    prompt_optimizer: bool | None = None
    fast: bool | None = None
    regenerated_from: int | None = None
    # A thread's parent: channel rules are set on channels, and a thread must not slip past them.
    parent_channel_id: int | None = None


@dataclass(frozen=True)
class Preferences:
    """A member's saved defaults; each is a soft default, never a reason to refuse."""

    model: str | None = None
    resolution: str | None = None
    duration: int | None = None
    prompt_optimizer: bool | None = None


@dataclass(frozen=True)
class Limits:
    """The guild's policy as it bears on one request. An empty ``allowed_models`` allows every model."""

    allowed_models: frozenset[str] = frozenset()
    max_resolution: str | None = None
    max_duration: int | None = None

    def allows_model(self, model: str) -> bool:
        return not self.allowed_models or model in self.allowed_models

    def allows(self, combo: Combo) -> bool:
        resolution, duration = combo
        if self.max_resolution is not None and resolution_rank(resolution) > resolution_rank(
            self.max_resolution
        ):
            return False
        return self.max_duration is None or duration <= self.max_duration

    def describe(self) -> str:
        parts = []
        if self.max_resolution is not None:
            parts.append(f"up to {self.max_resolution}")
        if self.max_duration is not None:
            parts.append(f"up to {self.max_duration} s")
        return " and ".join(parts) or "no limits"


@dataclass(frozen=True)
class Plan:
    """An exact request: what is stored on the task, priced, and later sent to the API."""

    mode: Mode
    model: str
    resolution: str
    duration: int
    prompt: str
    prompt_optimizer: bool
    fast_pretreatment: bool
    cost_tenths: int
    first_frame_url: str | None = None
    last_frame_url: str | None = None
    subject_url: str | None = None

    @property
    def sends_duration_and_resolution(self) -> bool:
        return MODELS[self.model].sends_duration_and_resolution


def _is_invisible(ch: str) -> bool:
    # Format characters (zero-width spaces, joiners, bidi marks) count as "invisible" for the API (1042).
    return unicodedata.category(ch) == "Cf"


def clean_prompt(prompt: str) -> str:
    """The prompt as sent: invisible format characters removed, outer whitespace trimmed."""
    return "".join(ch for ch in prompt if not _is_invisible(ch)).strip()


def _extension(image: ImageInput) -> str:
    name = image.filename or PurePosixPath(urlsplit(image.url).path).name
    return PurePosixPath(name.lower()).suffix


def _describe_ratio(width: int, height: int) -> str:
    return f"{width / height:.2f}:1" if width >= height else f"1:{height / width:.2f}"


def check_image(image: ImageInput, label: str) -> None:
    """The API's image rules, checked on Discord's metadata before anything is sent or reserved."""
    if image.checked:
        return
    name = image.filename or "the attachment"
    content_type = (image.content_type or "").split(";")[0].strip().lower()
    extension = _extension(image)
    if (content_type and content_type not in IMAGE_CONTENT_TYPES) or extension not in IMAGE_EXTENSIONS:
        raise RequestRefused(
            f"The {label} must be a JPG, PNG or WebP image, and {name!r} is not. "
            "Convert it to one of those formats and try again."
        )
    if image.size is not None and image.size >= MAX_IMAGE_BYTES:
        raise RequestRefused(
            f"The {label} is {image.size / (1024 * 1024):.1f} MB; images must be under 20 MB. "
            "Use a smaller or more compressed image."
        )
    if image.width and image.height:
        short = min(image.width, image.height)
        if short <= MIN_SHORT_SIDE:
            raise RequestRefused(
                f"The {label} is {image.width}×{image.height} px; its shorter side must be over "
                f"{MIN_SHORT_SIDE} px. Use a larger image."
            )
        ratio = image.width / image.height
        if not MIN_ASPECT <= ratio <= MAX_ASPECT:
            raise RequestRefused(
                f"The {label} is {image.width}×{image.height} px (aspect ratio "
                f"{_describe_ratio(image.width, image.height)}); it must be between 2:5 and 5:2. "
                "Crop it closer to a usual video shape."
            )


def _choose_model(request: VideoRequest, prefs: Preferences, mode: Mode, limits: Limits) -> ModelSpec:
    capable = [m for m in models_for_mode(mode) if limits.allows_model(m)]
    if request.model is not None:
        spec = MODELS.get(request.model)
        if spec is None:
            raise RequestRefused(
                f"There is no model called {request.model!r}. Choose one of: {', '.join(MODELS)}."
            )
        if mode not in spec.modes:
            offer = ", ".join(capable) if capable else "none allowed in this server"
            raise RequestRefused(
                f"{spec.name} cannot make {MODE_LABELS[mode]} videos "
                f"({_mode_reason(mode)}). Models that can: {offer}."
            )
        if not limits.allows_model(spec.name):
            allowed = ", ".join(m for m in MODELS if limits.allows_model(m))
            raise RequestRefused(f"This server does not allow {spec.name}. Allowed models here: {allowed}.")
        return spec
    candidates = [prefs.model, default_model_for(mode), *models_for_mode(mode)]
    for name in candidates:
        if name is not None and name in MODELS and mode in MODELS[name].modes and limits.allows_model(name):
            return MODELS[name]
    allowed = ", ".join(m for m in MODELS if limits.allows_model(m))
    raise RequestRefused(
        f"None of the models this server allows ({allowed}) can make {MODE_LABELS[mode]} videos. "
        "Try another kind of request, or ask a moderator."
    )


def _mode_reason(mode: Mode) -> str:
    return {
        Mode.TEXT: "it needs a first_frame image",
        Mode.IMAGE: "it does not take a first_frame image",
        Mode.FIRST_LAST: "it does not take a last_frame",
        Mode.SUBJECT: "it does not take a subject image",
    }[mode]


def _choose_combo(
    spec: ModelSpec, mode: Mode, request: VideoRequest, prefs: Preferences, limits: Limits
) -> Combo:
    offered = spec.combos(mode)
    what = f"{spec.name} ({MODE_LABELS[mode]})"
    res, dur = request.resolution, request.duration
    if res is not None and res not in RESOLUTIONS:
        raise RequestRefused(f"Resolution must be one of {', '.join(RESOLUTIONS)}.")
    if dur is not None and dur not in DURATIONS:
        raise RequestRefused(f"Duration must be {' or '.join(str(d) for d in DURATIONS)} seconds.")
    if res is not None and all(r != res for r, _ in offered):
        raise RequestRefused(f"{what} does not make {res} videos. It offers {describe_combos(offered)}.")
    if dur is not None and all(d != dur for _, d in offered):
        raise RequestRefused(f"{what} does not make {dur} s videos. It offers {describe_combos(offered)}.")
    if res is not None and dur is not None and (res, dur) not in offered:
        durations = sorted(d for r, d in offered if r == res)
        raise RequestRefused(
            f"{what} makes {res} videos only {' or '.join(f'{d} s' for d in durations)} long "
            f"(it offers {describe_combos(offered)}). Pick another duration or resolution."
        )
    if (
        res is not None
        and limits.max_resolution
        and resolution_rank(res) > resolution_rank(limits.max_resolution)
    ):
        raise RequestRefused(
            f"This server allows videos up to {limits.max_resolution}; choose {limits.max_resolution} "
            "or lower."
        )
    if dur is not None and limits.max_duration is not None and dur > limits.max_duration:
        raise RequestRefused(
            f"This server allows videos up to {limits.max_duration} s; choose a shorter duration."
        )
    candidates = [
        c
        for c in offered
        if limits.allows(c) and (res is None or c[0] == res) and (dur is None or c[1] == dur)
    ]
    if not candidates:
        raise RequestRefused(
            f"This server's limits ({limits.describe()}) leave nothing {what} can make: it offers "
            f"{describe_combos(offered)}. Choose another model."
        )
    want_res = (
        res or (prefs.resolution if prefs.resolution in RESOLUTIONS else None) or spec.default_resolution
    )
    want_dur = dur or (prefs.duration if prefs.duration in DURATIONS else None) or DURATIONS[0]

    def preference(combo: Combo) -> tuple[bool, bool, bool, bool, int]:
        r, d = combo
        return (
            r != want_res,
            d != want_dur,
            r != spec.default_resolution,
            d != DURATIONS[0],
            -resolution_rank(r),
        )

    return min(candidates, key=preference)


def plan_request(
    request: VideoRequest, *, prefs: Preferences = Preferences(), limits: Limits = Limits()
) -> Plan:
    """Validate and resolve ``request`` into a :class:`Plan`, or raise :class:`RequestRefused`."""
    prompt = clean_prompt(request.prompt)
    if not prompt:
        raise RequestRefused(
            "The prompt is empty. Describe the video you want, "
            "e.g. `a red fox running through snow [Pan left]`."
        )
    if len(prompt) > MAX_PROMPT_CHARS:
        raise RequestRefused(
            f"The prompt is {len(prompt)} characters long; the limit is {MAX_PROMPT_CHARS}. Shorten it."
        )
    if request.last_frame is not None and request.first_frame is None:
        raise RequestRefused(
            "A last_frame needs a first_frame too: attach the image the video should start from as well."
        )
    if request.subject is not None and (request.first_frame is not None or request.last_frame is not None):
        raise RequestRefused(
            "A subject image cannot be combined with first_frame or last_frame. "
            "Use either a subject (S2V-01) or frames, not both."
        )
    for image, label in (
        (request.first_frame, "first_frame image"),
        (request.last_frame, "last_frame image"),
        (request.subject, "subject image"),
    ):
        if image is not None:
            check_image(image, label)
    mode = mode_for(
        has_first=request.first_frame is not None,
        has_last=request.last_frame is not None,
        has_subject=request.subject is not None,
    )
    spec = _choose_model(request, prefs, mode, limits)
    resolution, duration = _choose_combo(spec, mode, request, prefs, limits)
    if request.fast and not spec.fast_pretreatment:
        raise RequestRefused(
            f"{spec.name} has no fast mode. Leave `fast` off, or use a MiniMax-Hailuo model for fast mode."
        )
    if request.prompt_optimizer is not None:
        optimizer = request.prompt_optimizer
    elif prefs.prompt_optimizer is not None:
        optimizer = prefs.prompt_optimizer
    else:
        optimizer = True
    return Plan(
        mode=mode,
        model=spec.name,
        resolution=resolution,
        duration=duration,
        prompt=prompt,
        prompt_optimizer=optimizer,
        fast_pretreatment=bool(request.fast) and spec.fast_pretreatment,
        cost_tenths=price_tenths(spec.name, resolution, duration),
        first_frame_url=request.first_frame.url if request.first_frame else None,
        last_frame_url=request.last_frame.url if request.last_frame else None,
        subject_url=request.subject.url if request.subject else None,
    )


def price_table(limits: Limits = Limits()) -> list[tuple[str, Mode, Combo, int]]:
    """Every (model, mode, combo, cost) a guild allows: what ``/video quota`` lists."""
    rows = []
    for name, spec in MODELS.items():
        if not limits.allows_model(name):
            continue
        for mode, combos in spec.modes.items():
            for combo in sorted(combos, key=lambda c: (resolution_rank(c[0]), c[1])):
                if limits.allows(combo):
                    rows.append((name, mode, combo, price_tenths(name, *combo)))
    return rows


def cost_line(model: str, resolution: str, duration: int) -> str:
    return f"{format_credits(price_tenths(model, resolution, duration))} credits"
