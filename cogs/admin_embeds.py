"""Rendering of every `/videoadmin` reply: storage's plain dataclasses in, ``discord.Embed`` out.

Kept apart from the commands so a moderator's change, a list and a report all read alike, and so the
wording can be tested without an interaction. Everything here is shown ephemerally to moderators.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

import discord

from bot.catalog import credits_usd, format_credits, format_usd, spent_usd
from bot.i18n import credits as credits_message
from bot.i18n import en, state_name, translate
from bot.lifecycle.prompt_filter import display_entry
from cogs.text import FIELD_LIMIT, clip, duration_text, lines_within, when
from storage.models import (
    AuditEntry,
    Block,
    BotSpend,
    ChannelRules,
    GuildDefault,
    GuildPolicy,
    GuildStats,
    GuildUsage,
    PromptFilter,
    RoleLimit,
    Task,
    Usage,
    UserOverride,
)

INFO = discord.Colour.blurple()
CHANGED = discord.Colour.green()
UNCHANGED = discord.Colour.light_grey()
WARNING = discord.Colour.orange()

_DESCRIPTION_LIMIT = 4096
SPARK_BARS = "▁▂▃▄▅▆▇█"

Row = tuple[str, str, str]  # (what, before, after)


# -- small text helpers ----------------------------------------------------------------------------


def credits_text(tenths: int, locale: str | None = None) -> str:
    """``"1 credit"`` / ``"2.5 credits"`` in the moderator's language (English by default)."""
    return credits_message(tenths).render(locale)


def credits(tenths: int | None, locale: str | None = None) -> str:
    return translate(locale, "admin.no_limit") if tenths is None else credits_text(tenths, locale)


def per_period(tenths: int, period: str | None, locale: str | None = None) -> str:
    """``"3 credits per week"``; without a period, per the server's (whatever it is set to)."""
    key = f"admin.per.{period}" if period in ("day", "week", "month") else "admin.per.server"
    return translate(locale, key, credits=credits_text(tenths, locale))


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f} %"


def sparkline(values: Sequence[int]) -> str:
    """One block character per value, scaled to the largest; zero is always the lowest bar."""
    top = max(values, default=0)
    if top <= 0:
        return SPARK_BARS[0] * len(values)
    steps = len(SPARK_BARS) - 1
    return "".join(
        SPARK_BARS[0] if v <= 0 else SPARK_BARS[max(1, math.ceil(v / top * steps))] for v in values
    )


def days_between(since: float, until: float) -> list[str]:
    """Every UTC day (ISO date) touched by ``[since, until)``, in order."""
    first = datetime.fromtimestamp(since, UTC).date()
    last = datetime.fromtimestamp(max(since, until - 1e-6), UTC).date()
    out: list[str] = []
    day: date = first
    while day <= last:
        out.append(day.isoformat())
        day += timedelta(days=1)
    return out


def target_text(target: str, locale: str | None = None) -> str:
    """``user:1`` → a mention; the audit log stores targets as plain text, never Discord objects."""
    kind, _, ident = target.partition(":")
    if kind == "user" and ident:
        return f"<@{ident}>"
    if kind == "role" and ident:
        return f"<@&{ident}>"
    if kind == "channel" and ident:
        return f"<#{ident}>"
    if kind == "task" and ident:
        return translate(locale, "admin.audit.target.task", id=ident)
    if kind == "filter" and ident:
        return translate(locale, "admin.audit.target.filter", id=ident)
    if kind == "guild":
        return translate(locale, "admin.audit.target.guild")
    return target


# -- descriptions of single values -----------------------------------------------------------------


def override_text(value: UserOverride | None, locale: str | None = None) -> str:
    if value is None:
        return translate(locale, "admin.override.none")
    return per_period(value.credits_tenths, value.period, locale)


def default_text(value: GuildDefault | None, locale: str | None = None) -> str:
    if value is None:
        return translate(locale, "admin.default.unset")
    return per_period(value.credits_tenths, value.period, locale)


def role_text(value: RoleLimit | None, locale: str | None = None) -> str:
    if value is None:
        return translate(locale, "admin.role.none")
    return per_period(value.credits_tenths, None, locale)


def block_text(value: Block | None, locale: str | None = None) -> str:
    if value is None:
        return translate(locale, "admin.block.none")
    if value.reason:
        return translate(locale, "admin.block.reason", reason=value.reason)
    return translate(locale, "admin.block.on")


def channel_rule_text(value: bool | None, locale: str | None = None) -> str:
    if value is None:
        return translate(locale, "admin.channels.no_rule")
    return translate(locale, "admin.channels.allowed" if value else "admin.channels.denied")


def filter_text(value: PromptFilter | None) -> str:
    return "—" if value is None else f"`{display_entry(value.pattern, value.is_regex)}`"


# The policy's fields in the order they are shown; each is labelled by ``admin.policy.<name>``.
POLICY_FIELDS: tuple[str, ...] = (
    "allowed_models",
    "max_resolution",
    "max_duration",
    "results_public",
    "moderator_role_id",
    "cap_tenths",
    "paused",
    "pause_reason",
    "threads",
)
POLICY_LABELS: dict[str, str] = {name: translate("en", f"admin.policy.{name}") for name in POLICY_FIELDS}


def policy_label(name: str, locale: str | None = None) -> str:
    return translate(locale, f"admin.policy.{name}")


def policy_value(name: str, value: object, locale: str | None = None) -> str:
    if name == "allowed_models":
        models = tuple(value) if isinstance(value, list | tuple) else ()
        return ", ".join(str(m) for m in models) if models else translate(locale, "admin.policy.every_model")
    if name == "max_resolution":
        return str(value) if value else translate(locale, "admin.policy.any")
    if name == "max_duration":
        return (
            translate(locale, "admin.policy.seconds", seconds=value)
            if value
            else translate(locale, "admin.policy.any")
        )
    if name == "results_public":
        return translate(locale, "admin.policy.public" if value else "admin.policy.private")
    if name == "moderator_role_id":
        return f"<@&{value}>" if value else translate(locale, "admin.policy.no_moderator_role")
    if name == "cap_tenths":
        return credits(value if isinstance(value, int) else None, locale)
    if name == "paused":
        return translate(locale, "admin.policy.state_paused" if value else "admin.policy.state_running")
    if name == "pause_reason":
        return str(value) if value else "—"
    if name == "threads":
        if value is None:
            return translate(locale, "admin.policy.threads_default")
        return translate(locale, "admin.policy.on" if value else "admin.policy.off")
    return "—" if value is None else str(value)


def policy_rows(
    before: GuildPolicy | None, after: GuildPolicy | None, locale: str | None = None
) -> list[Row]:
    old = before or GuildPolicy()
    new = after or GuildPolicy()
    rows: list[Row] = []
    for name in POLICY_FIELDS:
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            rows.append(
                (policy_label(name, locale), policy_value(name, a, locale), policy_value(name, b, locale))
            )
    return rows


# -- embeds ----------------------------------------------------------------------------------------


def change_embed(
    title: str,
    rows: Sequence[Row],
    *,
    changed: bool,
    note: str | None = None,
    locale: str | None = None,
) -> discord.Embed:
    """The confirmation of a moderator's change: each row as ``before → after``, in ``locale``'s
    language (the moderator's: the reply is ephemeral)."""
    embed = discord.Embed(title=title, colour=CHANGED if changed else UNCHANGED)
    if not changed:
        embed.description = translate(locale, "admin.nothing_changed")
    for what, before, after in rows[:20]:
        embed.add_field(name=what, value=clip(f"{before} → **{after}**", FIELD_LIMIT), inline=False)
    if note:
        embed.add_field(name=translate(locale, "admin.note"), value=clip(note, FIELD_LIMIT), inline=False)
    return embed


def quota_embed(
    *,
    member_mention: str,
    usage: Usage,
    override: UserOverride | None,
    best_role: RoleLimit | None,
    guild_default: GuildDefault | None,
    block: Block | None,
    guild_usage: GuildUsage | None,
    locale: str | None = None,
) -> discord.Embed:
    if usage.source == "role" and best_role is not None:
        source = translate(locale, "admin.quota.source.role", role=f"<@&{best_role.role_id}>")
    else:
        source = translate(
            locale, f"admin.quota.source.{'role_any' if usage.source == 'role' else usage.source}"
        )
    embed = discord.Embed(
        title=translate(locale, "admin.quota.show_title"),
        description=translate(locale, "admin.quota.member", member=member_mention),
        colour=INFO,
    )
    embed.add_field(
        name=translate(locale, "admin.quota.this_period"),
        value=translate(
            locale,
            "admin.quota.usage",
            used=format_credits(usage.used_tenths),
            allowance=per_period(usage.limit_tenths, usage.period, locale),
            left=format_credits(usage.remaining_tenths),
            pending=format_credits(usage.pending_tenths),
            renews=when(usage.resets_at),
        ),
        inline=False,
    )
    embed.add_field(name=translate(locale, "admin.quota.source"), value=source, inline=False)
    embed.add_field(
        name=translate(locale, "admin.quota.override"), value=override_text(override, locale), inline=True
    )
    embed.add_field(
        name=translate(locale, "admin.quota.best_role"),
        value=f"<@&{best_role.role_id}>: {credits(best_role.credits_tenths, locale)}"
        if best_role
        else translate(locale, "admin.pool.none"),
        inline=True,
    )
    embed.add_field(
        name=translate(locale, "admin.quota.server_default"),
        value=default_text(guild_default, locale),
        inline=True,
    )
    embed.add_field(
        name=translate(locale, "admin.quota.blocked"), value=block_text(block, locale), inline=True
    )
    if guild_usage is not None and guild_usage.cap_tenths is not None:
        embed.add_field(
            name=translate(locale, "admin.quota.server_cap"),
            value=translate(
                locale,
                "admin.quota.server_cap_value",
                used=format_credits(guild_usage.used_tenths),
                cap=credits_text(guild_usage.cap_tenths, locale),
                this_period=translate(locale, f"period.this.{guild_usage.period}"),
            ),
            inline=True,
        )
    return embed


def blocks_embed(blocks: Sequence[Block], locale: str | None = None) -> discord.Embed:
    embed = discord.Embed(title=translate(locale, "admin.blocks.title"), colour=INFO)
    if not blocks:
        embed.description = translate(locale, "admin.blocks.empty")
        return embed
    lines = [
        translate(
            locale,
            "admin.blocks.line",
            member=f"<@{b.user_id}>",
            moderator=f"<@{b.blocked_by}>",
            when=when(b.created_at),
        )
        + (f" · {b.reason}" if b.reason else "")
        for b in blocks
    ]
    embed.description = lines_within(lines, _DESCRIPTION_LIMIT)
    embed.set_footer(text=translate(locale, "admin.blocks.footer", count=len(blocks)))
    return embed


def filters_embed(filters: Sequence[PromptFilter], locale: str | None = None) -> discord.Embed:
    embed = discord.Embed(title=translate(locale, "admin.filter.title"), colour=INFO)
    if not filters:
        embed.description = translate(locale, "admin.filter.empty")
        return embed
    lines = [
        translate(
            locale,
            "admin.filter.line",
            id=f.id,
            entry=filter_text(f),
            kind=translate(locale, "admin.filter.regex" if f.is_regex else "admin.filter.word"),
            moderator=f"<@{f.created_by}>",
        )
        for f in filters
    ]
    embed.description = lines_within(lines, _DESCRIPTION_LIMIT)
    embed.set_footer(text=translate(locale, "admin.filter.footer"))
    return embed


def channels_embed(rules: ChannelRules, locale: str | None = None) -> discord.Embed:
    embed = discord.Embed(title=translate(locale, "admin.channels.title"), colour=INFO)
    if rules.allowed:
        allowed = lines_within([f"<#{c}>" for c in rules.allowed])
        embed.add_field(name=translate(locale, "admin.channels.allowed_only"), value=allowed, inline=False)
    else:
        embed.add_field(
            name=translate(locale, "admin.channels.allowed_label"),
            value=translate(locale, "admin.channels.every"),
            inline=False,
        )
    if rules.denied:
        embed.add_field(
            name=translate(locale, "admin.channels.denied_label"),
            value=lines_within([f"<#{c}>" for c in rules.denied]),
            inline=False,
        )
    return embed


def policy_embed(
    policy: GuildPolicy, default: GuildDefault | None, default_text_line: str, locale: str | None = None
) -> discord.Embed:
    embed = discord.Embed(
        title=translate(locale, "admin.policy.title"), colour=WARNING if policy.paused else INFO
    )
    for name in POLICY_FIELDS:
        if name == "pause_reason" and not policy.paused:
            continue
        embed.add_field(
            name=policy_label(name, locale),
            value=policy_value(name, getattr(policy, name), locale),
            inline=True,
        )
    embed.add_field(
        name=translate(locale, "admin.policy.default_allowance"),
        value=default_text(default, locale) if default else default_text_line,
        inline=True,
    )
    embed.set_footer(text=translate(locale, "admin.policy.footer"))
    return embed


def stats_embed(
    stats: GuildStats, label: str, *, bot_spending: BotSpend | None = None, locale: str | None = None
) -> discord.Embed:
    """The moderator's report: totals, failures by reason, credits with their list-price USD, top members
    and a text sparkline per model (no plotting library: the install stays small); with the operator's
    ceiling (``SPEND_LIMIT_USD``), every server's spending against it. Worded in ``locale``'s language
    (the moderator's); failure codes, model names and figures stay as they are."""

    def t(key: str, **values: object) -> str:
        return translate(locale, f"admin.stats.{key}", **values)

    embed = discord.Embed(
        title=t("title", period=label),
        description=t("range", since=when(stats.since, "f"), until=when(stats.until, "f")),
        colour=INFO,
    )
    embed.add_field(name=t("requested"), value=str(stats.requested), inline=True)
    embed.add_field(name=t("delivered"), value=str(stats.delivered), inline=True)
    embed.add_field(name=t("failed"), value=str(stats.failed), inline=True)
    embed.add_field(name=t("success_rate"), value=percent(stats.success_rate), inline=True)
    embed.add_field(name=t("median"), value=duration_text(stats.median_generation_seconds), inline=True)
    dollars, exact = spent_usd(stats.delivered_by_combo)
    estimate = "" if exact else "≈ "
    embed.add_field(
        name=t("credits_spent"),
        value=f"{format_credits(stats.credits_charged_tenths)} ({estimate}{format_usd(dollars)})",
        inline=True,
    )
    if stats.cancelled or stats.in_progress:
        embed.add_field(
            name=t("other"),
            value=t("other_value", cancelled=stats.cancelled, in_progress=stats.in_progress),
            inline=True,
        )
    if stats.failed_by_reason:
        reasons = [f"`{reason}`: {n}" for reason, n in stats.failed_by_reason.items()]
        embed.add_field(name=t("failures"), value=lines_within(reasons), inline=False)
    if stats.top_users:
        top = [
            t(
                "top_line_one" if u.delivered == 1 else "top_line_many",
                rank=i,
                member=f"<@{u.user_id}>",
                credits=credits_text(u.credits_tenths, locale),
                n=u.delivered,
            )
            for i, u in enumerate(stats.top_users, start=1)
        ]
        embed.add_field(name=t("top"), value=lines_within(top), inline=False)
    chart = usage_chart(stats)
    if chart:
        embed.add_field(name=t("daily"), value=chart, inline=False)
    if bot_spending is not None:
        embed.add_field(name=t("spending"), value=spending_text(bot_spending, locale), inline=False)
    return embed


def spending_text(spend: BotSpend, locale: str | None = None) -> str:
    """Reserved and not refunded (delivered or still in progress) against the operator's ceiling."""
    this_period = (
        translate(locale, f"period.this.{spend.period}")
        if spend.period in ("day", "week", "month")
        else f"this {spend.period}"
    )
    return translate(
        locale,
        "admin.stats.spending_value",
        used=format_credits(spend.used_tenths),
        limit=credits_text(spend.limit_tenths, locale),
        this_period=this_period,
        used_usd=format_usd(credits_usd(spend.used_tenths)),
        limit_usd=format_usd(credits_usd(spend.limit_tenths)),
        left=format_credits(max(0, spend.limit_tenths - spend.used_tenths)),
        renews=when(spend.resets_at),
    )


def usage_chart(stats: GuildStats, *, max_width: int = 31) -> str:
    """A text sparkline per model (requests per UTC day) in a code block; empty without data."""
    if not stats.daily:
        return ""
    days = days_between(stats.since, stats.until)[-max_width:]
    counts: dict[str, dict[str, int]] = {}
    for row in stats.daily:
        counts.setdefault(row.model, {})[row.day] = counts.get(row.model, {}).get(row.day, 0) + row.requested
    name_width = min(24, max(len(m) for m in counts))
    lines = []
    for model in sorted(counts):
        values = [counts[model].get(day, 0) for day in days]
        lines.append(f"{model[:name_width]:<{name_width}} {sparkline(values)} {sum(values)}")
    header = f"{days[0]} → {days[-1]} (UTC)"
    body = "\n".join(lines)
    return clip(f"```\n{header}\n{body}\n```", FIELD_LIMIT) if len(body) < 900 else f"```\n{header}\n```"


def task_line(task: Task, locale: str | None = None) -> str:
    spec = task.spec
    options = " ".join(p for p in (spec.resolution, f"{spec.duration}s" if spec.duration else None) if p)
    parts = [
        f"`#{task.id}`",
        f"<@{task.user_id}>",
        f"{task.model} {options}".strip(),
        f"**{state_name(task.state.value).render(locale)}**",
        f"{format_credits(task.cost_tenths)} cr",
        when(task.created_at),
    ]
    if task.error_code and task.state.value in ("failed", "unknown"):
        parts.append(f"`{task.error_code}`")
    return " · ".join(parts)


def tasks_embed(
    tasks: Sequence[Task], *, title: str, page: int, pages: int, total: int, locale: str | None = None
) -> discord.Embed:
    """A page of `/videoadmin tasks` in the moderator's language (states named as the ``state``
    option's choices are; models and error codes as the API gives them)."""
    embed = discord.Embed(title=title, colour=INFO)
    if not tasks:
        embed.description = translate(locale, "admin.tasks.empty")
    else:
        embed.description = lines_within([task_line(t, locale) for t in tasks], _DESCRIPTION_LIMIT)
    unknown = sum(1 for t in tasks if t.state.value == "unknown")
    footer = translate(
        locale,
        "admin.tasks.footer_one" if total == 1 else "admin.tasks.footer_many",
        page=page + 1,
        pages=max(1, pages),
        total=total,
    )
    if unknown:
        footer += " · " + translate(locale, "admin.tasks.footer_unknown")
    embed.set_footer(text=footer)
    return embed


def _audit_label(key: str, locale: str | None) -> str:
    """A stored field's name: ``admin.audit.field.<key>`` when the catalog has it, else the key
    itself made readable (a field added later still shows)."""
    name = f"admin.audit.field.{key}"
    return translate(locale, name) if name in en.MESSAGES else key.replace("_", " ")


def _change_value(key: str, value: object, locale: str | None = None) -> str:
    if value is None:
        return "—"
    if key.endswith("_tenths") and isinstance(value, int):
        return format_credits(value)
    if key == "allowed_models" and isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or translate(locale, "admin.audit.every_model")
    if key.endswith("role_id") and isinstance(value, int):
        return f"<@&{value}>"
    if key in ("created_at", "blocked_at") and isinstance(value, int | float):
        return when(value, "f")
    return str(value)


def describe_audit(
    before: Mapping[str, object] | None, after: Mapping[str, object] | None, locale: str | None = None
) -> str:
    """Only what changed, ``key: before → after``; the bookkeeping fields are left out."""
    skip = {"created_at", "blocked_by", "created_by", "id", "user_id", "role_id"}
    keys: Iterable[str] = sorted(set(before or {}) | set(after or {}))
    parts = []
    for key in keys:
        if key in skip:
            continue
        old = (before or {}).get(key)
        new = (after or {}).get(key)
        if old == new:
            continue
        label = _audit_label(key, locale)
        parts.append(f"{label}: {_change_value(key, old, locale)} → {_change_value(key, new, locale)}")
    if not parts:
        if before is None and after is not None:
            return translate(locale, "admin.audit.created")
        if after is None and before is not None:
            return translate(locale, "admin.audit.removed")
        return "—"
    return "; ".join(parts)


def audit_embed(
    entries: Sequence[AuditEntry],
    *,
    page: int,
    pages: int,
    total: int,
    member_mention: str | None,
    locale: str | None = None,
) -> discord.Embed:
    """A page of the audit log in the moderator's language (the actions keep their stored names,
    ``quota.set``: they are what the log records)."""
    title = (
        translate(locale, "admin.audit.actions_member", member=member_mention)
        if member_mention
        else translate(locale, "admin.audit.actions")
    )
    embed = discord.Embed(title=translate(locale, "admin.audit.title"), description=title, colour=INFO)
    if not entries:
        embed.description = translate(locale, "admin.audit.none", title=title)
    lines = [
        clip(
            f"`#{e.id}` {when(e.created_at)} <@{e.actor_id}> **{e.action}** {target_text(e.target, locale)}\n"
            f"↳ {describe_audit(e.before, e.after, locale)}",
            400,
        )
        for e in entries
    ]
    if lines:
        embed.description = title + "\n\n" + lines_within(lines, _DESCRIPTION_LIMIT - len(title) - 2)
    embed.set_footer(
        text=translate(
            locale,
            "admin.audit.footer_one" if total == 1 else "admin.audit.footer_many",
            page=page + 1,
            pages=max(1, pages),
            total=total,
        )
    )
    return embed
