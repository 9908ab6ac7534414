"""Small helpers shared by the /video commands and their buttons: who is asking, and the service.

Kept apart from both so neither imports the other, and so the Discord → plain-data step (an
interaction becomes an :class:`Actor`, an attachment an :class:`ImageInput`) is written once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, Protocol, cast

import discord

from bot.catalog import MODELS, REFERENCE_DEFAULT_MODEL
from bot.i18n import Message, credits, msg, translate
from bot.lifecycle import Actor, RequestRefused, VideoService, kept_for_member
from bot.lifecycle.references import check_references, kind_of_content
from bot.lifecycle.validation import check_image
from bot.spec import REFERENCE_ROLE_OF, MediaKind, MediaRef, MediaRole, VideoSpec
from cogs import embeds
from cogs.permissions import member_role_ids
from storage.models import Task


class HasVideoService(Protocol):
    @property
    def service(self) -> VideoService: ...


UNKNOWN_MEMBER = 10007  # Discord's JSON error code: the user is not a member of that guild


def service_of(interaction: discord.Interaction[Any]) -> VideoService:
    """The bot's VideoService (``VideoBot.service``); the client is typed loosely by discord.py."""
    return cast(HasVideoService, interaction.client).service


async def dm_actor(
    interaction: discord.Interaction[Any], service: VideoService, task_id: int, actor: Actor
) -> Actor:
    """``actor`` (clicking in a DM) with their roles in the server the task was made in.

    Roles decide quota limits; a DM interaction carries none. They are looked up in the bot's cache,
    else asked of Discord (also for a server of another shard); when neither answers, the member gets
    the server's default limits. A
    member who left that server is refused. Raises RequestRefused (also when not their task).
    """
    original = await service.task_for(task_id, actor)
    if original.guild_id is None:
        return actor
    client = interaction.client
    guild = client.get_guild(original.guild_id)
    if guild is None and client.shard_count is None:
        return actor
    try:
        if guild is None:
            # A sharded process holds only its shards' servers, and every DM comes to shard 0's:
            # the member of another shard's server is asked of Discord by ids alone.
            payload = await client.http.get_member(original.guild_id, actor.user_id)
            roles = [int(role) for role in payload.get("roles", ())]
            return replace(actor, role_ids=tuple(r for r in roles if r != original.guild_id))
        member = guild.get_member(actor.user_id) or await guild.fetch_member(actor.user_id)
    except discord.NotFound as exc:
        if exc.code != UNKNOWN_MEMBER:
            return actor  # some other 404 (an unknown guild to this bot...): not proof they left
        raise RequestRefused.keyed("button.left_server") from None
    except discord.HTTPException:
        return actor
    return replace(actor, role_ids=tuple(member_role_ids(member, guild.id)))


def media_from(
    attachment: discord.Attachment, role: MediaRole, kind: MediaKind = MediaKind.IMAGE
) -> MediaRef:
    return MediaRef(
        url=attachment.url,
        role=role,
        kind=kind,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        width=attachment.width,
        height=attachment.height,
    )


def references_from(attachments: Mapping[str, discord.Attachment | None]) -> tuple[MediaRef, ...]:
    """Each given attachment as a reference whose role follows from what the file is.

    Raises RequestRefused naming the option whose file is neither an image, a video nor audio.
    """
    return _references(attachments.items())


def _references(named: Iterable[tuple[str | Message, discord.Attachment | None]]) -> tuple[MediaRef, ...]:
    """:func:`references_from` with each file's name for a refusal: an option as typed, or a
    message's "attachment 2" (in the member's language)."""
    found: list[MediaRef] = []
    for option, attachment in named:
        if attachment is None:
            continue
        kind = kind_of_content(attachment.content_type, attachment.filename)
        if kind is None:
            raise RequestRefused.keyed("menu.not_media", option=option, filename=repr(attachment.filename))
        found.append(media_from(attachment, REFERENCE_ROLE_OF[kind], kind))
    return tuple(found)


NO_REFERENCES = msg("menu.no_references")


def message_references(message: discord.Message) -> tuple[MediaRef, ...]:
    """Every image, video and audio attachment of a message (and of what it forwards), as references,
    checked as a request would be (counts, kinds, image rules) so a refusal comes before the modal.

    Raises RequestRefused naming the fix.
    """
    usable = [a for a in message_attachments(message) if kind_of_content(a.content_type, a.filename)]
    if not usable:
        raise RequestRefused.of(NO_REFERENCES)
    references = _references((msg("menu.attachment", n=n), a) for n, a in enumerate(usable, start=1))
    check_references(VideoSpec(prompt="", media=references))
    check_references(VideoSpec(prompt="", media=references), MODELS[REFERENCE_DEFAULT_MODEL])
    for medium in references:
        if medium.kind is MediaKind.IMAGE:
            check_image(medium, msg("image.label.reference_named", name=repr(medium.filename)))
    return references


def is_image(attachment: discord.Attachment) -> bool:
    """Looks like a picture of any kind (GIF and BMP too): worth explaining why it cannot be used."""
    content_type = (attachment.content_type or "").lower()
    if content_type.startswith("image/"):
        return True
    return attachment.filename.lower().rsplit(".", 1)[-1] in ("jpg", "jpeg", "png", "webp", "gif", "bmp")


NO_IMAGE = msg("menu.no_image")


def message_attachments(message: discord.Message) -> list[discord.Attachment]:
    """The message's own attachments, then those of the messages it forwards."""
    found = list(message.attachments)
    for snapshot in message.message_snapshots:
        found.extend(snapshot.attachments)
    return found


def animatable_image(message: discord.Message) -> discord.Attachment:
    """The first attachment the video service would accept as a first frame.

    Checked before the modal opens, with the same rules as ``first_frame``: otherwise the member
    writes a prompt only to be told the image was never usable. Raises RequestRefused saying why
    the first picture-like attachment is not usable, or that there is none.
    """
    attachments = message_attachments(message)
    first_refusal: RequestRefused | None = None
    for attachment in attachments:
        try:
            check_image(media_from(attachment, MediaRole.FIRST_FRAME), msg("image.label.attached"))
        except RequestRefused as exc:
            if first_refusal is None and is_image(attachment):
                first_refusal = exc
            continue
        return attachment
    if first_refusal is None:
        raise RequestRefused.of(NO_IMAGE)
    raise first_refusal


def jump_url(task: Task) -> str | None:
    if task.status_message_id is None:
        return None
    guild = task.guild_id if task.guild_id is not None else "@me"
    return f"https://discord.com/channels/{guild}/{task.channel_id}/{task.status_message_id}"


LONG_WAIT_BY_DM = translate("en", "confirm.long_wait").strip()


def confirmation(
    task: Task,
    position: int | None,
    *,
    here: bool = True,
    long_wait: bool = False,
    locale: str | None = None,
) -> str:
    """The ephemeral "started" answer: the task number, its cost, where to watch it; in the
    member's ``locale`` (only they see it).

    ``here``: asked in the task's own channel (not from a DM, where "this channel" would mislead).
    ``long_wait``: a personal-install use likely to outlast its interaction (15 minutes), whose
    video will then come by DM: said up front, not discovered.
    """
    here_text = translate(locale, "confirm.this_channel") if here else f"<#{task.channel_id}>"
    where = translate(locale, "confirm.your_dms") if task.deliver_by_dm else here_text
    if task.takes is not None and task.takes > 1:
        line = translate(
            locale,
            "confirm.on_its_way.takes",
            task_id=task.id,
            takes=task.takes,
            total=credits(task.cost_tenths * task.takes),
            each=credits(task.cost_tenths),
            where=where,
        )
    else:
        line = translate(
            locale, "confirm.on_its_way", task_id=task.id, cost=credits(task.cost_tenths), where=where
        )
    if position is not None and position > 1:
        line += translate(locale, "confirm.in_line", position=position)
    url = jump_url(task)
    if url is not None:
        line += translate(locale, "confirm.follow", url=url)
    else:
        line += translate(locale, "confirm.no_card")
    if long_wait:
        line += translate(locale, "confirm.long_wait")
    return line


async def pickup_link(
    service: VideoService, task: Task, user_id: int, locale: str | None = None
) -> str | None:
    """A fresh download link of a video kept for its requester (the member's side refused it: their
    DMs are closed), for ``/video status`` and Details; None when there is nothing to pick up or
    someone else asks (a moderator sees the details, not the member's private video).

    Raises what :meth:`VideoService.fresh_link` raises besides a refusal, which becomes its words.
    """
    if not kept_for_member(task) or task.user_id != user_id:
        return None
    try:
        link = await service.fresh_link(task)
    except RequestRefused as exc:
        return exc.text(locale)
    return embeds.pickup_link_content(task, link.url, link.expires_at, locale or "en")
