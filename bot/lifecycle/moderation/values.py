"""Turning what a moderator typed into checked values, or a refusal that says how to fix it.

Discord enforces option types and ranges in its client, but a command can also be invoked by other
means (and by tests); every bound is therefore checked here again before anything is written.
The bounds are the moderation rules' own, so they live beside the service, not in the cog.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from bot.catalog import MODELS, option_policy
from bot.catalog import possible_videos as _possible_videos
from bot.i18n import credits
from bot.lifecycle.moderation.records import ModerationRefused

# Sane upper bounds: far above any real allowance, low enough to catch a typo of extra zeros.
MAX_MEMBER_CREDITS = 10_000
MAX_GUILD_CAP_CREDITS = 1_000_000
MAX_REASON_CHARS = 300
# What the text options take (their Discord ``max_length`` too). Every refusal that repeats what the
# moderator typed repeats at most this much, so the reply stays far inside Discord's 2,000 characters.
MAX_MODELS_CHARS = 300  # every model's name, comma-separated, is 133
MAX_CAP_CHARS = 20  # "1000000.0", "unlimited"
_TENTH = Decimal("0.1")

_NONE_WORDS = frozenset({"none", "off", "no", "unlimited", "clear", "-"})


def credits_to_tenths(
    value: float | str, *, option: str, maximum: int = MAX_MEMBER_CREDITS, operator_tenths: int | None = None
) -> int:
    """``2.5`` → ``25``: non-negative, at most one decimal, at most ``maximum`` credits and at most
    ``operator_tenths`` (the operator's ``MAX_MEMBER_CREDITS``/``MAX_GUILD_CAP_CREDITS``)."""
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ModerationRefused.keyed("admin.refused.not_number", option=option) from None
    if not amount.is_finite():
        raise ModerationRefused.keyed("admin.refused.not_number", option=option)
    if amount < 0:
        raise ModerationRefused.keyed("admin.refused.negative", option=option)
    if amount > maximum:
        raise ModerationRefused.keyed("admin.refused.too_many", option=option, maximum=maximum)
    # Compared exactly: arithmetic such as ``amount * 10`` rounds to 28 digits, which turned
    # 1.0000000000000000000000000000001 into a whole 10 tenths. Bounded above, so quantize cannot overflow.
    rounded = amount.quantize(_TENTH)
    if rounded != amount:
        raise ModerationRefused.keyed("admin.refused.one_decimal", option=option, value=value)
    tenths = int(rounded * 10)
    if operator_tenths is not None and tenths > operator_tenths:
        most = credits(operator_tenths)
        raise ModerationRefused.keyed("admin.refused.operator_grant", option=option, most=most)
    return tenths


def check_length(raw: str, *, option: str, limit: int) -> str:
    """``raw`` if it fits the option; else a refusal that does not repeat it (it could be any length)."""
    if len(raw) > limit:
        raise ModerationRefused.keyed("admin.refused.too_long", option=option, limit=limit, length=len(raw))
    return raw


def parse_cap(raw: str, *, operator_tenths: int | None = None) -> int | None:
    """The guild cap: credits per period, or ``None`` (no cap) for ``0``/``none``.

    With an operator maximum a server cannot go without a cap: "none" is refused like a cap above it.
    """
    text = check_length(raw, option="cap", limit=MAX_CAP_CHARS).strip().lower()
    if text in _NONE_WORDS or text in {"0", "0.0"}:
        if operator_tenths is not None:
            raise ModerationRefused.keyed("admin.refused.operator_cap", most=credits(operator_tenths))
        return None
    tenths = credits_to_tenths(
        text, option="cap", maximum=MAX_GUILD_CAP_CREDITS, operator_tenths=operator_tenths
    )
    return None if tenths == 0 else tenths


def parse_models(raw: str) -> tuple[str, ...]:
    """A comma list checked against the model table; ``all`` (or empty) means every model.

    Names match case-insensitively and come back spelled as the table spells them, without repeats.
    """
    check_length(raw, option="allowed_models", limit=MAX_MODELS_CHARS)
    parts = [p.strip() for p in raw.replace(";", ",").split(",") if p.strip()]
    if not parts or (len(parts) == 1 and parts[0].lower() in {"all", "any", "*"}):
        return ()
    by_lower = {name.lower(): name for name in MODELS}
    unknown = [p for p in parts if p.lower() not in by_lower]
    if unknown:
        raise ModerationRefused.keyed(
            "admin.refused.unknown_models" if len(unknown) > 1 else "admin.refused.unknown_model",
            names=", ".join(unknown),
            models=", ".join(MODELS),
        )
    chosen: list[str] = []
    for part in parts:
        name = by_lower[part.lower()]
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def clean_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    text = " ".join(reason.split())
    if not text:
        return None
    if len(text) > MAX_REASON_CHARS:
        raise ModerationRefused.keyed("admin.refused.reason_long", limit=MAX_REASON_CHARS)
    return text


def possible_videos(
    allowed_models: tuple[str, ...], max_resolution: str | None, max_duration: int | None
) -> int:
    """How many (model, mode, resolution, duration) choices a policy leaves; 0 means every request fails."""
    return _possible_videos(option_policy(allowed_models, max_resolution, max_duration))
