"""Limits on what storage accepts; each refusal is an :class:`InvalidValue` naming the field.

Text that members or moderators type is refused when too long (they can fix it); text that comes
from the API (status words, error messages) is truncated instead, because refusing it would stop a
failing task from being marked failed and refunded.
"""

from __future__ import annotations

import re

from storage.errors import InvalidValue

MAX_CREDITS_TENTHS = 1_000_000 * 10
MAX_PROMPT_CHARS = 7000  # the longest any model takes (MiniMax-H3); each model's own is validation's
MAX_REASON_CHARS = 500
MAX_PATTERN_CHARS = 200
MAX_URL_CHARS = 4096
MAX_NAME_CHARS = 100
MAX_SYSTEM_TEXT_CHARS = 1000
MAX_LOCALE_CHARS = 16  # a Discord locale code: 2 (``ja``) to 6 (``es-419``) characters


def tenths(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidValue(name, f"must be a whole number of tenths of a credit (got {value!r}).")
    if value < 0:
        raise InvalidValue(name, f"must not be negative (got {value / 10:g} credits).")
    if value > MAX_CREDITS_TENTHS:
        raise InvalidValue(
            name, f"must be at most {MAX_CREDITS_TENTHS // 10:,} credits (got {value / 10:g})."
        )
    return value


def count(name: str, value: object, *, maximum: int | None = None, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidValue(name, f"must be a whole number (got {value!r}).")
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise InvalidValue(name, f"must be at least {minimum}{upper} (got {value}).")
    return value


def text(name: str, value: object, maximum: int, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidValue(name, f"must be text (got {type(value).__name__}).")
    if not allow_empty and not value.strip():
        raise InvalidValue(name, "must not be empty.")
    if len(value) > maximum:
        raise InvalidValue(name, f"is too long: {len(value)} characters, at most {maximum} allowed.")
    return value


def optional_text(name: str, value: object, maximum: int) -> str | None:
    return None if value is None else text(name, value, maximum)


def system_text(value: object) -> str | None:
    """API-sourced text: kept, but cut to a bounded size."""
    if value is None:
        return None
    value = str(value)
    return value if len(value) <= MAX_SYSTEM_TEXT_CHARS else value[: MAX_SYSTEM_TEXT_CHARS - 1] + "…"


def regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise InvalidValue("pattern", f"is not a valid regular expression: {exc}.") from None
    return pattern


def optional_int(name: str, value: object, *, minimum: int = 0, maximum: int | None = None) -> int | None:
    return None if value is None else count(name, value, minimum=minimum, maximum=maximum)
