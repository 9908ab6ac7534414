"""The catalog: every model, mode, duration, resolution, combination and price, in one table.

Validation, pricing, ``/video quota``, ``/video help``, the command choices and moderator statistics all
read it, so a model added or repriced here changes every place at once. Credits and their formatting,
dollar estimates and the image rules the help text states live here too, for the same reason.

Plain data: imports only :mod:`bot.spec`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Protocol

from bot.i18n import Message, msg, translate
from bot.spec import MediaRole, Mode, VideoSpec

MODE_LABELS: dict[Mode, str] = {
    Mode.TEXT: "text-to-video",
    Mode.IMAGE: "image-to-video",
    Mode.FIRST_LAST: "first + last frame",
    Mode.SUBJECT: "subject reference",
    Mode.REFERENCE: "reference-to-video",
    Mode.UPSCALE: "upscale to 2K",
}

# Every resolution some model makes, lowest first (a server's "maximum resolution" follows this order).
RESOLUTIONS: tuple[str, ...] = ("480P", "512P", "720P", "768P", "1080P", "2K")
# Every aspect ratio some model offers, in the order the command lists them.
RATIOS: tuple[str, ...] = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive")
# A duration left to the bot: what every model offers and the cheapest to try.
DEFAULT_DURATION = 6

# One credit is what members see: one 6-second 768P MiniMax-Hailuo-2.3 video.
CREDIT_USD = Decimal("0.28")

Combo = tuple[str, int]  # (resolution, duration)


class ApiFamily(StrEnum):
    """Which MiniMax API a model is on: V1 (Hailuo 2.3/02/01: submit, query, retrieve) or V2 (H3:
    ``content[]`` bodies, lower-case statuses, the video URL in the query answer)."""

    V1 = "v1"
    V2 = "v2"


@dataclass(frozen=True)
class ReferenceLimits:
    """What a reference-mode request may carry (MiniMax-H3's documented limits)."""

    images: int
    videos: int
    audio: int
    files: int
    video_seconds_each: tuple[int, int]  # (shortest, longest): stated, not checkable before fetching
    video_seconds_total: int


@dataclass(frozen=True)
class ModelRules:
    """What one model can make and what each video costs."""

    name: str
    modes: dict[Mode, frozenset[Combo]]
    prices_usd: dict[Combo, Decimal]
    camera_commands: bool
    # The 01 series and S2V-01 have a fixed output; sending a resolution is unsafe there.
    sends_resolution: bool
    default_resolution: str
    fast_pretreatment: bool
    # Aspect ratios a member may choose; empty: the model decides (Hailuo: 16:9, or the image's shape).
    ratios: frozenset[str] = frozenset()
    family: ApiFamily = ApiFamily.V1
    # Chosen by the bot when the member names no model. H3 is not: it needs a pay-as-you-go key,
    # costs per second and sounds different, so it is made only when asked for (or for references,
    # which nothing else takes).
    auto: bool = True
    max_prompt_chars: int = 2000
    audio: bool = False  # the video comes with a sound track
    # The ratio of a text-only video when the member chose none (H3 needs a concrete one there).
    text_ratio: str | None = None
    references: ReferenceLimits | None = None
    # Reference images beyond ``free_reference_images`` cost this much each; None: no surcharge.
    reference_image_usd: Decimal | None = None
    free_reference_images: int = 0
    # Whether the official schema of the model's endpoint has a ``duration`` field. Where it has,
    # duration is always sent (a fixed-output model's only value): the reseller spec we were given
    # marks it required and a reseller enforcing that refuses bodies without it. S2V-01's schema has
    # no such field, so it never gets one.
    duration_field: bool = True
    # Reference video is billed per input second at a price MiniMax has not published: None means
    # the bot cannot price it, so it refuses reference videos rather than guess.
    reference_video_usd_per_second: Decimal | None = None

    def sends_fast(self, mode: Mode) -> bool:
        """Whether ``fast_pretreatment`` goes out: a model with a fast mode, in a mode whose official
        schema lists the field (text- and image-to-video; not first+last frame, not subject)."""
        return self.fast_pretreatment and mode in FAST_PRETREATMENT_MODES

    def combos(self, mode: Mode) -> frozenset[Combo]:
        return self.modes.get(mode, frozenset())

    @property
    def durations(self) -> frozenset[int]:
        return frozenset(d for combos in self.modes.values() for _, d in combos)

    def refuses(self, spec: VideoSpec) -> Message | None:
        """Why this model cannot take one of the spec's per-model options (``None``: it can), said in
        the reader's language once rendered.

        Resolution, duration and fast have their own refusals, which name what the model offers.
        """
        if spec.ratio is not None and spec.ratio not in self.ratios:
            if not self.ratios:
                return msg("refusal.ratio.none", model=self.name)
            return msg(
                "refusal.ratio.not_offered",
                model=self.name,
                ratios=", ".join(sorted(self.ratios)),
                ratio=spec.ratio,
            )
        if spec.ratio == ADAPTIVE and spec.mode is Mode.TEXT:
            concrete = ", ".join(r for r in RATIOS if r in self.ratios and r != ADAPTIVE)
            default: Message | str = self.text_ratio or msg("refusal.ratio.the_default")
            return msg("refusal.ratio.adaptive_text", ratios=concrete, default=default)
        return None


ADAPTIVE = "adaptive"
# The V1 modes whose official schema lists ``fast_pretreatment`` (video-generation-t2v and -i2v).
FAST_PRETREATMENT_MODES = frozenset({Mode.TEXT, Mode.IMAGE})


def _per_second(
    resolutions: dict[str, Decimal], durations: Iterable[int]
) -> tuple[frozenset[Combo], dict[Combo, Decimal]]:
    """Every (resolution, duration) of a per-second price list, and each one's price."""
    combos = frozenset((res, d) for res in resolutions for d in durations)
    return combos, {(res, d): resolutions[res] * d for res, d in combos}


_HAILUO_STANDARD: frozenset[Combo] = frozenset({("768P", 6), ("1080P", 6), ("768P", 10)})
_HAILUO_02_IMAGE: frozenset[Combo] = _HAILUO_STANDARD | {("512P", 6), ("512P", 10)}
_FIXED_720: frozenset[Combo] = frozenset({("720P", 6)})

_HAILUO_PRICES = {
    ("768P", 6): Decimal("0.28"),
    ("768P", 10): Decimal("0.56"),
    ("1080P", 6): Decimal("0.49"),
}


def _hailuo(name: str, modes: dict[Mode, frozenset[Combo]], prices: dict[Combo, Decimal]) -> ModelRules:
    return ModelRules(name, modes, prices, True, True, "768P", True)


# The 01 series is not in the pay-as-you-go table we were given; these are MiniMax's long-standing
# list prices ($0.43 per 720P 6 s video, $0.65 for S2V-01), used for credits and USD estimates.
def _legacy(name: str, mode: Mode, camera: bool, price: Decimal = Decimal("0.43")) -> ModelRules:
    return ModelRules(
        name,
        {mode: _FIXED_720},
        {("720P", 6): price},
        camera,
        False,
        "720P",
        False,
        duration_field=mode is not Mode.SUBJECT,  # S2V-01's schema has no duration
    )


UPSCALE_RESOLUTION = "2K"  # what "Upscale to 2K" makes
UPSCALE_SOURCE_RESOLUTION = "768P"  # what it takes (POST /v2/video_regeneration)

_H3_REFERENCES = ReferenceLimits(
    images=9, videos=3, audio=3, files=12, video_seconds_each=(2, 15), video_seconds_total=15
)


def _h3(name: str, per_second: dict[str, Decimal], durations: range, modes: Iterable[Mode]) -> ModelRules:
    """An H3 model: V2 API, priced per second, with sound; made only when asked for."""
    combos, prices = _per_second(per_second, durations)
    with_references = Mode.REFERENCE in modes
    by_mode = dict.fromkeys(modes, combos)
    if UPSCALE_RESOLUTION in per_second:
        # Upscaling re-renders a delivered 768P video at 2K: priced per second at 2K, like one.
        by_mode[Mode.UPSCALE] = frozenset(c for c in combos if c[0] == UPSCALE_RESOLUTION)
    return ModelRules(
        name,
        by_mode,
        prices,
        camera_commands=False,
        sends_resolution=True,
        default_resolution="768P",
        fast_pretreatment=False,
        ratios=frozenset(RATIOS),
        family=ApiFamily.V2,
        auto=False,
        max_prompt_chars=7000,
        audio=True,
        text_ratio="16:9",
        references=_H3_REFERENCES if with_references else None,
        reference_image_usd=Decimal("0.04") if with_references else None,
        free_reference_images=5,
    )


MODELS: dict[str, ModelRules] = {
    spec.name: spec
    for spec in (
        _hailuo(
            "MiniMax-Hailuo-2.3", {Mode.TEXT: _HAILUO_STANDARD, Mode.IMAGE: _HAILUO_STANDARD}, _HAILUO_PRICES
        ),
        _hailuo(
            "MiniMax-Hailuo-2.3-Fast",
            {Mode.IMAGE: _HAILUO_STANDARD},
            {("768P", 6): Decimal("0.19"), ("768P", 10): Decimal("0.32"), ("1080P", 6): Decimal("0.33")},
        ),
        _hailuo(
            "MiniMax-Hailuo-02",
            {Mode.TEXT: _HAILUO_STANDARD, Mode.IMAGE: _HAILUO_02_IMAGE, Mode.FIRST_LAST: _HAILUO_STANDARD},
            {**_HAILUO_PRICES, ("512P", 6): Decimal("0.10"), ("512P", 10): Decimal("0.15")},
        ),
        _legacy("T2V-01-Director", Mode.TEXT, camera=True),
        _legacy("T2V-01", Mode.TEXT, camera=False),
        _legacy("I2V-01-Director", Mode.IMAGE, camera=True),
        _legacy("I2V-01", Mode.IMAGE, camera=False),
        _legacy("I2V-01-live", Mode.IMAGE, camera=False),
        _legacy("S2V-01", Mode.SUBJECT, camera=False, price=Decimal("0.65")),
        _h3(
            "MiniMax-H3",
            {"768P": Decimal("0.08"), "2K": Decimal("0.13")},
            range(4, 16),
            (Mode.TEXT, Mode.IMAGE, Mode.FIRST_LAST, Mode.REFERENCE),
        ),
        # Not in MiniMax's own H3 documentation (third-party clients: 480P/768P, 5-15 s, no
        # references) and with no published price: charged at H3's 768P rate, the only H3 price known.
        _h3(
            "MiniMax-H3-Max",
            {"480P": Decimal("0.08"), "768P": Decimal("0.08")},
            range(5, 16),
            (Mode.TEXT, Mode.IMAGE, Mode.FIRST_LAST),
        ),
    )
}


@dataclass(frozen=True)
class Sequel:
    """What continues a video of one model: ``extend`` is the image-to-video model of its family
    (its first frame: the video's last), ``loop`` the first + last frame model that closes it into a
    loop (from the video's last frame back to its first)."""

    extend: str
    loop: str


# Extend and Loop, per model of the original video (a text-to-video model continues as its family's
# image-to-video one; the 01 series and Hailuo 2.3 have no first + last frame mode: Hailuo-02 loops
# them). Every model is here: a test checks each entry's modes.
SEQUELS: dict[str, Sequel] = {
    "MiniMax-Hailuo-2.3": Sequel("MiniMax-Hailuo-2.3", "MiniMax-Hailuo-02"),
    "MiniMax-Hailuo-2.3-Fast": Sequel("MiniMax-Hailuo-2.3-Fast", "MiniMax-Hailuo-02"),
    "MiniMax-Hailuo-02": Sequel("MiniMax-Hailuo-02", "MiniMax-Hailuo-02"),
    "T2V-01-Director": Sequel("I2V-01-Director", "MiniMax-Hailuo-02"),
    "T2V-01": Sequel("I2V-01", "MiniMax-Hailuo-02"),
    "I2V-01-Director": Sequel("I2V-01-Director", "MiniMax-Hailuo-02"),
    "I2V-01": Sequel("I2V-01", "MiniMax-Hailuo-02"),
    "I2V-01-live": Sequel("I2V-01-live", "MiniMax-Hailuo-02"),
    "S2V-01": Sequel("I2V-01", "MiniMax-Hailuo-02"),
    "MiniMax-H3": Sequel("MiniMax-H3", "MiniMax-H3"),
    "MiniMax-H3-Max": Sequel("MiniMax-H3-Max", "MiniMax-H3-Max"),
}


# Durations any model offers: what the command's ``duration`` choices list.
DURATIONS: tuple[int, ...] = tuple(sorted({d for rules in MODELS.values() for d in rules.durations}))

DEFAULT_MODEL = "MiniMax-Hailuo-2.3"
FIRST_LAST_DEFAULT_MODEL = "MiniMax-Hailuo-02"
SUBJECT_DEFAULT_MODEL = "S2V-01"
IMAGE_ONLY_DEFAULT_MODEL = "MiniMax-Hailuo-2.3"
REFERENCE_DEFAULT_MODEL = "MiniMax-H3"

CAMERA_COMMANDS: tuple[str, ...] = (
    "Truck left",
    "Truck right",
    "Pan left",
    "Pan right",
    "Push in",
    "Pull out",
    "Pedestal up",
    "Pedestal down",
    "Tilt up",
    "Tilt down",
    "Zoom in",
    "Zoom out",
    "Shake",
    "Tracking shot",
    "Static shot",
)

MAX_PROMPT_CHARS = 2000  # the V1 models' limit, and what the bot picks by itself
# The longest prompt any model takes: what storage and the command's option allow.
LONGEST_PROMPT_CHARS = max(rules.max_prompt_chars for rules in MODELS.values())


def resolution_rank(resolution: str) -> int:
    """Order used by a guild's "maximum resolution" policy."""
    return RESOLUTIONS.index(resolution)


def default_model_for(mode: Mode) -> str:
    return {
        Mode.TEXT: DEFAULT_MODEL,
        Mode.IMAGE: IMAGE_ONLY_DEFAULT_MODEL,
        Mode.FIRST_LAST: FIRST_LAST_DEFAULT_MODEL,
        Mode.SUBJECT: SUBJECT_DEFAULT_MODEL,
        Mode.REFERENCE: REFERENCE_DEFAULT_MODEL,
        Mode.UPSCALE: REFERENCE_DEFAULT_MODEL,
    }[mode]


def usd_to_credit_tenths(usd: Decimal, *, rounding: str = ROUND_HALF_UP) -> int:
    """Credits are stored as integer tenths, priced relative to one 768P 6 s Hailuo-2.3 video.

    Prices round to the nearest tenth; a ceiling passes ``ROUND_FLOOR`` so it never grows by rounding.
    """
    return int((usd / CREDIT_USD * 10).quantize(Decimal(1), rounding=rounding))


def price_usd(model: str, resolution: str, duration: int) -> Decimal:
    return MODELS[model].prices_usd[(resolution, duration)]


def price_tenths(model: str, resolution: str, duration: int) -> int:
    return usd_to_credit_tenths(price_usd(model, resolution, duration))


def reference_surcharge_usd(rules: ModelRules, spec: VideoSpec) -> Decimal:
    """What a request's reference images add: free up to the model's allowance, then a price each."""
    if rules.reference_image_usd is None:
        return Decimal(0)
    images = len(spec.media_in(MediaRole.REFERENCE_IMAGE))
    return max(0, images - rules.free_reference_images) * rules.reference_image_usd


def spec_price_tenths(spec: VideoSpec) -> int:
    """A resolved spec's price in credit tenths: its combination plus what its references add."""
    assert spec.model is not None and spec.resolution is not None and spec.duration is not None
    rules = MODELS[spec.model]
    usd = price_usd(spec.model, spec.resolution, spec.duration) + reference_surcharge_usd(rules, spec)
    return usd_to_credit_tenths(usd)


def format_credits(tenths: int) -> str:
    """``10`` → ``"1"``, ``18`` → ``"1.8"``: members see credits, never tenths."""
    whole, frac = divmod(abs(tenths), 10)
    sign = "-" if tenths < 0 else ""
    return f"{sign}{whole}" if frac == 0 else f"{sign}{whole}.{frac}"


def describe_combos(combos: frozenset[Combo], locale: str | None = None) -> str:
    """Human list such as ``768P: 6 s or 10 s; 1080P: 6 s`` for refusal messages and /video help."""
    by_res: dict[str, list[int]] = {}
    for res, dur in combos:
        by_res.setdefault(res, []).append(dur)
    parts = []
    for res in sorted(by_res, key=resolution_rank):
        parts.append(f"{res}: {describe_durations(by_res[res], locale)}")
    return "; ".join(parts)


def describe_durations(durations: Iterable[int], locale: str | None = None, *, unit: bool = True) -> str:
    """``6 s or 10 s``; a run of three or more whole seconds reads ``4–15 s``; ``6 or 10`` without
    the unit (a sentence that says "seconds" itself)."""
    runs: list[list[int]] = []
    for d in sorted(set(durations)):
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])

    def seconds(value: object) -> str:
        return translate(locale, "unit.seconds", seconds=value) if unit else str(value)

    texts = [seconds(f"{r[0]}–{r[-1]}") if len(r) >= 3 else _either(map(seconds, r), locale) for r in runs]
    return _either(texts, locale)


def _either(texts: Iterable[str], locale: str | None) -> str:
    """``a or b or c`` in the locale's language."""
    return functools.reduce(lambda a, b: translate(locale, "words.or", a=a, b=b), texts)


@dataclass(frozen=True)
class CombosText(Message):
    """:func:`describe_combos` as a :class:`Message`: a refusal built in the core says what a model
    offers in the reader's language once rendered."""

    combos: frozenset[Combo] = frozenset()

    def render(self, locale: str | None) -> str:
        return describe_combos(self.combos, locale)


@dataclass(frozen=True)
class DurationsText(Message):
    """:func:`describe_durations` as a :class:`Message` (see :class:`CombosText`)."""

    durations: tuple[int, ...] = ()
    unit: bool = True

    def render(self, locale: str | None) -> str:
        return describe_durations(self.durations, locale, unit=self.unit)


def models_for_mode(mode: Mode) -> list[str]:
    return [name for name, spec in MODELS.items() if mode in spec.modes]


# What an option is when neither the member nor their saved defaults say (model, resolution and
# duration are chosen per request from the combinations above instead).
OPTION_DEFAULTS: dict[str, object] = {"prompt_optimizer": True}

# The options /video settings saves, in the order it shows them.
SAVED_OPTIONS = ("model", "resolution", "duration", "prompt_optimizer")


def saved_option_text(name: str, value: object, locale: str = "en") -> str:
    """A saved option as ``/video settings`` shows it: ``10 s``, ``on``, a name, or what auto means."""
    if value is None:
        return translate(locale, f"settings.auto.{name}", seconds=DEFAULT_DURATION)
    if isinstance(value, bool):
        return translate(locale, "settings.on" if value else "settings.off")
    return translate(locale, "unit.seconds", seconds=value) if name == "duration" else str(value)


def as_sent(spec: VideoSpec) -> VideoSpec:
    """A resolved spec as the API must receive it. The rules, each one :class:`ModelRules` field:
    ``duration`` for every model whose schema has the field (the only allowed value on the 01
    series; none on S2V-01); no ``resolution`` on fixed-output models (kept on the task for its price
    and card); ``fast_pretreatment`` only on a model and in a mode that document it; a ratio only
    where the model takes one (a text-only request gets the model's default)."""
    rules = MODELS.get(spec.model or "")
    if rules is None:
        return spec
    if spec.mode is Mode.UPSCALE:
        # The regeneration body is model + content (text, base_video): the rest is the source's.
        return replace(spec, duration=None, resolution=None, ratio=None, fast=False)
    if not rules.ratios:
        spec = replace(spec, ratio=None)
    elif spec.ratio is None and spec.mode is Mode.TEXT:
        spec = replace(spec, ratio=rules.text_ratio)
    return replace(
        spec,
        duration=spec.duration if rules.duration_field else None,
        resolution=spec.resolution if rules.sends_resolution else None,
        fast=bool(spec.fast) and rules.sends_fast(spec.mode),
    )


def describe_options(spec: VideoSpec, locale: str | None = None) -> str:
    """``768P · 6 s · prompt optimizer on · fast``: a video's options on its card (in ``locale``'s
    language, English by default)."""
    parts = []
    if spec.resolution:
        parts.append(spec.resolution)
    if spec.duration:
        parts.append(f"{spec.duration} s")
    parts.append(
        translate(locale, "options.optimizer_on" if spec.prompt_optimizer else "options.optimizer_off")
    )
    if spec.ratio:
        parts.append(spec.ratio)
    if spec.fast:
        parts.append(translate(locale, "options.fast"))
    rules = MODELS.get(spec.model or "")
    if rules is not None and rules.audio:
        parts.append(translate(locale, "options.with_sound"))
    return " · ".join(parts)


def credits_text(tenths: int) -> str:
    """``"1.8 credits"``, ``"1 credit"``: how every message and log line names an amount (the one
    place that knows the plural)."""
    return f"{format_credits(tenths)} {'credit' if abs(tenths) == 10 else 'credits'}"


# ---------------------------------------------------------------------------------- image rules

IMAGE_CONTENT_TYPES = frozenset({"image/jpeg", "image/jpg", "image/png", "image/webp"})
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp"})
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MIN_SHORT_SIDE = 300  # exclusive: the API wants the short side *over* 300 px
MIN_ASPECT = 2 / 5
MAX_ASPECT = 5 / 2
IMAGE_RULES_TEXT = "JPG, PNG or WebP, under 20 MB, short side over 300 px, aspect ratio between 2:5 and 5:2"


# ---------------------------------------------------------------------------------- a server's choices


@dataclass(frozen=True)
class OptionPolicy:
    """What a server allows of this catalog. An empty ``allowed_models`` allows every model."""

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

    def describe(self) -> Message:
        """``up to 1080P and up to 6 s``, ``no limits``: the policy inside a refusal, said in the
        reader's language once rendered."""
        resolution, duration = self.max_resolution, self.max_duration
        if resolution is not None and duration is not None:
            return msg("policy.describe.both", resolution=resolution, seconds=duration)
        if resolution is not None:
            return msg("policy.describe.resolution", resolution=resolution)
        if duration is not None:
            return msg("policy.describe.duration", seconds=duration)
        return msg("policy.describe.none")


def option_policy(
    allowed_models: Iterable[str], max_resolution: str | None, max_duration: int | None
) -> OptionPolicy:
    """A server's stored policy as the catalog reads it; an unknown resolution is no limit."""
    return OptionPolicy(
        allowed_models=frozenset(allowed_models),
        max_resolution=max_resolution if max_resolution in RESOLUTIONS else None,
        max_duration=max_duration,
    )


NO_POLICY = OptionPolicy()  # a direct message, or a server that limits nothing

PriceRow = tuple[str, Mode, Combo, int]  # (model, mode, (resolution, duration), credit tenths)


def price_table(policy: OptionPolicy = NO_POLICY) -> list[PriceRow]:
    """Every (model, mode, combo, cost) a server allows: what ``/video quota`` lists."""
    rows = []
    for name, rules in MODELS.items():
        if not policy.allows_model(name):
            continue
        for mode, combos in rules.modes.items():
            for combo in sorted(combos, key=lambda c: (resolution_rank(c[0]), c[1])):
                if policy.allows(combo):
                    rows.append((name, mode, combo, price_tenths(name, *combo)))
    return rows


def possible_videos(policy: OptionPolicy) -> int:
    """How many (model, mode, resolution, duration) choices a policy leaves; 0: every request fails."""
    return len(price_table(policy))


# ---------------------------------------------------------------------------------- dollars


class DeliveredVideos(Protocol):
    """Delivered videos of one combination, as statistics count them."""

    @property
    def model(self) -> str: ...
    @property
    def resolution(self) -> str | None: ...
    @property
    def duration(self) -> int | None: ...
    @property
    def delivered(self) -> int: ...
    @property
    def credits_tenths(self) -> int: ...


def format_usd(amount: Decimal) -> str:
    return f"${amount.quantize(Decimal('0.01'))}"


def list_price(model: str, resolution: str | None, duration: int | None) -> Decimal | None:
    """One video's list price, or ``None`` when the table has no such model or combination."""
    rules = MODELS.get(model)
    if rules is None:
        return None
    if resolution is None or duration is None:
        # A fixed-output model (the 01 series) has exactly one price, whatever was recorded.
        return next(iter(rules.prices_usd.values())) if len(rules.prices_usd) == 1 else None
    return rules.prices_usd.get((resolution, duration))


def credits_usd(tenths: int) -> Decimal:
    """The list-price dollars of ``tenths`` credit tenths (at :data:`CREDIT_USD` a credit)."""
    return Decimal(tenths) / 10 * CREDIT_USD


def spent_usd(combos: Iterable[DeliveredVideos]) -> tuple[Decimal, bool]:
    """Dollars for the delivered videos from the price table, and whether that is exact.

    Summing prices per (model, resolution, duration) is exact; credits × one credit's dollars is not
    (credits are rounded to tenths: a $0.49 video costs 1.8 credits, $0.504). Only a combination the
    table no longer knows falls back to its credits, and the total is then marked as an estimate.
    """
    total, exact = Decimal(0), True
    for combo in combos:
        price = list_price(combo.model, combo.resolution, combo.duration)
        if price is None:
            total += credits_usd(combo.credits_tenths)
            exact = False
        else:
            total += price * combo.delivered
    return total, exact


# ---------------------------------------------------------------------------------- generation times
# The shipped prior: how long each video typically takes from submit to success, used until the bot
# has seen its own (see :class:`bot.lifecycle.deps.Expectations`, which blends the two). MiniMax
# publishes no per-model figures: its guide says only that a generation takes "from about 30 s to
# several minutes" (and Video Agent templates 2-7 minutes, third-party). Every figure below is
# therefore OUR ESTIMATE inside that published range, built from a per-model base (768P, 6 s; the 01
# series at their fixed 720P 6 s) times a resolution, a duration and a mode factor, with a wide
# spread to say how little it is worth. The bot's own deliveries replace it within a few videos.

# Seconds for a 6-second video at the model's base resolution (768P; 720P for the 01 series).
_BASE_SECONDS: dict[str, float] = {
    "MiniMax-Hailuo-2.3": 90.0,
    "MiniMax-Hailuo-2.3-Fast": 55.0,
    "MiniMax-Hailuo-02": 100.0,
    "T2V-01-Director": 120.0,
    "T2V-01": 120.0,
    "I2V-01-Director": 120.0,
    "I2V-01": 120.0,
    "I2V-01-live": 120.0,
    "S2V-01": 150.0,
    "MiniMax-H3": 120.0,
    "MiniMax-H3-Max": 150.0,
}
_RESOLUTION_FACTOR: dict[str, float] = {
    "480P": 0.7,
    "512P": 0.7,
    "720P": 1.0,
    "768P": 1.0,
    "1080P": 1.8,
    "2K": 2.2,
}
# More frames to render, but a fixed part (queueing, set-up, encoding) does not grow with length.
_FIXED_SHARE = 0.4
_MODE_FACTOR: dict[Mode, float] = {
    Mode.TEXT: 1.0,
    Mode.IMAGE: 1.0,
    Mode.FIRST_LAST: 1.1,
    Mode.SUBJECT: 1.0,
    Mode.REFERENCE: 1.25,  # the references are fetched and read first
}
# Log-normal sigma of the prior: ±35 % is one standard deviation, so the first guess covers a
# reseller or a busy hour 2x slower at about two sigmas. Learned spreads replace it too.
PRIOR_SPREAD = 0.35
# A model the table does not know (a reseller's alias): the middle of the published range.
UNKNOWN_MODEL_SECONDS = 120.0


@dataclass(frozen=True)
class GenerationPrior:
    """Typical seconds from submit to success (the log-normal median) and the spread (its sigma)."""

    median: float
    spread: float
    published: bool = False  # True only for a figure MiniMax publishes; none today


def _prior_seconds(model: str, mode: Mode, resolution: str | None, duration: int | None) -> float:
    base = _BASE_SECONDS.get(model, UNKNOWN_MODEL_SECONDS)
    resolution_factor = _RESOLUTION_FACTOR.get(resolution or "", 1.0)
    length = duration if duration is not None else DEFAULT_DURATION
    duration_factor = _FIXED_SHARE + (1 - _FIXED_SHARE) * length / DEFAULT_DURATION
    return round(base * resolution_factor * duration_factor * _MODE_FACTOR.get(mode, 1.0), 1)


PriorKey = tuple[str, Mode, str, int]  # (model, mode, resolution, duration)

# Every combination the catalog offers, spelled out (``generation_prior`` reads it).
GENERATION_PRIORS: dict[PriorKey, GenerationPrior] = {
    (name, mode, res, dur): GenerationPrior(_prior_seconds(name, mode, res, dur), PRIOR_SPREAD)
    for name, rules in MODELS.items()
    for mode, combos in rules.modes.items()
    for res, dur in combos
}


def generation_prior(model: str, mode: Mode, resolution: str | None, duration: int | None) -> GenerationPrior:
    """The shipped guess for one video; a combination the table lacks (a fixed-output model stored
    without resolution, an unknown model) gets the same formula's figure."""
    if resolution is not None and duration is not None:
        known = GENERATION_PRIORS.get((model, mode, resolution, duration))
        if known is not None:
            return known
    if resolution is None:
        rules = MODELS.get(model)
        resolution = rules.default_resolution if rules is not None else None
    return GenerationPrior(_prior_seconds(model, mode, resolution, duration), PRIOR_SPREAD)
