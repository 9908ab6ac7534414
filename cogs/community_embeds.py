"""What the team-facing `/video` commands show: the showcase ranking (`/video top`) and what is
being made in a channel (`/video queue`).

Kept apart from :mod:`cogs.embeds` (a member's own videos) so each file renders one kind of page.
Members' prompts are inlined inert (:func:`cogs.text.plain_line`) and every mention is sent with
``AllowedMentions.none()`` by the caller. Texts come from :mod:`bot.i18n` in the ``locale`` the
caller picked (these replies are private: the member's own).
"""

from __future__ import annotations

import discord

from bot.i18n import translate
from bot.lifecycle.channel_queue import ChannelQueue
from cogs.text import lines_within, plain_line, when
from storage.showcase import TopEntry

INFO = discord.Colour.blurple()
PROMPT_CHARS = 80
MEDALS = ("🥇", "🥈", "🥉")
QUEUE_PROMPT_CHARS = 60
QUEUE_ROWS = 20


def post_link(entry: TopEntry) -> str:
    return f"https://discord.com/channels/{entry.guild_id}/{entry.channel_id}/{entry.message_id}"


def top_embed(entries: list[TopEntry], period: str, locale: str | None = None) -> discord.Embed:
    """The most-voted showcase videos of the period, each with its votes, author and a link."""
    embed = discord.Embed(title=translate(locale, f"top.title.{period}"), colour=INFO)
    if not entries:
        embed.description = translate(locale, "top.empty")
        return embed
    lines = []
    for rank, entry in enumerate(entries, start=1):
        badge = MEDALS[rank - 1] if rank <= len(MEDALS) else f"**{rank}.**"
        votes = (
            translate(locale, "top.votes_one")
            if entry.votes == 1
            else translate(locale, "top.votes_many", n=entry.votes)
        )
        prompt = plain_line(entry.prompt, PROMPT_CHARS)
        shared = translate(locale, "top.shared", when=when(entry.shared_at))
        link = f"[{prompt}]({post_link(entry)})"
        lines.append(f"{badge} {link} · ⭐ {votes} · <@{entry.user_id}> · {entry.model} · {shared}")
    embed.description = lines_within(lines, 4096)
    return embed


def queue_embed(queue: ChannelQueue, channel_id: int, locale: str | None = None) -> discord.Embed:
    """`/video queue`: who is making what here, their place in line and when it should be ready."""
    embed = discord.Embed(title=translate(locale, "queue.title"), colour=INFO)
    if queue.total == 0:
        embed.description = translate(locale, "queue.empty", channel=f"<#{channel_id}>")
        return embed
    lines = []
    for row in queue.rows[:QUEUE_ROWS]:
        task = row.task
        if row.position is not None:
            where = translate(locale, "queue.in_line", position=row.position)
        else:
            where = translate(locale, f"queue.state.{task.state.value}")
        ready = f" · {translate(locale, 'queue.ready', when=when(row.eta))}" if row.eta is not None else ""
        prompt = plain_line(task.prompt, QUEUE_PROMPT_CHARS)
        lines.append(f"**#{task.id}** <@{task.user_id}> · {prompt} · {task.model} · {where}{ready}")
    if len(queue.rows) > QUEUE_ROWS:
        lines.append(translate(locale, "queue.more", n=len(queue.rows) - QUEUE_ROWS))
    if queue.private_count == 1:
        lines.append(translate(locale, "queue.private_one"))
    elif queue.private_count:
        lines.append(translate(locale, "queue.private_many", n=queue.private_count))
    embed.description = lines_within(lines, 4096)
    return embed
