"""The Notifier on Discord: the bot's own channel messages, replies, DMs and their fallbacks.

Everything goes through the REST API with ids only (``get_partial_messageable``), so it works in
``setup_hook`` before the gateway cache is filled and for channels the cache never saw. Every
Discord failure is caught, logged and turned into a return value: the poller calling this must
never crash because a message was deleted or a permission removed.

When the channel refuses (Forbidden, NotFound), the interaction that started the task can still post
there for 15 minutes: its follow-up webhook (kept in :class:`FollowupRegistry`) comes before a DM.

A private result the member's DMs refuse (50007) goes as an ephemeral follow-up while the window
lasts; after it, :meth:`DiscordNotifier.post_result` raises :class:`MemberRefused` (the lifecycle
charges and keeps the video) and :meth:`DiscordNotifier.post_pickup` tells the channel only that a
private video is ready for them.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import discord
from discord.ext import commands

from bot.lifecycle.notifier import (
    DEFAULT_UPLOAD_LIMIT,
    MemberRefused,
    ResultPost,
    StatusCard,
    UploadTooLarge,
)
from bot.metrics import Metrics
from cogs import embeds
from cogs.buttons import group_result_view, result_view, task_view
from cogs.followups import FollowupRegistry
from cogs.text import clip
from storage.models import Task
from storage.states import TaskState

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
# Looking for a result after a crash reads forward from a little before the video finished: the
# result follows soon after, but a busy channel may hold hundreds of messages in between. Ten pages
# (ten REST calls per place, only when recovering a delivery) bound the cost.
HISTORY_PAGE = 100
HISTORY_PAGES = 10
HISTORY_LIMIT = HISTORY_PAGE * HISTORY_PAGES
THREAD_NAME_CHARS = 100  # Discord's limit for a thread's name
THREAD_ARCHIVE_MINUTES: Literal[1440] = (
    1440  # a day without messages, then Discord archives it (a post reopens it)
)
# How far before the recorded finish time to start reading: the bot's clock and Discord's may differ.
FINISH_MARGIN_SECONDS = 60.0
# How long the upload limit of a guild outside the cache (another shard's) is trusted once fetched:
# boosts change rarely, and a refused upload lowers the limit at once anyway.
FETCHED_LIMIT_SECONDS = 600.0
_PAYLOAD_TOO_LARGE = (413, 40005)
# "Cannot send messages to this user": the member closed their DMs to the bot, blocked it, or shares
# no server with it any more. The member's side, not the bot's.
CANNOT_DM = 50007


def requester_only(task: Task) -> discord.AllowedMentions:
    """Ping the requester and nobody else, whatever the prompt or the link contains."""
    return discord.AllowedMentions(
        everyone=False, roles=False, users=[discord.Object(id=task.user_id)], replied_user=False
    )


def _too_large(exc: discord.HTTPException) -> bool:
    return exc.status == _PAYLOAD_TOO_LARGE[0] or exc.code == _PAYLOAD_TOO_LARGE[1]


def _refused(exc: discord.HTTPException) -> bool:
    """The place itself said no (no permission, channel gone): another place may say yes."""
    return isinstance(exc, discord.Forbidden | discord.NotFound)


class _Where(enum.Enum):
    CHANNEL = "in the channel"
    DM = "by DM"
    FOLLOWUP = "as an interaction follow-up"


# Once a card shows one of these, nothing more is posted for the task: its follow-up can go. A failed
# task is dropped by ``post_failure`` instead (its card may be edited before the notice is sent).
_OVER = (TaskState.DELIVERED, TaskState.CANCELLED)


class DiscordNotifier:
    def __init__(
        self,
        bot: commands.Bot,
        followups: FollowupRegistry | None = None,
        *,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bot = bot
        self.followups = followups if followups is not None else FollowupRegistry()
        self._metrics = metrics if metrics is not None else Metrics()
        self._clock = clock
        self._fetched_limits: dict[int, tuple[int, float]] = {}  # guild id → (limit, trusted until)
        self._fetched_locales: dict[int, str] = {}  # guild id → preferred locale, when last fetched

    def _failed(self, operation: str, exc: discord.HTTPException) -> None:
        """Count a caught Discord error (by operation and HTTP status: never whose or where)."""
        self._metrics.discord_error(operation, exc.status)

    # ------------------------------------------------------------------------------ status card

    def _channel(self, task: Task) -> discord.PartialMessageable:
        return self._bot.get_partial_messageable(task.channel_id, guild_id=task.guild_id)

    def _view(self, task: Task) -> discord.ui.View:
        """A card's buttons, labelled in the language of where the card is (:meth:`_locale_of`)."""
        return task_view(task, self._locale_of(task))

    def _locale_of(self, task: Task, *, to_member: bool = False) -> str | None:
        """The language of a post of ``task``: the server's for its channel; the requester's own
        (kept on the task from their request) for what they alone see: a DM, an ephemeral
        follow-up, and everything of a personal install, where no server has a say."""
        if to_member or task.guild_id is None:
            return task.locale
        return self.server_locale(task.guild_id)

    async def post_status(self, card: StatusCard) -> int | None:
        task = card.task
        embed = embeds.channel_card_embed(card, self._locale_of(task))
        if _personal(task):
            # A personal install (USER_INSTALL): the channel is usually one the bot is not in, so
            # the interaction posts the card while it can.
            posted = await self._followup(
                task, "status card", embed=embed, view=self._view(task), allowed_mentions=NONE
            )
            if posted is not None:
                return posted
        try:
            message = await self._channel(task).send(
                embed=embed, view=self._view(task), allowed_mentions=NONE
            )
        except discord.HTTPException as exc:
            self._failed("post_status", exc)
            log.warning(
                "Cannot post the status card of task %s in channel %s: %s", task.id, task.channel_id, exc
            )
            if _refused(exc):
                return await self._followup(
                    task, "status card", embed=embed, view=self._view(task), allowed_mentions=NONE
                )
            return None
        return message.id

    async def edit_status(self, card: StatusCard) -> int | None:
        try:
            return await self._edit_status(card)
        finally:
            if card.task.state in _OVER:
                self.followups.forget(card.task.id)

    async def _edit_status(self, card: StatusCard) -> int | None:
        task = card.task
        if task.status_message_id is None:
            return await self.post_status(card)
        if _private_card_unchanged(task):
            return task.status_message_id  # it shows what it showed: no edit to spend
        embed = embeds.channel_card_embed(card, self._locale_of(task))
        if _personal(task) and await self._followup_edit(task, embed):
            return task.status_message_id
        message = self._channel(task).get_partial_message(task.status_message_id)
        try:
            await message.edit(embed=embed, view=self._view(task), allowed_mentions=NONE)
        except discord.NotFound as exc:
            self._failed("edit_status", exc)
            log.info("The status card of task %s was deleted; posting a new one", task.id)
            return await self.post_status(card)
        except discord.HTTPException as exc:
            self._failed("edit_status", exc)
            if isinstance(exc, discord.Forbidden) and await self._followup_edit(task, embed):
                return task.status_message_id
            log.warning("Cannot edit the status card of task %s: %s", task.id, exc)
            return None
        return task.status_message_id

    async def _followup_edit(self, task: Task, embed: discord.Embed) -> bool:
        """Edit a card that was posted as a follow-up (the channel refused the bot) through the same
        webhook, while its token lives."""
        webhook = self.followups.get(task.id)
        if webhook is None or task.status_message_id is None:
            return False
        try:
            await webhook.edit_message(
                task.status_message_id, embed=embed, view=self._view(task), allowed_mentions=NONE
            )
        except discord.HTTPException as exc:
            self._failed("followup", exc)
            log.info("Cannot edit the card of task %s through its follow-up either: %s", task.id, exc)
            return False
        return True

    async def _followup(self, task: Task, what: str, *, ephemeral: bool = False, **kwargs: Any) -> int | None:
        """Send through the task's interaction follow-up, if one is kept and its token still valid."""
        webhook = self.followups.get(task.id)
        if webhook is None:
            return None
        try:
            message = await webhook.send(ephemeral=ephemeral, wait=True, **kwargs)
        except discord.HTTPException as exc:
            self._failed("followup", exc)
            log.warning("Cannot send the %s of task %s as an interaction follow-up: %s", what, task.id, exc)
            return None
        if message is None:
            return None
        log.info("Task %s: the %s went out as an interaction follow-up", task.id, what)
        return message.id

    # ------------------------------------------------------------------------------ results

    async def open_thread(self, task: Task) -> int | None:
        """A thread on the status card, named after the video; None when Discord refuses (the card is
        in a thread already, or the bot lacks Create Public Threads)."""
        if task.status_message_id is None:
            return None
        name = clip(f"#{task.id} · {' '.join(task.prompt.split())}", THREAD_NAME_CHARS)
        card = self._channel(task).get_partial_message(task.status_message_id)
        try:
            thread = await card.create_thread(name=name, auto_archive_duration=THREAD_ARCHIVE_MINUTES)
        except discord.HTTPException as exc:
            log.warning("Cannot open a thread on the card of task %s: %s", task.id, exc)
            return None
        return thread.id

    async def _send_in_place(self, task: Task, **kwargs: Any) -> discord.Message:
        """Post where the task's talk is: its thread when it has one (the channel, replying to the
        card, when the thread is gone or refuses), else the channel replying to the card."""
        if task.thread_id is not None:
            thread = self._bot.get_partial_messageable(task.thread_id, guild_id=task.guild_id)
            try:
                return await thread.send(**kwargs)
            except discord.HTTPException as exc:
                if not _refused(exc):
                    raise
                log.info("Task %s: its thread refused the post (%s); using the channel", task.id, exc)
                for file in [kwargs.get("file"), *kwargs.get("files", [])]:
                    if isinstance(file, discord.File):
                        file.reset()
        if task.status_message_id is not None:
            kwargs["reference"] = _reply_to(task)
        return await self._channel(task).send(**kwargs)

    async def post_result(self, result: ResultPost) -> int | None:
        """The first place that takes it: the channel (or the DM the member asked for), then the
        other; a refusing channel (or DM, for private results) is followed by the follow-up."""
        places = [_Where.DM, _Where.CHANNEL] if result.via_dm else [_Where.CHANNEL, _Where.DM]
        if result.via_dm and result.private:
            places = [_Where.DM]  # the guild keeps results private: never the channel
        if _personal(result.task):
            # A personal install: the bot is not in that channel. The interaction while its token
            # lives (15 minutes), else the member's DMs; a closed DM keeps it for /video status.
            places = [_Where.DM, _Where.FOLLOWUP] if result.via_dm else [_Where.FOLLOWUP, _Where.DM]
        # Until a place says no for a reason of the bot's (or Discord's): then it is not the member's.
        member_refused = True
        for index, where in enumerate(places):
            attempt = await self._send_result(result, where)
            if attempt.message_id is not None:
                return attempt.message_id
            # No follow-up kept (its token expired, or a restart): no place, so no one refused.
            absent = where is _Where.FOLLOWUP and not attempt.tried
            member_refused = member_refused and (attempt.member_refused or absent)
            if attempt.ambiguous:
                # A 5xx may come after Discord created the message: look before posting a second copy.
                found = None
                # A group's reply carries its takes' markers (its first take may have failed).
                probe = result.takes[0].task if result.takes else result.task
                for place in await self._places(result.task, dm=where is _Where.DM):
                    found = found or await self._find_in(place, probe, _is_result_of(probe))
                if found is not None:
                    log.info("Task %s: the result was posted despite the server error", result.task.id)
                    return found
            after_refusal = where is _Where.CHANNEL or (result.private and where is _Where.DM)
            if attempt.refused and after_refusal:
                followed = await self._send_result(result, _Where.FOLLOWUP)
                if followed.message_id is not None:
                    return followed.message_id
                member_refused = member_refused and not followed.tried
            if index + 1 < len(places):
                log.info(
                    "Task %s: could not post the result %s, trying %s instead",
                    result.task.id,
                    where.value,
                    places[index + 1].value,
                )
        if member_refused:
            log.info("Task %s: only the member's side refused the result (DMs closed)", result.task.id)
            raise MemberRefused(f"task {result.task.id}: the member's DMs refuse the bot")
        return None

    async def _place(self, task: Task, *, dm: bool) -> discord.abc.Messageable | None:
        if not dm:
            return self._channel(task)
        try:
            return await self._bot.create_dm(discord.Object(id=task.user_id))
        except discord.HTTPException as exc:
            self._failed("open_dm", exc)
            return None

    async def _send_result(self, result: ResultPost, where: _Where) -> _Attempt:
        if where is _Where.FOLLOWUP and self.followups.get(result.task.id) is None:
            return _Attempt(None, tried=False)
        if result.takes:  # a group's reply: every take's file, else every take's link
            return await self._send_group(result, where)
        if result.file_path is not None:
            try:
                return await self._send_result_once(result, where, with_file=True)
            except _TooLarge:
                if result.refit:  # the delivery lowers the limit and makes a smaller one
                    raise UploadTooLarge(result.size_bytes) from None
                log.info(
                    "Task %s: the file is over the upload limit; falling back to the link", result.task.id
                )
        if result.link is None:
            return _Attempt(None)
        try:
            return await self._send_result_once(result, where, with_file=False)
        except _TooLarge:
            return _Attempt(None)

    async def _send_group(self, result: ResultPost, where: _Where) -> _Attempt:
        if any(t.file_path is not None for t in result.takes):
            try:
                return await self._send_result_once(result, where, with_file=True)
            except _TooLarge:
                if result.refit:  # the delivery lowers the limit and makes the takes smaller
                    files = [t.size_bytes or 0 for t in result.takes if t.file_path is not None]
                    raise UploadTooLarge(sum(files) or None) from None
                log.info("Group %s: the files are over the upload limit; posting links", result.task.id)
        if not any(t.link is not None for t in result.takes):
            return _Attempt(None)
        try:
            return await self._send_result_once(result, where, with_file=False)
        except _TooLarge:
            return _Attempt(None)

    async def _send_result_once(self, result: ResultPost, where: _Where, *, with_file: bool) -> _Attempt:
        task = result.task
        # What only the member sees (a DM, an ephemeral follow-up) is in their language.
        to_member = where is _Where.DM or (where is _Where.FOLLOWUP and result.private)
        locale = self._locale_of(task, to_member=to_member)
        files: list[discord.File] = []
        if result.takes:
            content = embeds.group_result_content(
                task, result.takes, result.failed, with_files=with_file, part=result.part, locale=locale
            )
            view = group_result_view([t.task for t in result.takes], locale)
            if with_file:
                files = [discord.File(t.file_path, filename=t.filename) for t in result.takes if t.file_path]
        else:
            content = embeds.result_content(
                task,
                link=None if with_file else result.link,
                expires_at=None if with_file else result.link_expires_at,
                refitted=with_file and result.refitted,
                locale=locale,
            )
            view = result_view(task, locale)
            if with_file and result.file_path:
                files = [discord.File(result.file_path, filename=result.filename)]
        kwargs: dict[str, Any] = {
            "content": content,
            "view": view,
            "allowed_mentions": requester_only(task),
        }
        file = files[0] if files else None  # the video(s): what a 413 is about
        if result.poster_path is not None:
            # With the file or the link alone: the card shows what was made either way.
            files.append(discord.File(result.poster_path, filename=embeds.POSTER_FILENAME))
            kwargs["embed"] = embeds.poster_embed()
        if len(files) == 1:
            kwargs["file"] = files[0]
        elif files:
            kwargs["files"] = files
        try:
            if where is _Where.FOLLOWUP:
                webhook = self.followups.get(task.id)
                if webhook is None:
                    return _Attempt(None)
                # Private results stay private: an ephemeral follow-up is seen by the requester only.
                sent = await webhook.send(ephemeral=result.private, wait=True, **kwargs)
                if sent is None:
                    return _Attempt(None)
                log.info("Task %s: the result went out as an interaction follow-up", task.id)
                return _Attempt(sent.id)
            if where is _Where.DM:
                channel: discord.abc.Messageable = await self._bot.create_dm(discord.Object(id=task.user_id))
                message = await channel.send(**kwargs)
            else:
                message = await self._send_in_place(task, **kwargs)
        except discord.HTTPException as exc:
            self._failed("post_result", exc)
            if file is not None and _too_large(exc):
                raise _TooLarge from None
            place = f"in channel {task.channel_id}" if where is _Where.CHANNEL else where.value
            log.warning("Cannot post the result of task %s %s: %s", task.id, place, exc)
            return _Attempt(
                None,
                ambiguous=exc.status >= 500,
                refused=_refused(exc),
                member_refused=where is _Where.DM and exc.code == CANNOT_DM,
            )
        finally:
            for each in files:
                each.close()
        return _Attempt(message.id)

    async def post_pickup(self, task: Task) -> int | None:
        """In the channel, replying to the card: a private video is ready, get it with
        ``/video status``. Nothing else (no prompt, no images), and it pings only the requester."""
        kwargs: dict[str, Any] = {
            "content": embeds.pickup_content(task, self._locale_of(task)),
            "view": self._view(task),
            "allowed_mentions": requester_only(task),
        }
        if _personal(task):  # a personal install: the interaction, while it lives (no reply to a card)
            followed = await self._followup(task, "pick-up notice", **kwargs)
            if followed is not None:
                return followed
        if task.status_message_id is not None:
            kwargs["reference"] = _reply_to(task)
        try:
            return (await self._channel(task).send(**kwargs)).id
        except discord.HTTPException as exc:
            self._failed("post_pickup", exc)
            log.warning("Cannot tell the member of task %s how to get it: %s", task.id, exc)
            return None

    async def post_failure(self, task: Task, message: str) -> int | None:
        # The follow-up is kept: the failed card's final edit may still need it, and the entry expires
        # with the interaction's token anyway.
        embed = embeds.failure_embed(task, message, self._locale_of(task))
        own = embeds.failure_embed(task, message, self._locale_of(task, to_member=True))  # theirs alone
        if _personal(task):  # the bot is likely not in that channel: the interaction, while it lives
            followed = await self._followup(
                task, "failure notice", ephemeral=task.deliver_by_dm, embed=own, allowed_mentions=NONE
            )
            if followed is not None:
                return followed
        if not task.deliver_by_dm:
            kwargs: dict[str, Any] = {
                "content": f"<@{task.user_id}>",
                "embed": embed,
                "allowed_mentions": requester_only(task),
            }
            try:
                return (await self._send_in_place(task, **kwargs)).id
            except discord.HTTPException as exc:
                self._failed("post_failure", exc)
                log.warning("Cannot post the failure of task %s in its channel: %s", task.id, exc)
                if _refused(exc):
                    followed = await self._followup(
                        task, "failure notice", embed=embed, allowed_mentions=NONE
                    )
                    if followed is not None:
                        return followed
        try:
            dm = await self._bot.create_dm(discord.Object(id=task.user_id))
            return (await dm.send(embed=own, allowed_mentions=NONE)).id
        except discord.HTTPException as exc:
            self._failed("post_failure", exc)
            log.warning("Cannot tell member %s about task %s by DM: %s", task.user_id, task.id, exc)
        if task.deliver_by_dm:
            # Asked for privately: the follow-up is ephemeral, seen by the requester only.
            return await self._followup(
                task, "failure notice", ephemeral=True, embed=own, allowed_mentions=NONE
            )
        return None

    async def find_result(self, task: Task) -> int | None:
        """Look for our own message carrying the task's marker, in the channel and in the DMs."""
        return await self._find(task, _is_result_of(task))

    async def find_failure(self, task: Task) -> int | None:
        """Look for our own failure notice of the task (its embed carries the notice footer), in the
        channel and in the DMs."""
        footer = embeds.NOTICE_FOOTER.format(task_id=task.id)

        def is_notice(message: discord.Message) -> bool:
            return any(embed.footer.text == footer for embed in message.embeds)

        return await self._find(task, is_notice)

    async def _find(self, task: Task, matches: Callable[[discord.Message], bool]) -> int | None:
        for place in [*await self._places(task, dm=False), *await self._places(task, dm=True)]:
            found = await self._find_in(place, task, matches)
            if found is not None:
                return found
        return None

    async def _places(self, task: Task, *, dm: bool) -> list[discord.abc.Messageable | None]:
        """Where a post of the task may be: its DM, or its thread (if any) and its channel."""
        if dm or task.thread_id is None:
            return [await self._place(task, dm=dm)]
        return [
            self._bot.get_partial_messageable(task.thread_id, guild_id=task.guild_id),
            self._channel(task),
        ]

    async def _find_in(
        self,
        place: discord.abc.Messageable | None,
        task: Task,
        matches: Callable[[discord.Message], bool],
    ) -> int | None:
        """Read ``place`` forward from just before the video finished (see ``HISTORY_PAGES``)."""
        me = self._bot.user
        if me is None or place is None:
            return None
        try:
            async for message in place.history(
                limit=HISTORY_LIMIT, after=_search_from(task), oldest_first=True
            ):
                if message.author.id == me.id and matches(message):
                    return message.id
        except discord.HTTPException as exc:
            self._failed("read_history", exc)
            log.warning("Cannot read history to find a message of task %s: %s", task.id, exc)
        except (KeyError, TypeError, ValueError) as exc:  # a history answer discord.py cannot read
            log.warning("Unreadable history while looking for task %s: %r", task.id, exc)
        return None

    async def result_video_url(self, task: Task) -> str | None:
        """Fetch the result message where it may be (the DM first for a private result, else its
        thread and channel; then the others) and read its video attachment's URL, signed just now."""
        if task.result_message_id is None:
            return None
        first, then = task.deliver_by_dm, not task.deliver_by_dm
        for place in [*await self._places(task, dm=first), *await self._places(task, dm=then)]:
            if place is None:
                continue
            try:
                message = await place.fetch_message(task.result_message_id)
            except discord.NotFound:
                continue
            except discord.HTTPException as exc:
                self._failed("fetch_result", exc)
                log.warning("Cannot read the result message of task %s: %s", task.id, exc)
                continue
            own = f"take-{task.take}.mp4" if task.group_id is not None else None
            for attachment in message.attachments:
                kind = attachment.content_type or ""
                if own is not None and attachment.filename != own:
                    continue  # a group's reply: another take's video
                if kind.startswith("video/") or attachment.filename.lower().endswith(".mp4"):
                    return attachment.url
            return None  # the message is there but carries a link, not the file
        return None

    async def upload_limit(self, guild_id: int | None) -> int:
        if guild_id is None:
            return DEFAULT_UPLOAD_LIMIT
        guild = self._bot.get_guild(guild_id)
        return guild.filesize_limit if guild is not None else await self._fetched_limit(guild_id)

    async def _fetched_limit(self, guild_id: int) -> int:
        """A guild this process's cache does not hold: another shard's (its process took the
        request, this one delivers), or one whose GUILD_CREATE has not come yet. Asked through REST,
        so a boosted server does not get the smallest limit; a failure falls back to that."""
        now = self._clock()
        known = self._fetched_limits.get(guild_id)
        if known is not None and now < known[1]:
            return known[0]
        try:
            guild = await self._bot.fetch_guild(guild_id, with_counts=False)
        except discord.HTTPException as exc:
            self._failed("fetch_guild", exc)
            return DEFAULT_UPLOAD_LIMIT
        self._fetched_limits[guild_id] = (guild.filesize_limit, now + FETCHED_LIMIT_SECONDS)
        locale = getattr(guild, "preferred_locale", None)  # a partial guild may lack it
        if isinstance(locale, discord.Locale):
            self._fetched_locales[guild_id] = str(locale.value)
        return guild.filesize_limit

    def server_locale(self, guild_id: int | None) -> str | None:
        """The language of what a server's channel sees: its preferred locale (the ``guild_locale`` of
        its interactions), from the cache, else as last fetched; English when neither knows it. Read
        per post, so a card edited from the background follows the server without storing anything."""
        if guild_id is None:
            return None
        guild = self._bot.get_guild(guild_id)
        if guild is not None:
            return str(guild.preferred_locale.value)
        return self._fetched_locales.get(guild_id)

    async def channel_parent(self, channel_id: int) -> int | None:
        channel = self._bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self._bot.fetch_channel(channel_id)
            except discord.HTTPException as exc:
                self._failed("fetch_channel", exc)
                return None  # gone or hidden: the channel's own rules decide
        return channel.parent_id if isinstance(channel, discord.Thread) else None


@dataclass(frozen=True)
class _Attempt:
    """One try at posting a result: the message id, or None and whether it may exist anyway."""

    message_id: int | None
    ambiguous: bool = False  # a server error: Discord may have created the message before failing
    refused: bool = False  # Forbidden or NotFound: this place will not take it
    member_refused: bool = False  # the member's DMs refuse the bot (CANNOT_DM)
    tried: bool = True  # False: there was no such place (no follow-up kept)


class _TooLarge(Exception):
    """Discord refused the upload as too large (the guild's limit dropped, or our guess was wrong)."""


def _personal(task: Task) -> bool:
    """A task of a personal install (``USER_INSTALL``): no guild, asked where the bot may not post."""
    return task.guild_id is None


def _private_card_unchanged(task: Task) -> bool:
    """A private task's card reads "in progress" until the task is over (``private_status_embed``):
    queue moves, progress and notes change nothing the channel sees."""
    return task.deliver_by_dm and not task.state.final


def _reply_to(task: Task) -> discord.MessageReference:
    assert task.status_message_id is not None
    return discord.MessageReference(
        message_id=task.status_message_id,
        channel_id=task.channel_id,
        guild_id=task.guild_id,
        fail_if_not_exists=False,
    )


def _is_result_of(task: Task) -> Callable[[discord.Message], bool]:
    marker = embeds.RESULT_MARKER.format(task_id=task.id)
    return lambda message: marker in message.content


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
