"""One kit of real discord.py objects for calling cog callbacks directly, without a gateway.

Why real objects: a hand-made stand-in keeps working when the cog reads an attribute the real
``discord.Interaction`` spells differently, or trusts a field Discord never sends. Here every
``Interaction``, ``Guild``, ``Member``, ``User``, ``TextChannel``/``Thread``, ``Message`` and
``Attachment`` is built by discord.py's own constructors from a Discord payload, so permissions,
role ids, ``created_at`` (from the snowflake), DM-vs-guild and the channel type come out exactly as
discord.py computes them.

Only the answers are recorded instead of sent: :class:`KitInteraction` is a real
``discord.Interaction`` whose ``response`` (a real ``InteractionResponse`` subclass: answering twice
raises ``discord.InteractionResponded``), ``followup`` and ``edit_original_response`` append a
:class:`Reply` to ``replies``.

Use ``make_interaction(client, user=make_member(guild, 42, role_id), guild=guild)``; the wire-level
counterpart (payloads sent to the real bot over the fake gateway) is ``tests/e2e/interactions.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import discord
from discord import app_commands

from cogs.replies import reply_error

DISCORD_EPOCH_MS = 1_420_070_400_000
DM_CHANNEL_ID = 77
BOT_USER_ID = 999

DEFAULT_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, use_application_commands=True
)
# What the bot may do in the channel unless a test takes some of it away.
DEFAULT_APP_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, embed_links=True, attach_files=True, read_message_history=True
)

_counter = itertools.count(1)


def snowflake(at: datetime | None = None) -> int:
    """A fresh snowflake whose timestamp is ``at`` (now by default), as Discord makes them."""
    ms = int((at or datetime.now(UTC)).timestamp() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_counter) & 0x3FFFFF)


class KitState:
    """The few ``ConnectionState`` attributes discord.py's models read when built from payloads.

    One per interaction (``client`` and ``guild`` are what that interaction sees); the module's
    :data:`STATE` builds guilds, members and messages that belong to no interaction yet.
    """

    shard_count = 1
    member_cache_flags = discord.MemberCacheFlags.none()
    cache_guild_expressions = False
    _intents = discord.Intents.default()

    def __init__(self, client: Any = None, guild: discord.Guild | None = None) -> None:
        self.self_id = BOT_USER_ID
        self.client = client
        self.guild = guild
        self.user = SimpleNamespace(id=BOT_USER_ID)  # what Guild.me reads
        self.http = SimpleNamespace(_HTTPClient__session=None)  # Interaction keeps the session

    def _get_guild(self, guild_id: int | None) -> discord.Guild | None:
        return self.guild if self.guild is not None and self.guild.id == guild_id else None

    def _get_or_create_unavailable_guild(self, guild_id: int, *, data: Any = None) -> discord.Guild:
        if self.guild is None or self.guild.id != guild_id:
            raise AssertionError(f"the interaction names guild {guild_id}, the kit was given another")
        return self.guild

    def store_user(self, data: Any, *, cache: bool = True) -> discord.User:
        return discord.User(state=self, data=data)  # type: ignore[arg-type]

    def create_user(self, data: Any) -> discord.User:
        return discord.User(state=self, data=data)  # type: ignore[arg-type]

    def _get_client(self) -> Any:
        # discord.py reads ``client.user`` for a DM channel; a test without a client has no bot user.
        return self.client if self.client is not None else _NO_CLIENT

    def get_channel(self, channel_id: int) -> None:
        return None

    def _get_message(self, message_id: int) -> None:
        return None

    def store_view(self, *args: Any, **kwargs: Any) -> None:
        return None


_NO_CLIENT = SimpleNamespace(user=None)
STATE = KitState()


# -- payloads and the objects built from them -------------------------------------------------------


def role_payload(role_id: int, name: str, permissions: discord.Permissions, position: int) -> dict[str, Any]:
    return {
        "id": str(role_id),
        "name": name,
        "permissions": str(permissions.value),
        "position": position,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
    }


def text_channel_payload(channel_id: int, name: str, position: int = 0) -> dict[str, Any]:
    return {"id": str(channel_id), "type": 0, "name": name, "position": position, "permission_overwrites": []}


def user_payload(user_id: int, name: str) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "discriminator": "0", "avatar": None, "global_name": None}


def make_guild(
    guild_id: int,
    *,
    owner_id: int = 1,
    roles: Iterable[dict[str, Any]] = (),
    channels: Iterable[dict[str, Any]] = (),
    name: str | None = None,
) -> discord.Guild:
    """A real ``discord.Guild`` (with @everyone = ``guild_id``, as Discord does) and the bot in it."""
    data = {
        "id": str(guild_id),
        "name": name or f"Guild {guild_id}",
        "owner_id": str(owner_id),
        "roles": [role_payload(guild_id, "@everyone", DEFAULT_PERMISSIONS, 0), *roles],
        "channels": list(channels),
        "emojis": [],
        "stickers": [],
        "features": [],
        "member_count": 10,
    }
    guild = discord.Guild(data=data, state=STATE)  # type: ignore[arg-type]
    guild._add_member(make_member(guild, BOT_USER_ID, name="Hailuo Test Bot"))
    return guild


def make_member(
    guild: discord.Guild, user_id: int, *role_ids: int, name: str | None = None
) -> discord.Member:
    """A real member; role ids need not exist in the guild (Discord's payload carries ids only)."""
    return discord.Member(data=member_payload(user_id, *role_ids, name=name), guild=guild, state=STATE)  # type: ignore[arg-type]


def member_payload(user_id: int, *role_ids: int, name: str | None = None) -> dict[str, Any]:
    return {
        "user": user_payload(user_id, name or f"user{user_id}"),
        "roles": [str(r) for r in role_ids],
        "joined_at": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
    }


def make_user(user_id: int, name: str = "dm-user") -> discord.User:
    return discord.User(state=STATE, data=user_payload(user_id, name))  # type: ignore[arg-type]


def attachment_payload(
    *,
    filename: str = "cat.png",
    content_type: str | None = "image/png",
    size: int = 200_000,
    width: int | None = 1280,
    height: int | None = 720,
    url: str | None = None,
) -> dict[str, Any]:
    """What Discord sends for a file a member attached (defaults: a 1280×720 PNG of 200 kB)."""
    attachment_id = snowflake()
    url = url or f"https://cdn.discordapp.com/attachments/1/{attachment_id}/{filename}"
    data: dict[str, Any] = {
        "id": str(attachment_id),
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
    }
    if content_type is not None:
        data["content_type"] = content_type
    if width is not None and height is not None:
        data["width"], data["height"] = width, height
    return data


def make_attachment(**fields: Any) -> discord.Attachment:
    """A real ``discord.Attachment``; keyword arguments as :func:`attachment_payload`."""
    return discord.Attachment(data=attachment_payload(**fields), state=STATE)  # type: ignore[arg-type]


def message_payload(
    *,
    channel_id: int = 1,
    content: str = "",
    attachments: Sequence[discord.Attachment] = (),
    forwarded: Sequence[Sequence[discord.Attachment]] = (),
    author_id: int = 12345,
) -> dict[str, Any]:
    """A message a member posted; ``forwarded`` makes it a forward of messages with those files."""

    def files(items: Sequence[discord.Attachment]) -> list[dict[str, Any]]:
        return [dict(a.to_dict()) for a in items]

    def body(text: str, items: Sequence[discord.Attachment]) -> dict[str, Any]:
        return {
            "type": 0,
            "content": text,
            "embeds": [],
            "attachments": files(items),
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "flags": 0,
            "mentions": [],
            "mention_roles": [],
            "components": [],
        }

    data = {
        **body(content, attachments),
        "id": str(snowflake()),
        "channel_id": str(channel_id),
        "author": user_payload(author_id, "poster"),
        "tts": False,
        "mention_everyone": False,
        "pinned": False,
    }
    if forwarded:
        data["message_snapshots"] = [{"message": body("", items)} for items in forwarded]
    return data


def make_message(channel: Any = None, **fields: Any) -> discord.Message:
    """A real ``discord.Message`` (e.g. the target of a message context menu)."""
    return discord.Message(state=STATE, channel=channel, data=message_payload(**fields))  # type: ignore[arg-type]


# -- the interaction ---------------------------------------------------------------------------------


@dataclass
class Reply:
    """One answer the command gave, with the objects it passed (embeds, view, modal) as they were."""

    kind: str  # "defer", "message", "followup", "edit", "modal", "edit_original", "autocomplete"
    content: str | None = None
    embed: discord.Embed | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    view: discord.ui.View | None = None
    ephemeral: bool = False
    thinking: bool = False
    modal: discord.ui.Modal | None = None
    allowed_mentions: discord.AllowedMentions | None = None
    choices: list[app_commands.Choice[Any]] = field(default_factory=list)  # an autocomplete answer
    files: list[discord.File] = field(default_factory=list)  # attachments, as passed

    @property
    def all_embeds(self) -> list[discord.Embed]:
        return ([self.embed] if self.embed is not None else []) + list(self.embeds)

    def text(self) -> str:
        """Everything a reader would see, one line each: content, titles, descriptions, fields, footers.

        A field is shown as ``name: value`` and also as its two lines, so both spellings can be asserted.
        """
        parts = [self.content or ""]
        for embed in self.all_embeds:
            parts += [embed.title or "", embed.description or ""]
            for f in embed.fields:
                parts += [f"{f.name}: {f.value}", f.name or "", f.value or ""]
            parts.append(embed.footer.text or "")
        return "\n".join(p for p in parts if p)


class KitResponse(discord.InteractionResponse):  # type: ignore[type-arg]
    """discord.py's response object, recording instead of calling Discord; one answer only."""

    def __init__(self, parent: KitInteraction) -> None:
        super().__init__(parent)
        self._kit = parent

    def _answer(self, kind: discord.InteractionResponseType, reply: Reply) -> None:
        if self._response_type is not None:
            raise discord.InteractionResponded(self._kit)
        self._response_type = kind
        self._kit.replies.append(reply)

    async def defer(self, *, ephemeral: bool = False, thinking: bool = False) -> None:  # type: ignore[override]
        kind = (
            discord.InteractionResponseType.deferred_channel_message
            if thinking or self._kit.type is discord.InteractionType.application_command
            else discord.InteractionResponseType.deferred_message_update
        )
        self._answer(kind, Reply("defer", ephemeral=ephemeral, thinking=thinking))

    async def send_message(  # type: ignore[override]
        self,
        content: str | None = None,
        *,
        embed: discord.Embed | None = None,
        embeds: Sequence[discord.Embed] | None = None,
        view: discord.ui.View | None = None,
        ephemeral: bool = False,
        allowed_mentions: discord.AllowedMentions | None = None,
        **_: Any,
    ) -> None:
        reply = Reply("message", content, embed, list(embeds or []), view, ephemeral)
        reply.allowed_mentions = allowed_mentions
        self._answer(discord.InteractionResponseType.channel_message, reply)

    async def edit_message(  # type: ignore[override]
        self,
        *,
        content: str | None = None,
        embed: discord.Embed | None = None,
        view: discord.ui.View | None = None,
        **_: Any,
    ) -> None:
        self._answer(discord.InteractionResponseType.message_update, Reply("edit", content, embed, [], view))

    async def send_modal(self, modal: discord.ui.Modal, /) -> None:  # type: ignore[override]
        self._answer(discord.InteractionResponseType.modal, Reply("modal", modal=modal))

    async def autocomplete(self, choices: Sequence[app_commands.Choice[Any]]) -> None:  # type: ignore[override]
        reply = Reply("autocomplete", choices=list(choices))
        self._answer(discord.InteractionResponseType.autocomplete_result, reply)


class KitFollowup:
    """Stands in for the interaction's follow-up webhook; sending before the first answer is a bug."""

    def __init__(self, interaction: KitInteraction) -> None:
        self._interaction = interaction

    async def send(
        self,
        content: str | None = None,
        *,
        embed: discord.Embed | None = None,
        embeds: Sequence[discord.Embed] | None = None,
        view: discord.ui.View | None = None,
        ephemeral: bool = False,
        allowed_mentions: discord.AllowedMentions | None = None,
        file: discord.File | None = None,
        files: Sequence[discord.File] | None = None,
        **_: Any,
    ) -> None:
        if not self._interaction.response.is_done():
            raise AssertionError("a follow-up before the initial response")
        reply = Reply("followup", content, embed, list(embeds or []), view, ephemeral)
        reply.allowed_mentions = allowed_mentions
        reply.files = ([file] if file is not None else []) + list(files or [])
        self._interaction.replies.append(reply)


class KitInteraction(discord.Interaction):  # type: ignore[type-arg]
    """A real ``discord.Interaction`` from a payload whose answers land in ``replies``.

    ``edit_error``, when set, is raised by ``edit_original_response`` instead, as Discord would for
    a dismissed message or an expired token. ``command`` may be assigned (the tree sets it).
    """

    def __init__(self, *, data: dict[str, Any], state: KitState) -> None:
        super().__init__(data=data, state=state)  # type: ignore[arg-type]
        self.replies: list[Reply] = []
        self.edit_error: Exception | None = None
        self.command: Any = None
        self._kit_response = KitResponse(self)
        self._kit_followup = KitFollowup(self)

    @property
    def response(self) -> KitResponse:  # type: ignore[override]
        return self._kit_response

    @property
    def followup(self) -> KitFollowup:  # type: ignore[override]
        return self._kit_followup

    async def edit_original_response(self, *, view: Any, **_: Any) -> None:  # type: ignore[override]
        """Records the edit; ``view`` is required here because it is what the cogs change."""
        if self.edit_error is not None:
            raise self.edit_error
        self.replies.append(Reply("edit_original", view=view))

    @property
    def answers(self) -> list[Reply]:
        """What the member read: everything but the defer."""
        return [r for r in self.replies if r.kind != "defer"]

    @property
    def last(self) -> Reply:
        """The latest answer the member read (a defer alone is no answer)."""
        assert self.answers, "the command answered nothing"
        return self.answers[-1]


def _member_data(member: discord.Member, permissions: discord.Permissions | None) -> dict[str, Any]:
    data = member_payload(member.id, *member._roles, name=member.name)
    data["nick"] = member.nick
    resolved = permissions if permissions is not None else member.guild_permissions
    data["permissions"] = str(resolved.value)
    return data


def _channel_data(guild: discord.Guild | None, channel_id: int, thread_parent: int | None) -> dict[str, Any]:
    if guild is None:
        return {"id": str(channel_id), "type": 1, "recipients": []}
    if thread_parent is not None:
        return {
            "id": str(channel_id),
            "type": 11,
            "guild_id": str(guild.id),
            "parent_id": str(thread_parent),
            "owner_id": "1",
            "name": "a thread",
            "message_count": 0,
            "member_count": 1,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": datetime.now(UTC).isoformat(),
                "locked": False,
            },
        }
    known = guild.get_channel(channel_id)
    name = known.name if known is not None else f"channel-{channel_id}"
    return {**text_channel_payload(channel_id, name), "guild_id": str(guild.id)}


def make_interaction(
    client: Any = None,
    *,
    user: discord.Member | discord.User,
    guild: discord.Guild | None,
    channel_id: int | None = None,
    thread_parent: int | None = None,
    permissions: discord.Permissions | None = None,
    app_permissions: discord.Permissions | None = None,
    created_at: datetime | None = None,
    message: discord.Message | None = None,
    type: discord.InteractionType = discord.InteractionType.application_command,
    data: dict[str, Any] | None = None,
    filesize_limit: int = 10 * 1024 * 1024,
    locale: str = "en-US",
    guild_locale: str = "en-US",
    integration_owners: dict[str, str] | None = None,
) -> KitInteraction:
    """The interaction Discord would send for ``user`` in ``guild`` (``None``: a DM).

    ``integration_owners`` is Discord's ``authorizing_integration_owners`` (``{"1": user id}``: the
    member's own install authorised it; ``{"0": guild id}``: the server's).

    ``permissions`` default to the member's own guild permissions, as Discord resolves them;
    ``thread_parent`` makes the channel a thread of that channel; ``message`` is the message a
    clicked component sits on.
    """
    if guild is not None and not isinstance(user, discord.Member):
        raise TypeError("a guild interaction comes from a discord.Member")
    if channel_id is None:
        channel_id = DM_CHANNEL_ID if guild is None else _first_text_channel(guild)
    payload: dict[str, Any] = {
        "id": str(snowflake(created_at)),
        "application_id": str(BOT_USER_ID),
        "type": type.value,
        "token": f"kit-token-{next(_counter)}",
        "version": 1,
        "channel_id": str(channel_id),
        "channel": _channel_data(guild, channel_id, thread_parent),
        "locale": locale,
        "entitlements": [],
        "attachment_size_limit": filesize_limit,
        "app_permissions": str((app_permissions or DEFAULT_APP_PERMISSIONS).value),
    }
    if data is not None:
        payload["data"] = data
    if guild is None:
        if client is not None and not hasattr(client, "user"):
            raise TypeError("a DM interaction needs a client with a .user attribute (None will do)")
        payload["user"] = user_payload(user.id, user.name)
        payload["context"] = 1
    else:
        assert isinstance(user, discord.Member)
        payload["guild_id"] = str(guild.id)
        payload["guild_locale"] = guild_locale
        payload["member"] = _member_data(user, permissions)
        payload["context"] = 0
    if message is not None:
        payload["message"] = _message_data(message)
    if integration_owners is not None:
        payload["authorizing_integration_owners"] = integration_owners
    return KitInteraction(data=payload, state=KitState(client, guild))


def _first_text_channel(guild: discord.Guild) -> int:
    channels = guild.text_channels
    return channels[0].id if channels else guild.id


def _message_data(message: discord.Message) -> dict[str, Any]:
    return {
        **message_payload(
            channel_id=message.channel.id if message.channel is not None else 1,
            content=message.content,
            attachments=message.attachments,
            author_id=message.author.id,
        ),
        "id": str(message.id),
    }


async def invoke(
    command: app_commands.Command[Any, Any, Any], cog: Any, interaction: KitInteraction, **kwargs: Any
) -> Reply:
    """Run the real callback; a refusal goes through the tree's real error handler, as in production.

    Returns the last reply of any kind (a defer included), as the admin tests read it.
    """
    interaction.command = command
    try:
        await command.callback(cog, interaction, **kwargs)  # type: ignore[arg-type]
    except app_commands.AppCommandError as error:
        await reply_error(interaction, error)
    assert interaction.replies, "the command did not answer"
    return interaction.replies[-1]
