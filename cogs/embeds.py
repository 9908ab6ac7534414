"""Every embed the /video side shows, in one module, so every message looks alike.

Rendering only: plain task data in, ``discord.Embed`` out. Relative timestamps (``<t:…:R>``) let
Discord count down an ETA or an expiry on the member's screen without the bot editing anything.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import discord

from bot.catalog import (
    CAMERA_COMMANDS,
    MAX_PROMPT_CHARS,
    MODELS,
    SAVED_OPTIONS,
    PriceRow,
    describe_combos,
    describe_options,
    format_credits,
    saved_option_text,
)
from bot.i18n import credits, translate
from bot.i18n.notes import localise_note
from bot.lifecycle import QuotaView, StatusCard, kept_for_member
from bot.lifecycle.cards import EXACT_QUEUE_POSITIONS
from bot.lifecycle.notifier import ResultPost
from bot.spec import Mode
from cogs.pool_text import paid_text, pool_line
from cogs.text import clip, duration_text, lines_within, plain_line, when
from storage.models import JOINED_KINDS, Task, UserPrefs
from storage.states import REFUNDING_STATES, TaskState

BAR_CELLS = 12
PROMPT_PREVIEW = 900
# Discord's embed limits.
FIELD_LIMIT = 1024
MAX_FIELDS = 25
EMBED_LIMIT = 6000

STATE_LABELS: dict[TaskState, str] = {
    state: translate("en", f"card.state.{state.value}") for state in TaskState
}

STATE_COLOURS: dict[TaskState, discord.Colour] = {
    TaskState.DELIVERED: discord.Colour.green(),
    TaskState.FAILED: discord.Colour.red(),
    TaskState.CANCELLED: discord.Colour.dark_grey(),
    TaskState.UNKNOWN: discord.Colour.orange(),
}
RUNNING_COLOUR = discord.Colour.blurple()


def state_label(task: Task, locale: str = "en") -> str:
    """The task's state as the member's own lists and details name it; a video made and charged
    but refused by the member's DMs says it waits for them at /video status."""
    if kept_for_member(task):
        return translate(locale, "list.kept", task_id=task.id)
    if task.state not in STATE_LABELS:
        return task.state.value
    return translate(locale, f"card.state.{task.state.value}")


def quote(text: str, limit: int = PROMPT_PREVIEW) -> str:
    """A member's prompt shown safely: clipped, with no way to break out of the code block."""
    return "```\n" + clip(text, limit).replace("```", "ʼʼʼ") + "\n```"


def progress_bar(fraction: float) -> str:
    fraction = max(0.0, min(1.0, fraction))
    filled = round(fraction * BAR_CELLS)
    return "▰" * filled + "▱" * (BAR_CELLS - filled) + f" {int(fraction * 100)}%"


def card_progress(card: StatusCard, now: float) -> float | None:
    """From the API's own progress when it gives one, else from elapsed over expected time."""
    task = card.task
    if task.state in (TaskState.DOWNLOADING, TaskState.DELIVERING, TaskState.DELIVERED):
        return 1.0
    if task.state is not TaskState.PROCESSING and task.state is not TaskState.SUBMITTED:
        return None
    if task.progress is not None and task.progress > 0:
        return task.progress / 100
    if card.expected_seconds and task.submitted_at is not None:
        # Never 100 % from a guess: the last stretch is the API's to announce.
        return min(0.95, max(0.0, (now - task.submitted_at) / card.expected_seconds))
    return None


def delivered_text(task: Task, locale: str | None = None) -> str | None:
    """``15.1 s (asked 15 s) · with sound``: what the member got, next to what they asked for."""
    if task.state is not TaskState.DELIVERED:
        return None
    parts = []
    if task.delivered_seconds:
        asked = translate(locale, "card.asked", seconds=task.spec.duration) if task.spec.duration else ""
        parts.append(f"{task.delivered_seconds:.1f} s{asked}")
    if task.has_audio is not None:
        parts.append(translate(locale, "options.with_sound" if task.has_audio else "options.no_sound"))
    return " · ".join(parts) or None


def card_state(task: Task, locale: str | None = None) -> str:
    """The state in a card's title (``✅ Delivered``), in ``locale``'s language."""
    return translate(locale, f"card.state.{task.state.value}")


def status_embed(card: StatusCard, *, now: float | None = None, locale: str | None = None) -> discord.Embed:
    """The public status card: what was asked, by whom, and where it stands; in ``locale``'s
    language (the server's in the channel, the member's when re-shown to them)."""
    task = card.task
    moment = time.time() if now is None else now
    state = group_state(card.takes) if card.takes else task.state

    def t(key: str, **values: object) -> str:
        return translate(locale, key, **values)

    state_label = translate(locale, f"card.state.{state.value}")
    title = (
        t("card.title.takes", task_id=task.id, n=len(card.takes), state=state_label)
        if card.takes
        else t("card.title", task_id=task.id, state=state_label)
    )
    embed = discord.Embed(
        title=title,
        description=quote(task.prompt),
        colour=STATE_COLOURS.get(state, RUNNING_COLOUR),
    )
    embed.add_field(name=t("card.model"), value=task.model, inline=True)
    embed.add_field(name=t("card.mode"), value=t(f"mode.{task.mode.value}"), inline=True)
    embed.add_field(name=t("card.options"), value=describe_options(task.spec, locale), inline=True)
    embed.add_field(name=t("card.requested_by"), value=f"<@{task.user_id}>", inline=True)
    cost = paid_text(task, locale)
    if card.takes:
        cost = t("card.cost.takes", cost=cost, n=len(card.takes))
    embed.add_field(name=t("card.cost"), value=cost, inline=True)
    if card.takes:
        embed.add_field(
            name=t("card.takes"), value=clip(takes_text(card.takes, locale), FIELD_LIMIT), inline=False
        )
    origin = edit_text(task, locale)
    if origin is not None:
        embed.add_field(
            name=t(f"card.edit.{task.edit_kind if task.edit_kind in EDIT_LABELS else 'other'}"),
            value=origin,
            inline=False,
        )
    delivered = delivered_text(task, locale)
    if delivered is not None:
        embed.add_field(name=t("card.delivered"), value=delivered, inline=True)
    if task.state is TaskState.QUEUED and card.queue_position is not None:
        embed.add_field(
            name=t("card.queue"), value=t("queue.in_line", position=card.queue_position), inline=True
        )
    elif task.state is TaskState.QUEUED and card.in_line:
        embed.add_field(
            name=t("card.queue"), value=t("card.in_line_after", n=EXACT_QUEUE_POSITIONS), inline=True
        )
    fraction = card_progress(card, moment)
    if fraction is not None and not task.state.final:
        embed.add_field(name=t("card.progress"), value=progress_bar(fraction), inline=False)
    if card.eta is not None and not task.state.final:
        embed.add_field(name=t("card.ready"), value=t("card.about", when=when(card.eta)), inline=True)
    elif card.expected_seconds and task.state in (TaskState.QUEUED, TaskState.SUBMITTING):
        embed.add_field(
            name=t("card.usually_takes"),
            value=duration_text(card.expected_seconds, about=True, locale=locale),
            inline=True,
        )
    if card.note:
        embed.add_field(name=t("card.note"), value=clip(localise_note(card.note, locale), 1000), inline=False)
    embed.set_footer(text=f"Task #{task.id}")
    embed.timestamp = datetime.fromtimestamp(task.created_at, tz=UTC)
    return embed


def group_state(takes: Sequence[Task]) -> TaskState:
    """What a group's card title says: the first take still on its way, else delivered when any
    take was, else how the first take ended."""
    running = next((t.state for t in takes if not t.state.final), None)
    if running is not None:
        return running
    if any(t.state is TaskState.DELIVERED for t in takes):
        return TaskState.DELIVERED
    return takes[0].state


def take_label(task: Task, locale: str | None = None) -> str:
    return translate(locale, "group.take", take=task.take, takes=task.takes)


def takes_text(takes: Sequence[Task], locale: str | None = None) -> str:
    """One line per take of a group's card, in ``locale``'s language: its number, task and state
    (failed: refunded)."""
    lines = []
    for take in takes:
        state = card_state(take, locale) if take.state in STATE_LABELS else take.state.value
        refunded = (
            translate(locale, "group.refunded", amount=credits(take.cost_tenths))
            if take.state in REFUNDING_STATES
            else ""
        )
        lines.append(f"{take_label(take, locale)} · #{take.id} · {state}{refunded}")
    return "\n".join(lines)


def group_result_content(
    first: Task,
    takes: Sequence[ResultPost],
    failed: Sequence[Task],
    *,
    with_files: bool,
    part: tuple[int, int] = (1, 1),
    locale: str | None = None,
) -> str:
    """A group's reply in ``locale``'s language: who asked, each take's marker (a restart finds the
    reply by it, in any language), which take is which attachment or link, and the takes that failed
    (refunded)."""

    def t(key: str, **values: object) -> str:
        return translate(locale, key, **values)

    number, parts = part
    count = first.takes or len(takes)
    head = (
        t("group.ready", user_id=first.user_id, count=count)
        if number == 1
        else t("group.more", user_id=first.user_id)
    )
    if parts > 1:
        head += t("group.part", number=number, parts=parts)
    lines = [head]
    for post in takes:
        task = post.task
        marker = RESULT_MARKER.format(task_id=task.id)
        label = take_label(task, locale)
        if with_files and post.file_path is not None:
            note = f" · {t('result.refitted')}" if post.refitted else ""
            lines.append(f"**{label}** {marker}: `{post.filename}`{note}")
        elif post.link is not None:
            expiry = t("result.expiry", when=when(post.link_expires_at)) if post.link_expires_at else ""
            lines.append(f"**{label}** {marker}: {post.link}{expiry}")
    for task in failed:
        lines.append(t("group.failed", take=take_label(task, locale), amount=credits(task.cost_tenths)))
    return clip("\n".join(lines), 2000)


EDIT_LABELS = {kind: translate("en", f"card.edit.{kind}") for kind in ("remix", "extend", "loop")}


def edit_text(task: Task, locale: str | None = None) -> str | None:
    """ "video #N by @author", linked to the original's result message when it has one."""
    edit = task.edit
    if edit is None:
        return None
    name = translate(locale, "card.video", task_id=edit.of)
    if edit.of_message_id is not None:
        place = task.guild_id if task.guild_id is not None else "@me"
        name = f"[{name}](https://discord.com/channels/{place}/{task.channel_id}/{edit.of_message_id})"
    return translate(locale, "card.video_by", video=name, user=f"<@{edit.of_user_id}>")


PRIVATE_COLOUR = discord.Colour.dark_grey()
PRIVATE_TITLE = translate("en", "card.private_title")
PRIVATE_RUNNING = translate("en", "card.private_running")
PRIVATE_OVER = translate("en", "card.private_over")


def channel_card_embed(card: StatusCard, locale: str | None = None) -> discord.Embed:
    """The card as the channel sees it, in the server's ``locale``: the full card, or for a private
    task (results by DM) the private one."""
    if card.task.deliver_by_dm:
        return private_status_embed(card, locale)
    return status_embed(card, locale=locale)


def private_status_embed(card: StatusCard, locale: str | None = None) -> discord.Embed:
    """A private task's card in the channel: that a private video is in progress, and whose.

    Nothing of the prompt, the images, the options, the queue, the ETA or a note (a failure reason,
    a refund): those go to the requester by DM or ``/video status``. It changes only when the task
    is over, so the notifier need not edit it before. Like every card it is footed "Task #N" (a
    failure notice carries its own mark, :data:`NOTICE_FOOTER`).
    """
    task = card.task
    over = task.state.final
    embed = discord.Embed(
        title=translate(locale, "card.title", task_id=task.id, state=translate(locale, "card.private_title")),
        description=translate(locale, "card.private_over" if over else "card.private_running"),
        colour=PRIVATE_COLOUR,
    )
    embed.add_field(name=translate(locale, "card.requested_by"), value=f"<@{task.user_id}>", inline=True)
    embed.set_footer(text=f"Task #{task.id}")
    embed.timestamp = datetime.fromtimestamp(task.created_at, tz=UTC)
    return embed


RESULT_MARKER = "(task #{task_id})"
# Reads a posted result back (the Details button on it): after the task's marker (the same in every
# language), the first link and, on its line, its expiry as Discord's ``<t:N:R>``. Nothing of the
# wording is matched, so a result posted in any language (or in English before results were
# localised) is read alike.
_POSTED_LINK = re.compile(
    re.escape(RESULT_MARKER).replace(r"\{task_id\}", r"\d+")
    + r"[\s\S]*?(?P<link>https?://[^\s<>]+)(?:[^\n]*?<t:(?P<expires>\d+):R>)?"
)


def result_content(
    task: Task,
    *,
    link: str | None = None,
    expires_at: float | None = None,
    refitted: bool = False,
    locale: str | None = None,
) -> str:
    """The result message's text in ``locale``'s language; the task marker (the same in every
    language) lets a restart find an already posted result.

    ``refitted``: the attached file is a re-encode made to fit the upload limit; Details gives the
    full-quality download link."""
    ready = translate(
        locale, "result.ready", user_id=task.user_id, marker=RESULT_MARKER.format(task_id=task.id)
    )
    joined = join_note(task, locale)
    joined = f"\n{joined}" if joined else ""
    if link is None:
        note = f"\n{translate(locale, 'result.refitted')}" if refitted else ""
        return f"{ready}{joined}{note}"
    expiry = translate(locale, "result.expiry", when=when(expires_at)) if expires_at is not None else ""
    return f"{ready}{joined}\n{translate(locale, 'result.link', link=link)}{expiry}"


POSTER_FILENAME = "poster.jpg"


def poster_embed() -> discord.Embed:
    """The result's card image: the attached poster (the video's first frame), so a result shows
    what was made even as a link or where the player will not start. An image alone, no footer: a
    "Task #N" footer is what marks a status card (and, with "· notice", a failure notice), and the
    marker a restart looks for stays in the text."""
    embed = discord.Embed()
    embed.set_image(url=f"attachment://{POSTER_FILENAME}")
    return embed


def join_note(task: Task, locale: str | None = None) -> str | None:
    """What an Extend's or Loop's result is: the whole, joined, or (the join failed) the clip alone."""
    if task.edit_kind not in JOINED_KINDS or task.edit_of is None:
        return None
    if task.join_state == "joined":
        seconds = (
            translate(locale, "result.joined.seconds", seconds=f"{task.delivered_seconds:.1f}")
            if task.delivered_seconds
            else ""
        )
        kind = "loop" if task.edit_kind == "loop" else "extend"
        return translate(locale, f"result.joined.{kind}", task_id=task.edit_of, seconds=seconds)
    if task.join_state == "alone":
        return translate(locale, "result.joined.alone", task_id=task.edit_of)
    return None


def pickup_content(task: Task, locale: str | None = None) -> str:
    """A private video the member could not be sent, announced in the channel (in ``locale``'s
    language): that it is ready and how to get it, nothing of what it shows. A take of a group
    speaks for the group's takes."""
    if task.group_id is not None and (task.takes or 1) > 1:
        return translate(locale, "pickup.takes", user_id=task.user_id, group_id=task.group_id)
    return translate(locale, "pickup.one", user_id=task.user_id, task_id=task.id)


def pickup_link_content(task: Task, url: str, expires_at: float, locale: str = "en") -> str:
    return translate(locale, "pickup.link", task_id=task.id, url=url, when=when(expires_at))


def posted_link_expired(content: str | None, now: float) -> bool:
    """Whether a result message's text gave a download link that no longer works at ``now``.

    A link posted without an expiry counts as expired: nothing says it still works.
    """
    found = _POSTED_LINK.search(content or "")
    if found is None:
        return False
    expires = found.group("expires")
    return expires is None or int(expires) <= now


def fresh_link_content(task: Task, url: str, expires_at: float, locale: str | None = None) -> str:
    return translate(locale, "details.fresh_link", task_id=task.id, url=url, when=when(expires_at))


# The footer of a failure notice, and how a restart recognises the notices it already posted (a crash
# between posting one and recording it): a mark of its own, not a guess from the card's fields.
NOTICE_FOOTER = "Task #{task_id} · notice"


def failure_embed(task: Task, message: str, locale: str | None = None) -> discord.Embed:
    """The failure notice in ``locale``'s language: the reason too when it is one of the catalog's
    (:func:`bot.i18n.notes.localise_note`; an API's own wording stays as it came)."""
    state = task.state if task.state in STATE_LABELS else TaskState.FAILED
    embed = discord.Embed(
        title=translate(
            locale, "card.title", task_id=task.id, state=translate(locale, f"card.state.{state.value}")
        ),
        description=clip(localise_note(message, locale), 2000),
        colour=STATE_COLOURS.get(task.state, discord.Colour.red()),
    )
    embed.add_field(
        name=translate(locale, "card.prompt"),
        value=plain_line(task.prompt, 200) or translate(locale, "card.no_prompt"),
        inline=False,
    )
    embed.set_footer(text=NOTICE_FOOTER.format(task_id=task.id))
    return embed


def details_embed(task: Task, locale: str = "en") -> discord.Embed:
    """Everything about one video, for whoever clicked Details (the member or a moderator), in the
    clicker's language; a failure's reason stays as recorded."""

    def t(key: str, **values: object) -> str:
        return translate(locale, key, **values)

    embed = discord.Embed(
        title=t("details.title", task_id=task.id),
        description=quote(task.prompt, 1500),
        colour=STATE_COLOURS.get(task.state, RUNNING_COLOUR),
    )
    embed.add_field(name=t("details.state"), value=state_label(task, locale), inline=True)
    embed.add_field(name=t("card.model"), value=task.model, inline=True)
    embed.add_field(name=t("card.mode"), value=t(f"mode.{task.mode.value}"), inline=True)
    embed.add_field(name=t("card.options"), value=describe_options(task.spec, locale), inline=False)
    embed.add_field(name=t("card.cost"), value=paid_text(task, locale), inline=True)
    embed.add_field(name=t("details.requested"), value=when(task.created_at), inline=True)
    if task.submitted_at is not None and task.finished_at is not None:
        embed.add_field(
            name=t("details.generation_time"),
            value=duration_text(task.finished_at - task.submitted_at, about=True, locale=locale),
            inline=True,
        )
    if task.width and task.height:
        embed.add_field(name=t("details.size"), value=f"{task.width}×{task.height}", inline=True)
    if task.video_bytes:
        size = f"{task.video_bytes / (1024 * 1024):.1f} MB"
        embed.add_field(name=t("details.file"), value=size, inline=True)
    if task.regenerated_from is not None:
        embed.add_field(name=t("details.regenerated_from"), value=f"#{task.regenerated_from}", inline=True)
    if task.error_message and task.state in (TaskState.FAILED, TaskState.UNKNOWN, TaskState.CANCELLED):
        embed.add_field(
            name=t("details.why"), value=clip(localise_note(task.error_message, locale), 1000), inline=False
        )
    images = [medium.role.value.replace("_", " ") for medium in task.spec.media]
    if images:
        embed.add_field(name=t("details.images"), value=", ".join(images), inline=True)
    embed.set_footer(text=t("details.footer", task_id=task.id))
    return embed


def quota_embed(view: QuotaView, locale: str | None = None) -> discord.Embed:
    """The member's credits (``/video quota``), their team pools and the price of each option, in
    their ``locale``'s language."""

    def t(key: str, **values: object) -> str:
        return translate(locale, key, **values)

    usage = view.usage
    known = usage.source in ("override", "role", "guild", "default")
    source = t(f"quota.source.{usage.source}") if known else usage.source
    if view.guild is None:  # no server (USER_INSTALL): USER_INSTALL_CREDITS per USER_INSTALL_PERIOD
        source = t("quota.source.personal")
    embed = discord.Embed(title=t("quota.title"), colour=RUNNING_COLOUR)
    embed.add_field(
        name=t("quota.used"),
        value=t("quota.of", used=format_credits(usage.used_tenths), limit=format_credits(usage.limit_tenths)),
    )
    embed.add_field(name=t("quota.left"), value=format_credits(usage.remaining_tenths))
    embed.add_field(name=t("quota.renews"), value=when(usage.resets_at))
    if usage.pending_tenths:
        embed.add_field(
            name=t("quota.reserved"),
            value=t("quota.reserved_value", amount=format_credits(usage.pending_tenths)),
            inline=False,
        )
    embed.description = t("quota.description", per_period=t(f"period.per.{usage.period}"), source=source)
    if view.guild is not None and view.guild.cap_tenths is not None:
        embed.add_field(
            name=t("quota.server_budget"),
            value=t(
                "quota.server_budget_value",
                used=format_credits(view.guild.used_tenths),
                cap=format_credits(view.guild.cap_tenths),
                this_period=t(f"period.this.{view.guild.period}"),
            ),
            inline=False,
        )
    if view.pools:
        lines = [pool_line(u, default=u.pool.name == view.default_pool, locale=locale) for u in view.pools]
        hint = t("quota.pools.hint", order=t("quota.pools.order"))
        embed.add_field(
            name=t("quota.pools.name"),
            value=f"{lines_within(lines, FIELD_LIMIT - len(hint) - 1)}\n{hint}",
            inline=False,
        )
    _add_prices(embed, view.prices, locale)
    return embed


def _add_prices(embed: discord.Embed, prices: Sequence[PriceRow], locale: str | None = None) -> None:
    """One field per model: one field for everything would pass Discord's 1024-character limit."""
    by_model: dict[str, list[str]] = {model: [] for model, *_ in prices}
    for model in by_model:
        # Modes priced alike (H3 charges per second whatever it is made from) share their lines, so
        # 4 modes × 24 choices read as 24 lines, not 96.
        by_mode: dict[Mode, list[str]] = {}
        for name, mode, (resolution, duration), cost in prices:
            if name == model:
                by_mode.setdefault(mode, []).append(f"{resolution} {duration} s — **{format_credits(cost)}**")
        groups: dict[tuple[str, ...], list[Mode]] = {}
        for mode, mode_lines in by_mode.items():
            groups.setdefault(tuple(mode_lines), []).append(mode)
        for lines, modes in groups.items():
            labels = ", ".join(translate(locale, f"mode.{m.value}") for m in modes)
            if len(lines) == 1:
                by_model[model].append(f"{labels} · {lines[0]}")
            else:
                by_model[model].extend([f"{labels}:", *(f"· {line}" for line in lines)])
    if not by_model:
        none = translate(locale, "quota.prices.none")
        embed.add_field(name=translate(locale, "quota.prices.none_name"), value=none, inline=False)
        return
    room = MAX_FIELDS - len(embed.fields)
    models = list(by_model)
    shown = models if len(models) <= room else models[: room - 1]
    for index, model in enumerate(shown):
        name = translate(locale, "quota.prices.name", model=model)
        value = clip("\n".join(by_model[model]), FIELD_LIMIT)
        if len(embed) + len(name) + len(value) > EMBED_LIMIT - 100:
            shown = shown[:index]
            break
        embed.add_field(name=name, value=value, inline=False)
    hidden = [m for m in models if m not in shown]
    if hidden:
        more = clip(", ".join(hidden), 200)
        embed.add_field(name=translate(locale, "quota.prices.more"), value=more, inline=False)


def task_line(task: Task, locale: str = "en") -> str:
    state = state_label(task, locale)
    return f"**#{task.id}** · {state} · {when(task.created_at)}\n{plain_line(task.prompt, 90)}"


def task_list_embed(
    tasks: Sequence[Task], total: int, page: int, pages: int, locale: str = "en"
) -> discord.Embed:
    embed = discord.Embed(title=translate(locale, "list.title"), colour=RUNNING_COLOUR)
    if not tasks:
        embed.description = translate(locale, "list.empty")
    else:
        embed.description = "\n\n".join(task_line(t, locale) for t in tasks)
    footer = translate(locale, "list.footer", page=page + 1, pages=max(1, pages), total=total)
    embed.set_footer(text=footer)
    return embed


def settings_embed(
    prefs: UserPrefs, *, changed: bool = False, pool: str | None = None, locale: str = "en"
) -> discord.Embed:
    embed = discord.Embed(
        title=translate(locale, "settings.title") + (translate(locale, "settings.saved") if changed else ""),
        description=translate(locale, "settings.description"),
        colour=RUNNING_COLOUR,
    )
    for name in SAVED_OPTIONS:
        value = saved_option_text(name, getattr(prefs.defaults, name), locale)
        embed.add_field(name=translate(locale, f"settings.option.{name}"), value=value)
    dm = translate(locale, "settings.dm_yes" if prefs.dm_results else "settings.dm_no")
    embed.add_field(name=translate(locale, "settings.dm_results"), value=dm)
    embed.add_field(
        name=translate(locale, "settings.pool"),
        value=f"`{pool}`" if pool else translate(locale, "settings.no_pool"),
    )
    return embed


def help_embed(locale: str = "en") -> discord.Embed:
    """The guide to /video in the reader's language; model names, options and camera commands stay
    as typed, since those are what the member enters."""
    embed = discord.Embed(
        title=translate(locale, "help.title"),
        description=translate(
            locale,
            "help.description",
            max_prompt=MAX_PROMPT_CHARS,
            image_rules=translate(locale, "help.image_rules"),
        ),
        colour=RUNNING_COLOUR,
    )
    for name, spec in MODELS.items():
        modes = "; ".join(
            f"{translate(locale, f'mode.{mode.value}')}: {describe_combos(combos, locale)}"
            for mode, combos in spec.modes.items()
        )
        extra = translate(locale, "help.camera_suffix") if spec.camera_commands else ""
        embed.add_field(name=name, value=clip(modes + extra, 1024), inline=False)
    commands = ", ".join(f"`[{c}]`" for c in CAMERA_COMMANDS)
    embed.add_field(
        name=translate(locale, "help.camera.name"),
        value=clip(translate(locale, "help.camera.value", commands=commands), 1024),
        inline=False,
    )
    embed.add_field(
        name=translate(locale, "help.commands.name"),
        value=translate(locale, "help.commands.value"),
        inline=False,
    )
    return embed
