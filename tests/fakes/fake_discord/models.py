"""The fake's world as plain data: users, roles, channels, members, guilds, messages, attachments,
interaction records, and the clock and snowflakes they are stamped with."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import mimetypes
import re
import secrets
import struct
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from tests.fakes.fake_discord.rules import DISCORD_EPOCH_MS, MessageFlag, Perm, _walk_components

if TYPE_CHECKING:
    from tests.fakes.fake_discord.server import FakeDiscord

T = TypeVar("T")


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def png_bytes(
    width: int, height: int, *, color: tuple[int, int, int] = (200, 90, 40), noisy: bool = False
) -> bytes:
    """An RGB PNG of the given size; ``noisy`` makes it incompressible so big files are really big."""
    if width <= 0 or height <= 0:
        raise ValueError("a PNG needs at least one pixel")
    compressor = zlib.compressobj(6)
    solid_row = b"\x00" + bytes(color) * width
    parts: list[bytes] = []
    for y in range(height):
        row = b"\x00" + secrets.token_bytes(3 * width) if noisy else solid_row
        if not noisy and y % 16 == 0:  # a faint stripe so the image is not one flat colour
            row = b"\x00" + bytes((255 - c) for c in color) * width
        parts.append(compressor.compress(row))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG header, or None when the bytes are not a PNG."""
    if len(data) < 24 or not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


# --------------------------------------------------------------------------------------------------
# The world: users, roles, channels, members, messages, attachments, interactions.
# --------------------------------------------------------------------------------------------------


class _Clock:
    """Wall-clock seconds that never go backwards and can be pushed forward by tests."""

    def __init__(self) -> None:
        self._wall0 = time.time()
        self._mono0 = time.monotonic()
        self.offset = 0.0

    def now(self) -> float:
        return self._wall0 + (time.monotonic() - self._mono0) + self.offset


class _Snowflakes:
    def __init__(self, clock: _Clock) -> None:
        self._clock = clock
        self._counter = itertools.count(1)
        self._last = 0

    def next(self) -> int:
        ms = int(self._clock.now() * 1000) - DISCORD_EPOCH_MS
        value = (ms << 22) | (next(self._counter) & 0x3FFFFF)
        self._last = value = max(value, self._last + 1)
        return value

    def next_on_shard(self, shard_id: int, shard_count: int) -> int:
        """The next id whose guild lands on ``shard_id`` by Discord's formula (a moment later)."""
        value = self.next()
        ms = value >> 22
        while ms % shard_count != shard_id:
            ms += 1
        self._last = value = max(value, (ms << 22) | (value & 0x3FFFFF))
        return value


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat()


@dataclass
class FakeUser:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "public_flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass
class FakeRole:
    id: int
    name: str
    permissions: int = 0
    position: int = 0
    managed: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "managed": self.managed,
            "mentionable": False,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class FakeChannel:
    id: int
    name: str
    type: int = 0  # 0 guild text, 1 DM
    guild_id: int | None = None
    position: int = 0
    recipient: FakeUser | None = None

    @property
    def is_dm(self) -> bool:
        return self.type == 1

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def payload(self) -> dict[str, Any]:
        if self.is_dm:
            assert self.recipient is not None
            return {
                "id": str(self.id),
                "type": 1,
                "recipients": [self.recipient.payload()],
                "last_message_id": None,
                "flags": 0,
            }
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "topic": None,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": None,
            "flags": 0,
        }


@dataclass
class FakeMember:
    user: FakeUser
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = "2024-01-01T00:00:00+00:00"

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.username

    @property
    def mention(self) -> str:
        return self.user.mention

    def payload(self, permissions: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "user": self.user.payload(),
            "nick": self.nick,
            "avatar": None,
            "roles": [str(r) for r in self.role_ids],
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class FakeGuild:
    id: int
    name: str
    owner_id: int
    premium_tier: int = 0
    preferred_locale: str = "en-US"  # a community server's language: interactions' guild_locale
    roles: dict[int, FakeRole] = field(default_factory=dict)
    channels: dict[int, FakeChannel] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)

    @property
    def everyone(self) -> FakeRole:
        return self.roles[self.id]

    @property
    def text_channels(self) -> list[FakeChannel]:
        return sorted((c for c in self.channels.values() if c.type == 0), key=lambda c: c.position)

    def permissions_of(self, member: FakeMember) -> int:
        """Guild-level permissions (no channel overwrites: the fake has none)."""
        if member.id == self.owner_id:
            return Perm.ALL
        perms = self.everyone.permissions
        for role_id in member.role_ids:
            role = self.roles.get(role_id)
            if role is not None:
                perms |= role.permissions
        return Perm.ALL if perms & Perm.ADMINISTRATOR else perms

    def payload(self, *, with_members: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": self.premium_tier,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": self.preferred_locale,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [r.payload() for r in self.roles.values()],
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "vanity_url_code": None,
            "application_id": None,
        }
        if with_members:
            data.update(
                {
                    "unavailable": False,
                    "joined_at": "2024-01-01T00:00:00+00:00",
                    "large": False,
                    "member_count": len(self.members),
                    "members": [m.payload() for m in self.members.values()],
                    "channels": [c.payload() for c in self.channels.values()],
                    "threads": [],
                    "presences": [],
                    "voice_states": [],
                    "stage_instances": [],
                    "guild_scheduled_events": [],
                    "soundboard_sounds": [],
                }
            )
        return data


@dataclass
class GuildSetup:
    """One guild of the fake with its standard roles, channels and people (``FakeDiscord.setups``)."""

    guild: FakeGuild
    manager_role: FakeRole
    moderator_role: FakeRole
    bot_role: FakeRole
    general: FakeChannel
    videos: FakeChannel
    mod_log: FakeChannel
    owner: FakeMember
    admin: FakeMember
    member: FakeMember
    moderator: FakeMember
    bot_member: FakeMember


@dataclass
class StoredAttachment:
    """A file Discord holds: uploaded by the bot, or attached by a member to an interaction."""

    id: int
    channel_id: int
    filename: str
    data: bytes
    content_type: str | None = None
    size: int = -1  # what Discord reports; -1 means len(data)
    width: int | None = None
    height: int | None = None
    ephemeral: bool = False
    description: str | None = None
    downloads: int = 0

    def __post_init__(self) -> None:
        if self.size < 0:
            self.size = len(self.data)
        if self.content_type is None:
            self.content_type = mimetypes.guess_type(self.filename)[0]
        if self.width is None and self.height is None:
            dims = png_size(self.data)
            if dims is not None:
                self.width, self.height = dims

    def path(self) -> str:
        return f"/attachments/{self.channel_id}/{self.id}/{quote(self.filename)}"

    def payload(self, base_url: str) -> dict[str, Any]:
        # Real CDN links carry signed, expiring query parameters; keep them so URL handling is tested.
        url = f"{base_url}{self.path()}?ex=6800000a&is=67ffffff&hm={self.id:x}&"
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": url,
            "proxy_url": url,
            "flags": 0,
        }
        if self.content_type:
            data["content_type"] = self.content_type
        if self.width is not None and self.height is not None:
            data["width"], data["height"] = self.width, self.height
        if self.ephemeral:
            data["ephemeral"] = True
        if self.description:
            data["description"] = self.description
        return data


@dataclass
class FakeMessage:
    id: int
    channel_id: int
    guild_id: int | None
    author: FakeUser
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[StoredAttachment] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: dict[str, Any] | None = None
    type: int = 0
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_id: int | None = None
    message_reference: dict[str, Any] | None = None
    created_at: float = 0.0
    edited_at: float | None = None
    deleted: bool = False
    via: str = "channel"  # channel | interaction | followup | user
    history: list[dict[str, Any]] = field(default_factory=list)  # visible state after each write

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MessageFlag.EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & MessageFlag.LOADING)

    @property
    def edit_count(self) -> int:
        return max(0, len(self.history) - 1)

    @property
    def text(self) -> str:
        """Content plus every embed text, for predicates that should not care where words are."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            for f in embed.get("fields") or []:
                parts += [f.get("name") or "", f.get("value") or ""]
            parts.append((embed.get("footer") or {}).get("text") or "")
            parts.append((embed.get("author") or {}).get("name") or "")
        return "\n".join(p for p in parts if p)

    def iter_components(self) -> Iterator[Mapping[str, Any]]:
        return _walk_components(self.components)

    @property
    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in self.iter_components() if "custom_id" in c]

    def find_component(self, custom_id: str) -> Mapping[str, Any] | None:
        return next((c for c in self.iter_components() if c.get("custom_id") == custom_id), None)

    @property
    def mass_mention_allowed(self) -> bool:
        """True when this message would really ping @everyone/@here."""
        if "@everyone" not in self.content and "@here" not in self.content:
            return False
        if self.allowed_mentions is None:
            return True
        return "everyone" in (self.allowed_mentions.get("parse") or [])

    def snapshot(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "embeds": json.loads(json.dumps(self.embeds)),
            "components": json.loads(json.dumps(self.components)),
            "attachments": [a.filename for a in self.attachments],
            "flags": self.flags,
        }

    def payload(self, base_url: str, interaction: InteractionRecord | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": _iso(self.created_at),
            "edited_timestamp": None if self.edited_at is None else _iso(self.edited_at),
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [a.payload(base_url) for a in self.attachments],
            "embeds": [{"type": "rich", **e} for e in self.embeds],
            "components": self.components,
            "pinned": False,
            "type": self.type,
            "flags": self.flags,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.message_reference is not None:
            data["message_reference"] = self.message_reference
        if interaction is not None:
            data["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": interaction.user.payload(),
                "authorizing_integration_owners": interaction.payload.get(
                    "authorizing_integration_owners", {}
                ),
            }
        return data


@dataclass
class CallbackAttempt:
    type: int | None
    data: dict[str, Any]
    at: float
    delay: float
    status: int


@dataclass
class InteractionRecord:
    """One interaction the fake created, and everything the bot did with its token."""

    fake: FakeDiscord = field(repr=False)
    id: int
    token: str
    type: int
    label: str
    payload: dict[str, Any] = field(repr=False)
    user: FakeUser
    channel_id: int
    created_at: float
    source_message_id: int | None = None  # the message a component/modal interaction came from
    callbacks: list[CallbackAttempt] = field(default_factory=list)
    initial: CallbackAttempt | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    _loading_replaced: bool = False

    @property
    def data(self) -> dict[str, Any]:
        return self.payload.get("data") or {}

    @property
    def response_type(self) -> int | None:
        return None if self.initial is None else self.initial.type

    @property
    def responded(self) -> bool:
        return self.initial is not None

    @property
    def response_delay(self) -> float | None:
        return None if self.initial is None else self.initial.delay

    @property
    def original(self) -> FakeMessage | None:
        return None if self.original_message_id is None else self.fake.messages.get(self.original_message_id)

    @property
    def followups(self) -> list[FakeMessage]:
        """Follow-ups still there (``followup_ids`` keeps deleted ones too)."""
        found = (self.fake.messages.get(i) for i in self.followup_ids)
        return [m for m in found if m is not None and not m.deleted]

    @property
    def messages(self) -> list[FakeMessage]:
        """The original response (if it is a message) followed by every follow-up."""
        found = [] if self.original is None else [self.original]
        return found + [m for m in self.followups if m not in found]

    @property
    def ephemeral(self) -> bool:
        return bool(self.original is not None and self.original.ephemeral)

    async def wait_response(self, timeout: float = 5.0) -> InteractionRecord:  # noqa: ASYNC109
        await self.fake.wait_until(lambda: self.responded, timeout, f"a response to {self.label}")
        return self

    async def wait_for(self, predicate: Callable[[InteractionRecord], T], timeout: float = 10.0) -> T:  # noqa: ASYNC109
        return await self.fake.wait_until(
            lambda: predicate(self), timeout, f"{self.label} to satisfy a condition"
        )


# --------------------------------------------------------------------------------------------------
# Discord's rules for what a message, a modal and a command may look like.
# --------------------------------------------------------------------------------------------------


@dataclass
class RequestRecord:
    method: str
    path: str
    status: int
    at: float
    route: str


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int
    body: dict[str, Any] | None
