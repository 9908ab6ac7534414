"""Text as Discord shows it: clipping to its limits, members' text made inert, times and durations.

One helper of each kind for every embed and reply, so a limit or a format is decided once.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.i18n import translate

FIELD_LIMIT = 1024  # an embed field's value


def clip(text: str, limit: int = FIELD_LIMIT) -> str:
    """At most ``limit`` characters, with an ellipsis where it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain_line(text: str, limit: int) -> str:
    """A member's text inlined into our own markdown as one inert line of at most ``limit`` characters.

    Whitespace is collapsed (a newline would start a header or a quote) and markdown escaped, so a
    prompt with ```` ``` ````, ``#``, ``>`` or ``||`` cannot reformat the page around it. Escaping
    comes after clipping, so no escape is cut in half; the cut shrinks until the escaped text fits.
    """
    flat = " ".join(text.split())
    cut = min(len(flat), limit)
    while True:
        shown = flat if cut >= len(flat) else flat[: max(0, cut - 1)] + "…"
        escaped = discord.utils.escape_markdown(shown)
        if len(escaped) <= limit or cut <= 1:
            return escaped
        cut -= max(1, (len(escaped) - limit + 1) // 2)


def lines_within(lines: Sequence[str], limit: int = FIELD_LIMIT, *, more: str = "…and {n} more") -> str:
    """Join as many whole lines as fit, then say how many were left out (never a cut line)."""
    out: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        reserve = 0 if last else len(more.format(n=len(lines) - index)) + 1
        if used + len(line) + reserve > limit:
            out.append(more.format(n=len(lines) - index))
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)


def when(ts: float, style: str = "R") -> str:
    """A Discord timestamp, shown in each reader's own time zone (``R``: "in 5 minutes")."""
    return f"<t:{int(ts)}:{style}>"


def duration_text(seconds: float | None, *, about: bool = False, locale: str | None = None) -> str:
    """``1 min 5 s`` (exact, for moderators' figures) or ``about 2 min`` (``about``: an estimate, in
    ``locale``'s language)."""
    if seconds is None:
        return "—"
    if about:
        if seconds < 90:
            return translate(locale, "duration.about_seconds", n=round(seconds))
        return translate(locale, "duration.about_minutes", n=round(seconds / 60))
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
