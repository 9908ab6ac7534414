"""The Notifier on Discord: the bot's own channel messages, replies, DMs and their fallbacks.

Everything goes through the REST API with ids only (``get_partial_messageable``), so it works in
``setup_hook`` before the gateway cache is filled and for channels the cache never saw. Every
Discord failure is caught, logged and turned into a return value: the poller calling this must
never crash because a message was deleted or a permission removed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import discord
from discord.ext import commands

from bot.lifecycle.notifier import DEFAULT_UPLOAD_LIMIT, ResultPost, StatusCard
from cogs import embeds
from cogs.buttons import result_view, task_view
from storage.models import Task

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
# Looking for a result after a crash reads forward from a little before the video finished: the
# result follows soon after, but a busy channel may hold hundreds of messages in between. Ten pages
# (ten REST calls per place, only when recovering a delivery) bound the cost.
HISTORY_PAGE = 100
HISTORY_PAGES = 10
HISTORY_LIMIT = HISTORY_PAGE * HISTORY_PAGES
# How far before the recorded finish time to start reading: the bot's clock and Discord's may differ.
FINISH_MARGIN_SECONDS = 60.0
_PAYLOAD_TOO_LARGE = (413, 40005)


def requester_only(task: Task) -> discord.AllowedMentions:
    """Ping the requester and nobody else, whatever the prompt or the link contains."""
    return discord.AllowedMentions(
        everyone=False, roles=False, users=[discord.Object(id=task.user_id)], replied_user=False
    )


def _too_large(exc: discord.HTTPException) -> bool:
    return exc.status == _PAYLOAD_TOO_LARGE[0] or exc.code == _PAYLOAD_TOO_LARGE[1]


class DiscordNotifier:
    def __init__(self, bot: commands.Bot) -> None:
        self._bot = bot

    # ------------------------------------------------------------------------------ status card

    def _channel(self, task: Task) -> discord.PartialMessageable:
        return self._bot.get_partial_messageable(task.channel_id, guild_id=task.guild_id)

    async def post_status(self, card: StatusCard) -> int | None:
        task = card.task
        try:
            message = await self._channel(task).send(
                embed=embeds.status_embed(card), view=task_view(task), allowed_mentions=NONE
            )
        except discord.HTTPException as exc:
            log.warning(
                "Cannot post the status card of task %s in channel %s: %s", task.id, task.channel_id, exc
            )
            return None
        return message.id

    async def edit_status(self, card: StatusCard) -> int | None:
        task = card.task
        if task.status_message_id is None:
            return await self.post_status(card)
        message = self._channel(task).get_partial_message(task.status_message_id)
        try:
            await message.edit(embed=embeds.status_embed(card), view=task_view(task), allowed_mentions=NONE)
        except discord.NotFound:
            log.info("The status card of task %s was deleted; posting a new one", task.id)
            return await self.post_status(card)
        except discord.HTTPException as exc:
            log.warning("Cannot edit the status card of task %s: %s", task.id, exc)
            return None
        return task.status_message_id

    # ------------------------------------------------------------------------------ results

    async def post_result(self, result: ResultPost) -> int | None:
        first_dm = result.via_dm
        attempt = await self._send_result(result, dm=first_dm)
        if attempt.message_id is not None or (first_dm and result.private):
            return attempt.message_id
        if attempt.ambiguous:
            # A 5xx may come after Discord created the message: look before posting a second copy.
            found = await self._find_in(await self._place(result.task, dm=first_dm), result.task)
            if found is not None:
                log.info("Task %s: the result was posted despite the server error", result.task.id)
                return found
        log.info(
            "Task %s: %s refused, sending the result %s instead",
            result.task.id,
            "DM" if first_dm else "channel",
            "in the channel" if first_dm else "by DM",
        )
        return (await self._send_result(result, dm=not first_dm)).message_id

    async def _place(self, task: Task, *, dm: bool) -> discord.abc.Messageable | None:
        if not dm:
            return self._channel(task)
        try:
            return await self._bot.create_dm(discord.Object(id=task.user_id))
        except discord.HTTPException:
            return None

    async def _send_result(self, result: ResultPost, *, dm: bool) -> _Attempt:
        if result.file_path is not None:
            try:
                return await self._send_result_once(result, dm=dm, with_file=True)
            except _TooLarge:
                log.info(
                    "Task %s: the file is over the upload limit; falling back to the link", result.task.id
                )
        if result.link is None:
            return _Attempt(None)
        try:
            return await self._send_result_once(result, dm=dm, with_file=False)
        except _TooLarge:
            return _Attempt(None)

    async def _send_result_once(self, result: ResultPost, *, dm: bool, with_file: bool) -> _Attempt:
        task = result.task
        kwargs: dict[str, Any] = {
            "content": embeds.result_content(
                task,
                link=None if with_file else result.link,
                expires_at=None if with_file else result.link_expires_at,
            ),
            "view": result_view(task),
            "allowed_mentions": requester_only(task),
        }
        file = (
            discord.File(result.file_path, filename=result.filename)
            if with_file and result.file_path
            else None
        )
        if file is not None:
            kwargs["file"] = file
        try:
            if dm:
                channel: discord.abc.Messageable = await self._bot.create_dm(discord.Object(id=task.user_id))
            else:
                channel = self._channel(task)
                if task.status_message_id is not None:
                    kwargs["reference"] = _reply_to(task)
            message = await channel.send(**kwargs)
        except discord.HTTPException as exc:
            if file is not None and _too_large(exc):
                raise _TooLarge from None
            where = "by DM" if dm else f"in channel {task.channel_id}"
            log.warning("Cannot post the result of task %s %s: %s", task.id, where, exc)
            return _Attempt(None, ambiguous=exc.status >= 500)
        finally:
            if file is not None:
                file.close()
        return _Attempt(message.id)

    async def post_failure(self, task: Task, message: str) -> int | None:
        embed = embeds.failure_embed(task, message)
        content = f"<@{task.user_id}>"
        if not task.deliver_by_dm:
            kwargs: dict[str, Any] = {
                "content": content,
                "embed": embed,
                "allowed_mentions": requester_only(task),
            }
            if task.status_message_id is not None:
                kwargs["reference"] = _reply_to(task)
            try:
                return (await self._channel(task).send(**kwargs)).id
            except discord.HTTPException as exc:
                log.warning(
                    "Cannot post the failure of task %s in its channel: %s; trying a DM", task.id, exc
                )
        try:
            dm = await self._bot.create_dm(discord.Object(id=task.user_id))
            return (await dm.send(embed=embed, allowed_mentions=NONE)).id
        except discord.HTTPException as exc:
            log.warning("Cannot tell member %s about task %s by DM either: %s", task.user_id, task.id, exc)
            return None

    async def find_result(self, task: Task) -> int | None:
        """Look for our own message carrying the task's marker, in the channel and in the DMs."""
        channel = await self._place(task, dm=False)
        found = await self._find_in(channel, task)
        if found is None:
            found = await self._find_in(await self._place(task, dm=True), task)
        return found

    async def _find_in(self, place: discord.abc.Messageable | None, task: Task) -> int | None:
        """Read ``place`` forward from just before the video finished (see ``HISTORY_PAGES``)."""
        me = self._bot.user
        if me is None or place is None:
            return None
        marker = embeds.RESULT_MARKER.format(task_id=task.id)
        try:
            async for message in place.history(
                limit=HISTORY_LIMIT, after=_search_from(task), oldest_first=True
            ):
                if message.author.id == me.id and marker in message.content:
                    return message.id
        except discord.HTTPException as exc:
            log.warning("Cannot read history to find the result of task %s: %s", task.id, exc)
        return None

    async def upload_limit(self, guild_id: int | None) -> int:
        guild = self._bot.get_guild(guild_id) if guild_id is not None else None
        return guild.filesize_limit if guild is not None else DEFAULT_UPLOAD_LIMIT


@dataclass(frozen=True)
class _Attempt:
    """One try at posting a result: the message id, or None and whether it may exist anyway."""

    message_id: int | None
    ambiguous: bool = False  # a server error: Discord may have created the message before failing


class _TooLarge(Exception):
    """Discord refused the upload as too large (the guild's limit dropped, or our guess was wrong)."""


def _reply_to(task: Task) -> discord.MessageReference:
    assert task.status_message_id is not None
    return discord.MessageReference(
        message_id=task.status_message_id,
        channel_id=task.channel_id,
        guild_id=task.guild_id,
        fail_if_not_exists=False,
    )


def _search_from(task: Task) -> discord.Object:
    """Where a result of ``task`` can start: a little before it finished at the API.

    Not the status card: the card can be reposted (a deleted card) after the result, and a task that
    waited long in a busy channel has many messages between its card and its result.
    """
    if task.finished_at is not None:
        return discord.Object(id=discord.utils.time_snowflake(_utc(task.finished_at - FINISH_MARGIN_SECONDS)))
    if task.status_message_id is not None:
        return discord.Object(id=task.status_message_id)
    return discord.Object(id=discord.utils.time_snowflake(_utc(task.created_at)))


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)
