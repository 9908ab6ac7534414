"""What the team-facing `/video` commands show: the showcase ranking (`/video top`) and what is
being made in a channel (`/video queue`).

Kept apart from :mod:`cogs.embeds` (a member's own videos) so each file renders one kind of page.
Members' prompts are inlined inert (:func:`cogs.text.plain_line`) and every mention is sent with
``AllowedMentions.none()`` by the caller.
"""

from __future__ import annotations

import discord

from bot.lifecycle.channel_queue import ChannelQueue
from cogs.embeds import STATE_LABELS
from cogs.text import lines_within, plain_line, when
from storage.showcase import TopEntry

INFO = discord.Colour.blurple()
PERIOD_TITLES = {"day": "the last 24 hours", "week": "the last 7 days", "month": "the last 30 days"}
PROMPT_CHARS = 80
MEDALS = ("🥇", "🥈", "🥉")


def post_link(entry: TopEntry) -> str:
    return f"https://discord.com/channels/{entry.guild_id}/{entry.channel_id}/{entry.message_id}"


def top_embed(entries: list[TopEntry], period: str) -> discord.Embed:
    """The most-voted showcase videos of the period, each with its votes, author and a link."""
    embed = discord.Embed(title=f"Top videos of {PERIOD_TITLES.get(period, period)}", colour=INFO)
    if not entries:
        embed.description = (
            "No videos were shared to the showcase in this period. Share a delivered video with its "
            "**Share** button."
        )
        return embed
    lines = []
    for rank, entry in enumerate(entries, start=1):
        badge = MEDALS[rank - 1] if rank <= len(MEDALS) else f"**{rank}.**"
        votes = "1 vote" if entry.votes == 1 else f"{entry.votes} votes"
        prompt = plain_line(entry.prompt, PROMPT_CHARS)
        lines.append(
            f"{badge} [{prompt}]({post_link(entry)}) · ⭐ {votes} · <@{entry.user_id}> · "
            f"{entry.model} · shared {when(entry.shared_at)}"
        )
    embed.description = lines_within(lines, 4096)
    return embed


QUEUE_PROMPT_CHARS = 60
QUEUE_ROWS = 20


def queue_embed(queue: ChannelQueue, channel_id: int) -> discord.Embed:
    """`/video queue`: who is making what here, their place in line and when it should be ready."""
    embed = discord.Embed(title="Being made in this channel", colour=INFO)
    if queue.total == 0:
        embed.description = f"Nothing is being made in <#{channel_id}> right now."
        return embed
    lines = []
    for row in queue.rows[:QUEUE_ROWS]:
        task = row.task
        where = f"#{row.position} in line" if row.position is not None else STATE_LABELS[task.state]
        ready = f" · ready {when(row.eta)}" if row.eta is not None else ""
        prompt = plain_line(task.prompt, QUEUE_PROMPT_CHARS)
        lines.append(f"**#{task.id}** <@{task.user_id}> · {prompt} · {task.model} · {where}{ready}")
    if len(queue.rows) > QUEUE_ROWS:
        lines.append(f"…and {len(queue.rows) - QUEUE_ROWS} more")
    if queue.private_count:
        plural = "video" if queue.private_count == 1 else "videos"
        lines.append(f"🔒 {queue.private_count} private {plural} in progress (not shown)")
    embed.description = lines_within(lines, 4096)
    return embed
