"""The catalog: every model, mode, duration, resolution, combination and price, in one table.

Validation, pricing, ``/video quota``, ``/video help``, the command choices and moderator statistics all
read it, so a model added or repriced here changes every place at once. Credits and their formatting,
dollar estimates and the image rules the help text states live here too, for the same reason.

Plain data: imports only :mod:`bot.spec`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from bot.spec import Mode, VideoSpec

MODE_LABELS: dict[Mode, str] = {
    Mode.TEXT: "text-to-video",
    Mode.IMAGE: "image-to-video",
    Mode.FIRST_LAST: "first + last frame",
    Mode.SUBJECT: "subject reference",
}

RESOLUTIONS: tuple[str, ...] = ("512P", "720P", "768P", "1080P")
# Every aspect ratio some model offers, in the order the command lists them.
RATIOS: tuple[str, ...] = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive")
DURATIONS: tuple[int, ...] = (6, 10)

# One credit is what members see: one 6-second 768P MiniMax-Hailuo-2.3 video.
CREDIT_USD = Decimal("0.28")

Combo = tuple[str, int]  # (resolution, duration)


@dataclass(frozen=True)
class ModelRules:
    """What one model can make and what each video costs."""

    name: str
    modes: dict[Mode, frozenset[Combo]]
    prices_usd: dict[Combo, Decimal]
    camera_commands: bool
    # The 01 series and S2V-01 have a fixed output; sending duration/resolution is unsafe there.
    sends_duration_and_resolution: bool
    default_resolution: str
    fast_pretreatment: bool
    # Aspect ratios a member may choose; empty: the model decides (Hailuo: 16:9, or the image's shape).
    ratios: frozenset[str] = frozenset()

    def combos(self, mode: Mode) -> frozenset[Combo]:
        return self.modes.get(mode, frozenset())

    def refuses(self, spec: VideoSpec) -> str | None:
        """Why this model cannot take one of the spec's per-model options (``None``: it can).

        Resolution, duration and fast have their own refusals, which name what the model offers.
        """
        if spec.ratio is not None and spec.ratio not in self.ratios:
            if not self.ratios:
                return (
                    f"{self.name} does not take a ratio: its videos are 16:9, or follow the shape of "
                    "the first_frame image. Leave ratio out."
                )
            return f"{self.name} makes videos in {', '.join(sorted(self.ratios))}, not {spec.ratio}."
        return None


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
    return ModelRules(name, {mode: _FIXED_720}, {("720P", 6): price}, camera, False, "720P", False)


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
    )
}

DEFAULT_MODEL = "MiniMax-Hailuo-2.3"
FIRST_LAST_DEFAULT_MODEL = "MiniMax-Hailuo-02"
SUBJECT_DEFAULT_MODEL = "S2V-01"
IMAGE_ONLY_DEFAULT_MODEL = "MiniMax-Hailuo-2.3"

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

MAX_PROMPT_CHARS = 2000


def resolution_rank(resolution: str) -> int:
    """Order used by a guild's "maximum resolution" policy."""
    return RESOLUTIONS.index(resolution)


def default_model_for(mode: Mode) -> str:
    return {
        Mode.TEXT: DEFAULT_MODEL,
        Mode.IMAGE: IMAGE_ONLY_DEFAULT_MODEL,
        Mode.FIRST_LAST: FIRST_LAST_DEFAULT_MODEL,
        Mode.SUBJECT: SUBJECT_DEFAULT_MODEL,
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


def format_credits(tenths: int) -> str:
    """``10`` → ``"1"``, ``18`` → ``"1.8"``: members see credits, never tenths."""
    whole, frac = divmod(abs(tenths), 10)
    sign = "-" if tenths < 0 else ""
    return f"{sign}{whole}" if frac == 0 else f"{sign}{whole}.{frac}"


def describe_combos(combos: frozenset[Combo]) -> str:
    """Human list such as ``768P: 6 s or 10 s; 1080P: 6 s`` for refusal messages."""
    by_res: dict[str, list[int]] = {}
    for res, dur in combos:
        by_res.setdefault(res, []).append(dur)
    parts = []
    for res in sorted(by_res, key=resolution_rank):
        durs = " or ".join(f"{d} s" for d in sorted(by_res[res]))
        parts.append(f"{res}: {durs}")
    return "; ".join(parts)


def models_for_mode(mode: Mode) -> list[str]:
    return [name for name, spec in MODELS.items() if mode in spec.modes]


# What an option is when neither the member nor their saved defaults say (model, resolution and
# duration are chosen per request from the combinations above instead).
OPTION_DEFAULTS: dict[str, object] = {"prompt_optimizer": True}

# How /video settings shows each saved option: its label, and what "auto" means for it.
SAVED_OPTION_LABELS: dict[str, tuple[str, str]] = {
    "model": ("Model", "auto (the best for each request)"),
    "resolution": ("Resolution", "auto (the model's default)"),
    "duration": ("Duration", f"auto ({DURATIONS[0]} s)"),
    "prompt_optimizer": ("Prompt optimizer", "auto (on)"),
}


def saved_option_text(name: str, value: object) -> str:
    """A saved option as ``/video settings`` shows it: ``10 s``, ``on``, a name, or what auto means."""
    if value is None:
        return SAVED_OPTION_LABELS[name][1]
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value} s" if name == "duration" else str(value)


def as_sent(spec: VideoSpec) -> VideoSpec:
    """A resolved spec as the API must receive it: the 01 series and S2V-01 have a fixed output and
    refuse a duration or resolution (kept on the task for its price and card); fast only where offered."""
    rules = MODELS.get(spec.model or "")
    if rules is None:
        return spec
    fixed = not rules.sends_duration_and_resolution
    if not rules.ratios:
        spec = replace(spec, ratio=None)
    return replace(
        spec,
        duration=None if fixed else spec.duration,
        resolution=None if fixed else spec.resolution,
        fast=bool(spec.fast) and rules.fast_pretreatment,
    )


def describe_options(spec: VideoSpec) -> str:
    """``768P · 6 s · prompt optimizer on · fast``: a video's options on its card."""
    parts = []
    if spec.resolution:
        parts.append(spec.resolution)
    if spec.duration:
        parts.append(f"{spec.duration} s")
    parts.append("prompt optimizer " + ("on" if spec.prompt_optimizer else "off"))
    if spec.ratio:
        parts.append(spec.ratio)
    if spec.fast:
        parts.append("fast")
    return " · ".join(parts)


def credits_text(tenths: int) -> str:
    """``"1.8 credits"``: how every message names an amount."""
    return f"{format_credits(tenths)} credits"


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

    def describe(self) -> str:
        parts = []
        if self.max_resolution is not None:
            parts.append(f"up to {self.max_resolution}")
        if self.max_duration is not None:
            parts.append(f"up to {self.max_duration} s")
        return " and ".join(parts) or "no limits"


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
