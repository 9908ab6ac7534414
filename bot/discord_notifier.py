"""The Notifier on Discord: the bot's own channel messages, replies, DMs and their fallbacks.

Everything goes through the REST API with ids only (``get_partial_messageable``), so it works in
``setup_hook`` before the gateway cache is filled and for channels the cache never saw. Every
Discord failure is caught, logged and turned into a return value: the poller calling this must
never crash because a message was deleted or a permission removed.
"""

from __future__ import annotations

import contextlib
import logging
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
HISTORY_LIMIT = 100
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
        if result.via_dm:
            posted = await self._send_result(result, dm=True)
            if posted is not None or result.private:
                return posted
            log.info("Task %s: DM refused, posting the result in the channel instead", result.task.id)
            return await self._send_result(result, dm=False)
        posted = await self._send_result(result, dm=False)
        if posted is None:
            log.info("Task %s: channel refused, sending the result by DM instead", result.task.id)
            posted = await self._send_result(result, dm=True)
        return posted

    async def _send_result(self, result: ResultPost, *, dm: bool) -> int | None:
        if result.file_path is not None:
            try:
                return await self._send_result_once(result, dm=dm, with_file=True)
            except _TooLarge:
                log.info(
                    "Task %s: the file is over the upload limit; falling back to the link", result.task.id
                )
        if result.link is None:
            return None
        try:
            return await self._send_result_once(result, dm=dm, with_file=False)
        except _TooLarge:
            return None

    async def _send_result_once(self, result: ResultPost, *, dm: bool, with_file: bool) -> int | None:
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
            return None
        finally:
            if file is not None:
                file.close()
        return message.id

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
        """Look for our own message carrying the task's marker after its status card (and in DMs)."""
        me = self._bot.user
        if me is None:
            return None
        marker = embeds.RESULT_MARKER.format(task_id=task.id)
        after = (
            discord.Object(id=task.status_message_id)
            if task.status_message_id is not None
            else discord.Object(id=discord.utils.time_snowflake(_utc(task.created_at)))
        )
        places: list[discord.abc.Messageable] = [self._channel(task)]
        with contextlib.suppress(discord.HTTPException):
            places.append(await self._bot.create_dm(discord.Object(id=task.user_id)))
        for place in places:
            try:
                async for message in place.history(limit=HISTORY_LIMIT, after=after, oldest_first=True):
                    if message.author.id == me.id and marker in message.content:
                        return message.id
            except discord.HTTPException as exc:
                log.warning("Cannot read history to find the result of task %s: %s", task.id, exc)
        return None

    async def upload_limit(self, guild_id: int | None) -> int:
        guild = self._bot.get_guild(guild_id) if guild_id is not None else None
        return guild.filesize_limit if guild is not None else DEFAULT_UPLOAD_LIMIT


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


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)
