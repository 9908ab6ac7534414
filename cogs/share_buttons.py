"""The showcase buttons: **Share** on a delivered public result, **Vote** and **Remove** on the post.

Persistent ``DynamicItem``s like the other task buttons (:mod:`cogs.buttons` registers them), their
custom_id carrying the task id, so a result shared weeks after it was posted, or a vote after a
restart, still works. The rules (who may share or remove, once per video, one vote per member) are
:class:`bot.lifecycle.showcase.ShowcaseService`'s; this module only talks to Discord.

The shared post carries the video as an attachment (so a forum post gets its thumbnail), the
prompt, the model, the author and a link back to the original result. A result that was posted as a
link (over the upload limit) is shared as that link.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import discord

from bot.i18n import translate
from bot.lifecycle.showcase import ShareTicket
from cogs.guilds import ServedOnly
from cogs.locales import member_locale, server_locale
from cogs.permissions import actor_from
from cogs.replies import reply_error, send
from cogs.text import clip, plain_line
from cogs.video_support import service_of

log = logging.getLogger(__name__)

SHARE_PREFIX = "video:share:"
VOTE_PREFIX = "video:vote:"
UNSHARE_PREFIX = "video:unshare:"
NONE = discord.AllowedMentions.none()
THREAD_NAME_CHARS = 100  # Discord's limit for a thread (forum post) name
SHOWCASE_COLOUR = discord.Colour.gold()


class ShareButton(
    ServedOnly,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"video:share:(?P<task_id>[0-9]{1,19})",
):
    """Repost a delivered public result to the server's showcase; the author or a moderator.
    Labelled in ``locale``'s language (cosmetic: the custom_id is what a click is matched by)."""

    def __init__(self, task_id: int, locale: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=translate(locale, "button.share"),
                emoji="📣",
                style=discord.ButtonStyle.secondary,
                custom_id=f"{SHARE_PREFIX}{task_id}",
            )
        )
        self.task_id = task_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> ShareButton:
        return cls(int(match["task_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        locale = member_locale(interaction)  # the answers are the clicker's; the post the server's
        showcase = service_of(interaction).showcase
        try:
            ticket = await showcase.claim_share(self.task_id, actor_from(interaction))
        except Exception as exc:
            await reply_error(interaction, exc)
            return
        try:
            channel_id, message_id = await _post(interaction, ticket)
        except Exception as exc:
            # Claimed but not posted: release, so the next click can try again.
            await showcase.share_failed(self.task_id)
            log.warning(
                "Sharing task %s to channel %s failed: %s", self.task_id, ticket.showcase.channel_id, exc
            )
            channel = ticket.showcase.channel_id
            await send(interaction, translate(locale, "share.could_not_post", channel=channel))
            return
        await showcase.shared(self.task_id, channel_id, message_id)
        guild_id = ticket.task.guild_id
        link = f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"
        await send(interaction, translate(locale, "share.done", link=link))


class VoteButton(
    ServedOnly,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"video:vote:(?P<task_id>[0-9]{1,19})",
):
    """One vote per member, toggled; the button's label is the count."""

    def __init__(self, task_id: int, count: int = 0) -> None:
        super().__init__(
            discord.ui.Button(
                label=str(count),
                emoji="⭐",
                style=discord.ButtonStyle.primary,
                custom_id=f"{VOTE_PREFIX}{task_id}",
            )
        )
        self.task_id = task_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> VoteButton:
        return cls(int(match["task_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            vote = await service_of(interaction).showcase.vote(self.task_id, actor_from(interaction))
        except Exception as exc:
            await reply_error(interaction, exc)
            return
        # The click's one answer is the post showing the new count; the member sees it change.
        # The post is the server's: its Remove label stays in the server's language.
        votes = showcase_view(self.task_id, vote.count, server_locale(interaction))
        await interaction.response.edit_message(view=votes)
        said = "share.voted" if vote.voted else "share.unvoted"
        await send(interaction, translate(member_locale(interaction), said, count=vote.count))


class RemoveButton(
    ServedOnly,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"video:unshare:(?P<task_id>[0-9]{1,19})",
):
    """A moderator takes the post down (it is not shared again); labelled like Share."""

    def __init__(self, task_id: int, locale: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=translate(locale, "button.remove"),
                emoji="🗑️",
                style=discord.ButtonStyle.secondary,
                custom_id=f"{UNSHARE_PREFIX}{task_id}",
            )
        )
        self.task_id = task_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> RemoveButton:
        return cls(int(match["task_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            post = await service_of(interaction).showcase.remove(self.task_id, actor_from(interaction))
        except Exception as exc:
            await reply_error(interaction, exc)
            return
        gone = await _delete_post(interaction, post.channel_id, post.message_id)
        locale = member_locale(interaction)
        tail = "" if gone else translate(locale, "share.removed.not_deleted")
        await send(interaction, translate(locale, "share.removed", tail=tail))


def showcase_view(task_id: int, votes: int, locale: str | None = None) -> discord.ui.View:
    """Vote (its label the count) and Remove, in ``locale``'s language: the server's, as the post."""
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(task_id, votes))
    view.add_item(RemoveButton(task_id, locale))
    return view


def showcase_embed(ticket: ShareTicket, origin: str | None, locale: str = "en") -> discord.Embed:
    """The showcase post, in the server's language (the whole server reads it)."""
    task = ticket.task
    embed = discord.Embed(description=plain_line(task.prompt, 4000), colour=SHOWCASE_COLOUR)
    embed.add_field(name=translate(locale, "share.post.model"), value=task.model or "—")
    embed.add_field(name=translate(locale, "share.post.by"), value=f"<@{task.user_id}>")
    if origin is not None:
        jump = translate(locale, "share.post.jump")
        embed.add_field(name=translate(locale, "share.post.original"), value=f"[{jump}]({origin})")
    embed.set_footer(text=translate(locale, "share.post.footer", task_id=task.id))
    return embed


async def _video(interaction: discord.Interaction[Any]) -> tuple[discord.File | None, str | None]:
    """The result's video as a file to re-upload, else the link the result carried."""
    message = interaction.message
    if message is None:
        return None, None
    for attachment in message.attachments:
        if (attachment.content_type or "").startswith("video/") or attachment.filename.endswith(".mp4"):
            data = await attachment.read()
            return discord.File(io.BytesIO(data), filename=attachment.filename), None
    for word in message.content.split():
        if word.startswith(("https://", "http://")):
            return None, word.strip("<>")
    return None, None


async def _post(interaction: discord.Interaction[Any], ticket: ShareTicket) -> tuple[int, int]:
    """Post to the showcase; the (channel, message) of the post (a forum post's thread is its channel)."""
    file, link = await _video(interaction)
    origin = interaction.message.jump_url if interaction.message is not None else None
    locale = server_locale(interaction)  # the whole server reads the post
    embed = showcase_embed(ticket, origin, locale)
    content = clip(link, 2000) if link is not None else None
    kwargs: dict[str, Any] = {
        "content": content,
        "embed": embed,
        "view": showcase_view(ticket.task.id, 0, locale),
        "allowed_mentions": NONE,
    }
    if file is not None:
        kwargs["file"] = file
    client = interaction.client
    channel_id = ticket.showcase.channel_id
    if ticket.showcase.is_forum:
        forum = client.get_channel(channel_id) or await client.fetch_channel(channel_id)
        untitled = translate(locale, "button.share.thread", task_id=ticket.task.id)
        name = clip(" ".join(ticket.task.prompt.split()) or untitled, THREAD_NAME_CHARS)
        created = await forum.create_thread(name=name, **kwargs)
        return created.thread.id, created.message.id
    channel = client.get_channel(channel_id) or client.get_partial_messageable(channel_id)
    message = await channel.send(**kwargs)
    return channel_id, message.id


async def _delete_post(
    interaction: discord.Interaction[Any], channel_id: int | None, message_id: int | None
) -> bool:
    """Delete the showcase message (a forum post: its whole thread); False when Discord refused."""
    if channel_id is None or message_id is None:
        return True
    client = interaction.client
    try:
        if channel_id == message_id:  # a forum post: the thread's id is its first message's
            thread = client.get_channel(channel_id) or await client.fetch_channel(channel_id)
            await thread.delete()
        else:
            channel = client.get_channel(channel_id) or client.get_partial_messageable(channel_id)
            await channel.get_partial_message(message_id).delete()
    except discord.HTTPException as exc:
        log.warning("Could not delete showcase post %s in %s: %s", message_id, channel_id, exc)
        return False
    return True


SHOWCASE_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (ShareButton, VoteButton, RemoveButton)
