"""How a team credit pool reads in Discord: who it is for, what is left, which pool paid a video.

One place for the words, shared by `/videoadmin pool`, `/video quota`, the pool option's choices and
the status card. Names are plain (``[a-z0-9_-]``, :data:`storage.pools.NAME_PATTERN`), so they need
no escaping; roles and channels are mentions, which render without pinging in these replies.
"""

from __future__ import annotations

from bot.catalog import format_credits
from bot.i18n import credits, translate
from cogs.text import clip
from storage.models import Pool, PoolUsage, Task

CHOICE_CHARS = 100  # Discord's limit for an autocomplete choice's name


def who_text(pool: Pool, locale: str | None = None) -> str:
    """``members with @role or in #channel``: who may spend from it (either is enough)."""
    parts = []
    if pool.role_id is not None:
        parts.append(translate(locale, "admin.pool.who_role", role=f"<@&{pool.role_id}>"))
    if pool.channel_id is not None:
        parts.append(translate(locale, "admin.pool.who_channel", channel=f"<#{pool.channel_id}>"))
    if len(parts) == 2:
        return translate(locale, "words.or", a=parts[0], b=parts[1])
    return "".join(parts)


def pool_text(pool: Pool | None, locale: str | None = None) -> str:
    """One line for a ``before → after`` row: the allowance and who it is for."""
    if pool is None:
        return translate(locale, "admin.pool.none")
    allowance = translate(
        locale, f"admin.per.{pool.period}", credits=credits(pool.credits_tenths).render(locale)
    )
    return translate(
        locale, "admin.pool.line", name=pool.name, allowance=allowance, who=who_text(pool, locale)
    )


def left_text(usage: PoolUsage, locale: str | None = None) -> str:
    """``2.5 of 10 left this week (renews <t:…:R>)``."""
    pool = usage.pool
    return translate(
        locale,
        "pool.left",
        left=format_credits(usage.remaining_tenths),
        total=format_credits(pool.credits_tenths),
        this_period=translate(locale, f"period.this.{pool.period}"),
        renews=f"<t:{int(usage.resets_at)}:R>",
    )


def pool_line(usage: PoolUsage, *, default: bool = False, locale: str | None = None) -> str:
    mark = translate(locale, "pool.default_mark") if default else ""
    return translate(locale, "pool.line", name=usage.pool.name, mark=mark, left=left_text(usage, locale))


def choice_label(usage: PoolUsage, locale: str | None = None) -> str:
    """An autocomplete choice: plain text (no markdown renders there)."""
    pool = usage.pool
    label = translate(
        locale,
        "pool.choice",
        name=pool.name,
        left=format_credits(usage.remaining_tenths),
        total=format_credits(pool.credits_tenths),
        this_period=translate(locale, f"period.this.{pool.period}"),
    )
    return clip(label, CHOICE_CHARS)


def paid_text(task: Task, locale: str | None = None) -> str:
    """The card's cost: ``2 credits``, or ``2 credits · pool `design` `` for a pool-paid video."""
    cost = credits(task.cost_tenths).render(locale)
    return (
        cost
        if task.pool_name is None
        else translate(locale, "card.paid_by_pool", cost=cost, pool=task.pool_name)
    )
