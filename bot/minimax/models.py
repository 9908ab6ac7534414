"""The one table of model rules: modes, resolution/duration pairs and prices.

Validation, pricing, the help text and the choices offered to members all read this table, so a
model added or repriced here changes every place at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class Mode(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    FIRST_LAST = "first_last"
    SUBJECT = "subject"


MODE_LABELS: dict[Mode, str] = {
    Mode.TEXT: "text-to-video",
    Mode.IMAGE: "image-to-video",
    Mode.FIRST_LAST: "first + last frame",
    Mode.SUBJECT: "subject reference",
}

RESOLUTIONS: tuple[str, ...] = ("512P", "720P", "768P", "1080P")
DURATIONS: tuple[int, ...] = (6, 10)

# One credit is what members see: one 6-second 768P MiniMax-Hailuo-2.3 video.
CREDIT_USD = Decimal("0.28")

Combo = tuple[str, int]  # (resolution, duration)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    modes: dict[Mode, frozenset[Combo]]
    prices_usd: dict[Combo, Decimal]
    camera_commands: bool
    # The 01 series and S2V-01 have a fixed output; sending duration/resolution is unsafe there.
    sends_duration_and_resolution: bool
    default_resolution: str
    fast_pretreatment: bool

    def combos(self, mode: Mode) -> frozenset[Combo]:
        return self.modes.get(mode, frozenset())


_HAILUO_STANDARD: frozenset[Combo] = frozenset({("768P", 6), ("1080P", 6), ("768P", 10)})
_HAILUO_02_IMAGE: frozenset[Combo] = _HAILUO_STANDARD | {("512P", 6), ("512P", 10)}
_FIXED_720: frozenset[Combo] = frozenset({("720P", 6)})

_HAILUO_PRICES = {
    ("768P", 6): Decimal("0.28"),
    ("768P", 10): Decimal("0.56"),
    ("1080P", 6): Decimal("0.49"),
}


def _hailuo(name: str, modes: dict[Mode, frozenset[Combo]], prices: dict[Combo, Decimal]) -> ModelSpec:
    return ModelSpec(name, modes, prices, True, True, "768P", True)


# The 01 series is not in the pay-as-you-go table we were given; these are MiniMax's long-standing
# list prices ($0.43 per 720P 6 s video, $0.65 for S2V-01), used for credits and USD estimates.
def _legacy(name: str, mode: Mode, camera: bool, price: Decimal = Decimal("0.43")) -> ModelSpec:
    return ModelSpec(name, {mode: _FIXED_720}, {("720P", 6): price}, camera, False, "720P", False)


MODELS: dict[str, ModelSpec] = {
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


def mode_for(*, has_first: bool, has_last: bool, has_subject: bool) -> Mode:
    if has_subject:
        return Mode.SUBJECT
    if has_last:
        return Mode.FIRST_LAST
    if has_first:
        return Mode.IMAGE
    return Mode.TEXT


def default_model_for(mode: Mode) -> str:
    return {
        Mode.TEXT: DEFAULT_MODEL,
        Mode.IMAGE: IMAGE_ONLY_DEFAULT_MODEL,
        Mode.FIRST_LAST: FIRST_LAST_DEFAULT_MODEL,
        Mode.SUBJECT: SUBJECT_DEFAULT_MODEL,
    }[mode]


def usd_to_credit_tenths(usd: Decimal) -> int:
    """Credits are stored as integer tenths, priced relative to one 768P 6 s Hailuo-2.3 video."""
    return int((usd / CREDIT_USD * 10).quantize(Decimal(1), rounding=ROUND_HALF_UP))


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
