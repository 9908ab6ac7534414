"""Turn what a member asked for into an exact, priced plan, or refuse with how to fix it.

Pure functions over the model table and plain inputs: no storage, no Discord, no HTTP. The rules of
what a model can do live in :mod:`bot.minimax.models`; this module only decides which of the allowed
combinations a request means. Values the member typed are checked strictly (a refusal names what is
allowed); values that come from defaults or saved preferences are softened to the nearest allowed
choice instead, because the member did not ask for them in this command.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
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


class _ModelCannot(RequestRefused):
    """A refusal about what one model cannot make; :func:`plan_request` adds which models could."""


def _choose_model(request: VideoRequest, prefs: Preferences, mode: Mode, limits: Limits) -> ModelSpec:
    if request.model is not None:
        return _named_model(request.model, mode, limits)
    return _fitting_model(request, prefs, mode, limits)


def _named_model(name: str, mode: Mode, limits: Limits) -> ModelSpec:
    """The model the member chose is honoured strictly: refused, never swapped, when it cannot."""
    spec = MODELS.get(name)
    if spec is None:
        raise RequestRefused(f"There is no model called {name!r}. Choose one of: {', '.join(MODELS)}.")
    if mode not in spec.modes:
        capable = [m for m in models_for_mode(mode) if limits.allows_model(m)]
        offer = ", ".join(capable) if capable else "none allowed in this server"
        raise RequestRefused(
            f"{spec.name} cannot make {MODE_LABELS[mode]} videos "
            f"({_mode_reason(spec, mode)}). Models that can: {offer}."
        )
    if not limits.allows_model(spec.name):
        allowed = ", ".join(m for m in MODELS if limits.allows_model(m))
        raise RequestRefused(f"This server does not allow {spec.name}. Allowed models here: {allowed}.")
    return spec


def _candidates(prefs: Preferences, mode: Mode, limits: Limits) -> list[ModelSpec]:
    """Models to try when the member named none: their saved default, the mode's default, then the
    rest in table order (newest first), keeping only those this mode and this server allow."""
    names = [prefs.model, default_model_for(mode), *models_for_mode(mode)]
    usable = [n for n in names if n is not None and n in MODELS and mode in MODELS[n].modes]
    return [MODELS[n] for n in dict.fromkeys(usable) if limits.allows_model(n)]


def _fitting_model(request: VideoRequest, prefs: Preferences, mode: Mode, limits: Limits) -> ModelSpec:
    """The first candidate that can make what was asked within the server's limits.

    A default is a convenience, not a choice: a saved T2V-01 must not turn ``resolution:1080P`` into a
    refusal when another allowed model makes 1080P. When none fits, the first candidate is returned
    so that :func:`_choose_combo` refuses with what it offers, and the caller names who could.
    """
    candidates = _candidates(prefs, mode, limits)
    if not candidates:
        allowed = ", ".join(m for m in MODELS if limits.allows_model(m))
        raise RequestRefused(
            f"None of the models this server allows ({allowed}) can make {MODE_LABELS[mode]} videos. "
            "Try another kind of request, or ask a moderator."
        )
    # Model-independent refusals first, so they are not blamed on whichever model comes first.
    _check_values(request)
    _check_within_limits(request, limits)
    return next((s for s in candidates if _fits(s, mode, request, limits)), candidates[0])


def _fits(spec: ModelSpec, mode: Mode, request: VideoRequest, limits: Limits) -> bool:
    if request.fast and not spec.fast_pretreatment:
        return False
    return bool(_fitting_combos(spec, mode, request, limits))


def _fitting_combos(spec: ModelSpec, mode: Mode, request: VideoRequest, limits: Limits) -> list[Combo]:
    res, dur = request.resolution, request.duration
    return [
        c
        for c in spec.combos(mode)
        if limits.allows(c) and (res is None or c[0] == res) and (dur is None or c[1] == dur)
    ]


def _who_else_could(spec: ModelSpec, mode: Mode, request: VideoRequest, limits: Limits) -> str:
    """The end of a refusal about ``spec``: the models that would make this request, if any."""
    others = [MODELS[m] for m in models_for_mode(mode) if m != spec.name]
    allowed = [s.name for s in others if limits.allows_model(s.name) and _fits(s, mode, request, limits)]
    if allowed:
        return f"Models that can: {', '.join(allowed)}."
    everywhere = Limits(max_resolution=limits.max_resolution, max_duration=limits.max_duration)
    barred = [
        s.name for s in others if not limits.allows_model(s.name) and _fits(s, mode, request, everywhere)
    ]
    if barred:
        pronoun = "it" if len(barred) == 1 else "them"
        return f"{' and '.join(barred)} could, but this server does not allow {pronoun}."
    if request.fast:
        slow = replace(request, fast=False)
        if any(limits.allows_model(s.name) and _fits(s, mode, slow, limits) for s in [spec, *others]):
            return "Leave `fast` off and it can be made."
    try:
        _check_within_limits(request, limits)  # the server's cap may be the real reason
    except RequestRefused as exc:
        return exc.message
    return "No other model allowed here can either."


def _or_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


_MODE_INPUTS: dict[Mode, tuple[str, ...]] = {
    Mode.TEXT: (),
    Mode.IMAGE: ("first_frame",),
    Mode.FIRST_LAST: ("first_frame", "last_frame"),
    Mode.SUBJECT: ("subject",),
}
_MODE_NEEDS: dict[Mode, str] = {
    Mode.TEXT: "just a prompt",
    Mode.IMAGE: "a first_frame image",
    Mode.FIRST_LAST: "a first_frame and a last_frame image",
    Mode.SUBJECT: "a subject image",
}


def _mode_reason(spec: ModelSpec, mode: Mode) -> str:
    """Why ``spec`` cannot make ``mode``, from the model's own modes and the command's option names,
    so the member learns which attachment to add or drop (S2V-01 wants ``subject``, not
    ``first_frame``)."""
    taken = {option for m in spec.modes for option in _MODE_INPUTS[m]}
    extra = [option for option in _MODE_INPUTS[mode] if option not in taken]
    needs = _or_list([_MODE_NEEDS[m] for m in Mode if m in spec.modes])
    if extra:
        options = _or_list([f"a {option}" for option in extra])
        return f"it does not take {options} image; it works from {needs}"
    return f"it works only from {needs}" if Mode.TEXT in spec.modes else f"it needs {needs}"


def _check_values(request: VideoRequest) -> None:
    if request.resolution is not None and request.resolution not in RESOLUTIONS:
        raise RequestRefused(f"Resolution must be one of {', '.join(RESOLUTIONS)}.")
    if request.duration is not None and request.duration not in DURATIONS:
        raise RequestRefused(f"Duration must be {' or '.join(str(d) for d in DURATIONS)} seconds.")


def _check_offered(spec: ModelSpec, mode: Mode, request: VideoRequest) -> None:
    offered = spec.combos(mode)
    what = f"{spec.name} ({MODE_LABELS[mode]})"
    res, dur = request.resolution, request.duration
    if res is not None and all(r != res for r, _ in offered):
        raise _ModelCannot(f"{what} does not make {res} videos. It offers {describe_combos(offered)}.")
    if dur is not None and all(d != dur for _, d in offered):
        raise _ModelCannot(f"{what} does not make {dur} s videos. It offers {describe_combos(offered)}.")
    if res is not None and dur is not None and (res, dur) not in offered:
        durations = sorted(d for r, d in offered if r == res)
        raise _ModelCannot(
            f"{what} makes {res} videos only {' or '.join(f'{d} s' for d in durations)} long "
            f"(it offers {describe_combos(offered)}). Pick another duration or resolution."
        )


def _check_within_limits(request: VideoRequest, limits: Limits) -> None:
    res, dur = request.resolution, request.duration
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


def _choose_combo(
    spec: ModelSpec, mode: Mode, request: VideoRequest, prefs: Preferences, limits: Limits
) -> Combo:
    _check_values(request)
    _check_offered(spec, mode, request)
    _check_within_limits(request, limits)
    candidates = _fitting_combos(spec, mode, request, limits)
    if not candidates:
        raise _ModelCannot(
            f"This server's limits ({limits.describe()}) leave nothing {spec.name} "
            f"({MODE_LABELS[mode]}) can make: it offers {describe_combos(spec.combos(mode))}."
        )
    res, dur = request.resolution, request.duration
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
    try:
        resolution, duration = _choose_combo(spec, mode, request, prefs, limits)
        if request.fast and not spec.fast_pretreatment:
            raise _ModelCannot(f"{spec.name} has no fast mode.")
    except _ModelCannot as exc:
        raise RequestRefused(f"{exc.message} {_who_else_could(spec, mode, request, limits)}") from None
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
