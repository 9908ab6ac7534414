"""A local stand-in for Discord's REST API v10, gateway and CDN that is strict about Discord's rules.

Why: unit tests with hand-made interaction objects cannot show that the real discord.py client logs
in, syncs its commands, answers within 3 seconds, answers once and uploads files the way Discord
accepts. This fake speaks enough of the real wire protocol for an unmodified discord.py 2.7 bot, and
where the real Discord would reject a request (or silently drop a late answer) it answers the same
way *and* writes a line to ``violations``, so a test can fail on it instead of a user noticing.

Everything lives in memory and runs in the test's event loop; the bot under test is a separate
process that talks to it over 127.0.0.1. Time-based rules read ``now()``, which tests can move
forward with ``advance_time()`` instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import itertools
import json
import logging
import mimetypes
import re
import secrets
import struct
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

from aiohttp import WSMsgType, web

log = logging.getLogger("fake_discord")

T = TypeVar("T")

MIB = 1024 * 1024
API = "/api/v10"
DISCORD_EPOCH_MS = 1_420_070_400_000
DEFAULT_UPLOAD_LIMIT = 10 * MIB
RESPONSE_DEADLINE_SECONDS = 3.0
TOKEN_LIFETIME_SECONDS = 15 * 60.0
# Upload limit per server boost tier, as discord.py's Guild.filesize_limit reports it.
PREMIUM_UPLOAD_LIMITS = {0: DEFAULT_UPLOAD_LIMIT, 1: DEFAULT_UPLOAD_LIMIT, 2: 50 * MIB, 3: 100 * MIB}


class Perm:
    """Permission bits as Discord numbers them (only the ones this fake hands out)."""

    CREATE_INSTANT_INVITE = 1 << 0
    ADMINISTRATOR = 1 << 3
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CHANGE_NICKNAME = 1 << 26
    USE_APPLICATION_COMMANDS = 1 << 31
    SEND_MESSAGES_IN_THREADS = 1 << 38
    MODERATE_MEMBERS = 1 << 40
    ALL = (1 << 53) - 1

    EVERYONE_DEFAULT = (
        CREATE_INSTANT_INVITE
        | ADD_REACTIONS
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | USE_EXTERNAL_EMOJIS
        | CHANGE_NICKNAME
        | USE_APPLICATION_COMMANDS
        | SEND_MESSAGES_IN_THREADS
    )
    BOT_DEFAULT = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY


class InteractionType:
    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


class CallbackType:
    PONG = 1
    CHANNEL_MESSAGE = 4
    DEFERRED_CHANNEL_MESSAGE = 5
    DEFERRED_UPDATE_MESSAGE = 6
    UPDATE_MESSAGE = 7
    AUTOCOMPLETE_RESULT = 8
    MODAL = 9


class MessageFlag:
    SUPPRESS_EMBEDS = 1 << 2
    EPHEMERAL = 1 << 6
    LOADING = 1 << 7
    SUPPRESS_NOTIFICATIONS = 1 << 12
    COMPONENTS_V2 = 1 << 15


# --------------------------------------------------------------------------------------------------
# Images: PNG bytes without any imaging library, so tests can hand the bot real pictures of any size.
# --------------------------------------------------------------------------------------------------


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
            "preferred_locale": "en-US",
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


def _walk_components(components: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for component in components:
        yield component
        yield from _walk_components(component.get("components") or [])
        for key in ("component", "accessory"):
            child = component.get(key)
            if isinstance(child, Mapping):
                yield from _walk_components([child])


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


def message_problems(payload: Mapping[str, Any], *, creating: bool, file_count: int = 0) -> list[str]:
    """Every rule of Discord's a message payload breaks; empty when Discord would accept it."""
    problems: list[str] = []
    content = payload.get("content")
    if content is not None and not isinstance(content, str):
        problems.append("content must be a string")
    elif content is not None and len(content) > 2000:
        problems.append(f"content is {len(content)} characters (limit 2000)")
    embeds = payload.get("embeds") or []
    problems += _embed_problems(embeds)
    flags = int(payload.get("flags") or 0)
    problems += _component_problems(
        payload.get("components") or [], v2=bool(flags & MessageFlag.COMPONENTS_V2)
    )
    problems += _allowed_mentions_problems(payload.get("allowed_mentions"))
    if creating:
        has_something = bool(content) or bool(embeds) or bool(payload.get("components")) or file_count > 0
        has_something = has_something or bool(payload.get("sticker_ids")) or bool(payload.get("poll"))
        if not has_something:
            problems.append("cannot send an empty message")
    return problems


def _embed_problems(embeds: list[Mapping[str, Any]]) -> list[str]:
    problems: list[str] = []
    if len(embeds) > 10:
        problems.append(f"{len(embeds)} embeds (limit 10)")
    total = 0
    for i, embed in enumerate(embeds):
        limits = {"title": 256, "description": 4096}
        for key, limit in limits.items():
            value = embed.get(key) or ""
            total += len(value)
            if len(value) > limit:
                problems.append(f"embed {i} {key} is {len(value)} characters (limit {limit})")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            problems.append(f"embed {i} has {len(fields)} fields (limit 25)")
        for j, f in enumerate(fields):
            name, value = f.get("name") or "", f.get("value") or ""
            total += len(name) + len(value)
            if not name or not value:
                problems.append(f"embed {i} field {j} needs a name and a value")
            if len(name) > 256:
                problems.append(f"embed {i} field {j} name is {len(name)} characters (limit 256)")
            if len(value) > 1024:
                problems.append(f"embed {i} field {j} value is {len(value)} characters (limit 1024)")
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        total += len(footer) + len(author)
        if len(footer) > 2048:
            problems.append(f"embed {i} footer is {len(footer)} characters (limit 2048)")
        if len(author) > 256:
            problems.append(f"embed {i} author name is {len(author)} characters (limit 256)")
    if total > 6000:
        problems.append(f"embeds hold {total} characters in total (limit 6000)")
    return problems


def _component_problems(components: list[Mapping[str, Any]], *, v2: bool) -> list[str]:
    problems: list[str] = []
    if not v2:
        if len(components) > 5:
            problems.append(f"{len(components)} action rows (limit 5)")
        for i, row in enumerate(components):
            if row.get("type") != 1:
                problems.append(f"top-level component {i} is type {row.get('type')}, not an action row")
                continue
            children = row.get("components") or []
            if not children or len(children) > 5:
                problems.append(f"action row {i} holds {len(children)} components (1 to 5)")
            if any(c.get("type") != 2 for c in children) and len(children) > 1:
                problems.append(f"action row {i} mixes a select menu with other components")
    elif sum(1 for _ in _walk_components(components)) > 40:
        problems.append("more than 40 components")
    for component in _walk_components(components):
        custom_id = component.get("custom_id")
        if custom_id is not None and not 1 <= len(custom_id) <= 100:
            problems.append(f"custom_id {custom_id[:40]!r}… is {len(custom_id)} characters (1 to 100)")
        if component.get("type") == 2:
            label = component.get("label") or ""
            if len(label) > 80:
                problems.append(f"button label is {len(label)} characters (limit 80)")
            if component.get("style") == 5:
                if not component.get("url"):
                    problems.append("a link button needs a url")
            elif component.get("style") != 6 and custom_id is None:
                problems.append("a button needs a custom_id")
        if component.get("type") in (3, 5, 6, 7, 8):
            options = component.get("options") or []
            if len(options) > 25:
                problems.append(f"select menu has {len(options)} options (limit 25)")
    return problems


def _allowed_mentions_problems(allowed: Any) -> list[str]:
    if allowed is None:
        return []
    if not isinstance(allowed, Mapping):
        return ["allowed_mentions must be an object"]
    parse = allowed.get("parse") or []
    problems = [
        f"allowed_mentions.parse has unknown value {p!r}"
        for p in parse
        if p not in ("users", "roles", "everyone")
    ]
    for key in ("users", "roles"):
        if key in parse and allowed.get(key):
            problems.append(f"allowed_mentions cannot list {key} and parse {key} at once")
        if len(allowed.get(key) or []) > 100:
            problems.append(f"allowed_mentions.{key} lists more than 100 ids")
    return problems


def modal_problems(data: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    title = data.get("title") or ""
    if not 1 <= len(title) <= 45:
        problems.append(f"modal title is {len(title)} characters (1 to 45)")
    custom_id = data.get("custom_id") or ""
    if not 1 <= len(custom_id) <= 100:
        problems.append(f"modal custom_id is {len(custom_id)} characters (1 to 100)")
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        problems.append(f"modal has {len(components)} top-level components (1 to 5)")
    for component in _walk_components(components):
        cid = component.get("custom_id")
        if cid is not None and not 1 <= len(cid) <= 100:
            problems.append(f"modal component custom_id is {len(cid)} characters (1 to 100)")
        if component.get("type") == 4 and len(component.get("label") or "") > 45:
            problems.append("text input label is longer than 45 characters")
    return problems


_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$", re.UNICODE)


def command_problems(commands: list[Mapping[str, Any]]) -> list[str]:
    """What Discord would refuse in a bulk overwrite of application commands."""
    problems: list[str] = []
    seen: set[tuple[int, str]] = set()
    counts = {1: 0, 2: 0, 3: 0}
    for cmd in commands:
        ctype = int(cmd.get("type", 1))
        name = cmd.get("name") or ""
        counts[ctype] = counts.get(ctype, 0) + 1
        if (ctype, name) in seen:
            problems.append(f"duplicate command name {name!r}")
        seen.add((ctype, name))
        if ctype == 1:
            problems += _named_problems(cmd, f"command {name!r}")
            problems += _options_problems(cmd.get("options") or [], f"/{name}", depth=0)
            if _command_chars(cmd) > 4000:
                problems.append(f"/{name} has more than 4000 characters of names, descriptions and choices")
        else:
            if not 1 <= len(name) <= 32:
                problems.append(f"context menu name {name!r} must be 1 to 32 characters")
            if cmd.get("description"):
                problems.append(f"context menu {name!r} must have an empty description")
    if counts.get(1, 0) > 100:
        problems.append("more than 100 slash commands")
    if counts.get(2, 0) > 5 or counts.get(3, 0) > 5:
        problems.append("more than 5 user or message context menus")
    return problems


def _named_problems(item: Mapping[str, Any], what: str) -> list[str]:
    problems: list[str] = []
    name = item.get("name") or ""
    if not _COMMAND_NAME.match(name) or name != name.lower():
        problems.append(f"{what}: name must be 1 to 32 lower-case letters, digits, - or _")
    description = item.get("description") or ""
    if not 1 <= len(description) <= 100:
        problems.append(f"{what}: description is {len(description)} characters (1 to 100)")
    return problems


def _options_problems(options: list[Mapping[str, Any]], where: str, depth: int) -> list[str]:
    problems: list[str] = []
    if len(options) > 25:
        problems.append(f"{where}: {len(options)} options (limit 25)")
    kinds = {int(o.get("type", 3)) for o in options}
    if kinds & {1, 2} and kinds - {1, 2}:
        problems.append(f"{where}: subcommands mixed with plain options")
    optional_seen = False
    names: set[str] = set()
    for option in options:
        otype = int(option.get("type", 3))
        oname = option.get("name") or ""
        path = f"{where} {oname}"
        problems += _named_problems(option, path)
        if oname in names:
            problems.append(f"{path}: duplicate option name")
        names.add(oname)
        if otype == 2:
            if depth > 0:
                problems.append(f"{path}: a subcommand group can only sit at the top level")
            children = option.get("options") or []
            if any(int(c.get("type", 3)) != 1 for c in children):
                problems.append(f"{path}: a subcommand group may hold only subcommands")
            problems += _options_problems(children, path, depth + 1)
        elif otype == 1:
            children = option.get("options") or []
            if any(int(c.get("type", 3)) in (1, 2) for c in children):
                problems.append(f"{path}: a subcommand cannot hold subcommands")
            problems += _options_problems(children, path, depth + 1)
        else:
            if option.get("required"):
                if optional_seen:
                    problems.append(f"{path}: a required option comes after an optional one")
            else:
                optional_seen = True
            choices = option.get("choices") or []
            if len(choices) > 25:
                problems.append(f"{path}: {len(choices)} choices (limit 25)")
            for choice in choices:
                if not 1 <= len(choice.get("name") or "") <= 100:
                    problems.append(f"{path}: a choice name must be 1 to 100 characters")
                if isinstance(choice.get("value"), str) and len(choice["value"]) > 100:
                    problems.append(f"{path}: a string choice value is longer than 100 characters")
            if choices and option.get("autocomplete"):
                problems.append(f"{path}: choices and autocomplete cannot be combined")
    return problems


def _command_chars(item: Mapping[str, Any]) -> int:
    total = len(item.get("name") or "") + len(item.get("description") or "")
    for choice in item.get("choices") or []:
        total += len(str(choice.get("name") or "")) + len(str(choice.get("value") or ""))
    return total + sum(_command_chars(o) for o in item.get("options") or [])


# --------------------------------------------------------------------------------------------------
# Gateway sessions and connections.
# --------------------------------------------------------------------------------------------------


class GatewayConnection:
    """One websocket; frames go out under a lock so replay on RESUME cannot interleave."""

    def __init__(
        self, ws: web.WebSocketResponse, path: str, query: Mapping[str, str], compress: bool
    ) -> None:
        self.ws = ws
        self.path = path
        self.query = dict(query)
        self.lock = asyncio.Lock()
        self.session: GatewaySession | None = None
        self.live = True
        self.heartbeats = 0
        self._compressor = zlib.compressobj() if compress else None

    async def send_locked(self, frame: Mapping[str, Any]) -> None:
        """Send one frame; the caller holds ``lock``."""
        if not self.live or self.ws.closed:
            return
        text = json.dumps(frame, separators=(",", ":"))
        try:
            if self._compressor is not None:
                data = self._compressor.compress(text.encode()) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(data)
            else:
                await self.ws.send_str(text)
        except (ConnectionError, RuntimeError) as exc:
            log.debug("gateway send failed: %s", exc)
            self.live = False

    async def send(self, frame: Mapping[str, Any]) -> None:
        async with self.lock:
            await self.send_locked(frame)


@dataclass
class GatewaySession:
    id: str
    intents: int | None
    identified_at: float
    seq: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    conn: GatewayConnection | None = None
    resumes: int = 0
    ready_sent: bool = False

    def next_frame(self, event: str, data: Any) -> dict[str, Any]:
        self.seq += 1
        frame = {"op": 0, "t": event, "s": self.seq, "d": data}
        self.events.append(frame)
        del self.events[:-2000]
        return frame


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


class DiscordRuleViolation(AssertionError):
    pass


# --------------------------------------------------------------------------------------------------
# The fake itself.
# --------------------------------------------------------------------------------------------------


def _json_response(data: Any, status: int = 200) -> web.Response:
    # Exactly "application/json": discord.py parses a body as JSON only on that exact header value.
    return web.Response(
        status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"}
    )


def _error(status: int, code: int, message: str, errors: Any = None) -> web.Response:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return _json_response(body, status)


def _snowflake_param(request: web.Request, name: str) -> int | None:
    raw = request.match_info.get(name, "")
    return int(raw) if raw.isdigit() else None


class FakeDiscord:
    """Discord's REST API v10, gateway and CDN on 127.0.0.1, with the rules enforced.

    Use as ``async with FakeDiscord() as fake:``; point discord.py at ``api_url`` and
    ``gateway_url``. Every request is in ``requests``, every rule broken in ``violations``, every
    route the fake does not know in ``unknown_routes``.
    """

    def __init__(
        self,
        *,
        token: str = "fake-discord-bot-token.do-not-log",
        upload_limit: int = DEFAULT_UPLOAD_LIMIT,
        response_deadline: float = RESPONSE_DEADLINE_SECONDS,
        token_lifetime: float = TOKEN_LIFETIME_SECONDS,
        compress_gateway: bool = True,
        heartbeat_interval_ms: int = 41_250,
    ) -> None:
        self.token = token
        self.upload_limit = upload_limit
        self.response_deadline = response_deadline
        self.token_lifetime = token_lifetime
        self.compress_gateway = compress_gateway
        self.heartbeat_interval_ms = heartbeat_interval_ms

        self.clock = _Clock()
        self.ids = _Snowflakes(self.clock)
        self.violations: list[str] = []
        self.unknown_routes: list[str] = []
        self.requests: list[RequestRecord] = []
        self.commands: dict[int | None, dict[int, dict[str, Any]]] = {}  # guild id (None = global)
        self.command_syncs: list[tuple[int | None, list[str]]] = []
        self.messages: dict[int, FakeMessage] = {}
        self.attachments: dict[int, StoredAttachment] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self.dm_channels: dict[int, FakeChannel] = {}
        self.dm_closed: set[int] = set()  # user ids that refuse DMs from the bot
        self.denied_channels: set[int] = set()  # channels the bot lost access to (no view, no send)
        self.sessions: dict[str, GatewaySession] = {}
        self.current_session: GatewaySession | None = None
        self.connections: list[GatewayConnection] = []
        self.identify_count = 0
        self.resume_count = 0
        self.presence_updates: list[dict[str, Any]] = []
        self._by_token: dict[str, InteractionRecord] = {}
        self._command_ids: dict[tuple[int | None, int, str], int] = {}
        self._faults: list[_Fault] = []
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

        self.app_id = self.ids.next()
        self.bot_user = FakeUser(self.app_id, "Hailuo Test Bot", bot=True)
        self._build_guild()

    # ---- world ------------------------------------------------------------------------------

    def _build_guild(self) -> None:
        gid = self.ids.next()
        owner = FakeUser(self.ids.next(), "owner", "Guild Owner")
        self.guild = FakeGuild(id=gid, name="Fake Guild", owner_id=owner.id)
        g = self.guild
        g.roles[gid] = FakeRole(gid, "@everyone", Perm.EVERYONE_DEFAULT, 0)
        self.manager_role = self.add_role("Manager", Perm.MANAGE_GUILD | Perm.MANAGE_MESSAGES)
        self.moderator_role = self.add_role("Video Moderator", Perm.MANAGE_MESSAGES | Perm.MODERATE_MEMBERS)
        self.bot_role = self.add_role("Hailuo Test Bot", Perm.BOT_DEFAULT)
        self.bot_role.managed, self.bot_role.bot_id = True, self.app_id
        self.general = self.add_channel("general")
        self.videos = self.add_channel("videos")
        self.mod_log = self.add_channel("mod-log")
        self.owner = self._add_member(owner, [])
        self.admin = self.add_member("admin", roles=[self.manager_role])
        self.member = self.add_member("member")
        self.moderator = self.add_member("moderator", roles=[self.moderator_role])
        self.bot_member = self._add_member(self.bot_user, [self.bot_role.id])

    def add_role(self, name: str, permissions: int = 0) -> FakeRole:
        role = FakeRole(self.ids.next(), name, permissions, position=len(self.guild.roles))
        self.guild.roles[role.id] = role
        return role

    def add_channel(self, name: str) -> FakeChannel:
        channel = FakeChannel(self.ids.next(), name, 0, self.guild.id, position=len(self.guild.channels))
        self.guild.channels[channel.id] = channel
        return channel

    def add_member(self, name: str, *, roles: Iterable[FakeRole] = ()) -> FakeMember:
        """A new member (e.g. for a soak with many users); the bot learns of them from interactions."""
        return self._add_member(FakeUser(self.ids.next(), name, name.title()), [r.id for r in roles])

    def _add_member(self, user: FakeUser, role_ids: list[int]) -> FakeMember:
        member = FakeMember(user, role_ids, joined_at=_iso(self.clock.now() - 86400))
        self.guild.members[user.id] = member
        return member

    def member_named(self, name: str) -> FakeMember:
        for m in self.guild.members.values():
            if m.name == name:
                return m
        raise KeyError(f"no member named {name!r}")

    def channel(self, channel_id: int) -> FakeChannel | None:
        return self.guild.channels.get(channel_id) or self.dm_channels.get(channel_id)

    def user(self, user_id: int) -> FakeUser | None:
        member = self.guild.members.get(user_id)
        if member is not None:
            return member.user
        return next(
            (c.recipient for c in self.dm_channels.values() if c.recipient and c.recipient.id == user_id),
            None,
        )

    def dm_channel_for(self, user: FakeUser) -> FakeChannel:
        for channel in self.dm_channels.values():
            if channel.recipient is not None and channel.recipient.id == user.id:
                return channel
        channel = FakeChannel(self.ids.next(), "", 1, None, recipient=user)
        self.dm_channels[channel.id] = channel
        return channel

    async def set_premium_tier(self, tier: int) -> None:
        """Boost (or un-boost) the server: the upload limit follows, and the bot hears GUILD_UPDATE."""
        self.guild.premium_tier = tier
        self.upload_limit = PREMIUM_UPLOAD_LIMITS[tier]
        await self.dispatch("GUILD_UPDATE", self.guild.payload(with_members=False))
        self._bump()

    async def delete_message(self, message: FakeMessage) -> None:
        """Someone (a moderator, the author) deletes a message, e.g. the bot's status card."""
        message.deleted = True
        await self._announce("MESSAGE_DELETE", message)
        self._bump()

    def now(self) -> float:
        return self.clock.now()

    def advance_time(self, seconds: float) -> None:
        """Move the fake's clock forward (token expiry, response deadlines) without sleeping."""
        self.clock.offset += seconds
        self._bump()

    # ---- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """What ``discord.http.Route.BASE`` must be set to."""
        return f"{self.base_url}{API}"

    @property
    def gateway_url(self) -> str:
        """What ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` must be set to."""
        return f"ws://127.0.0.1:{self.port}/"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/resume/"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=512 * MIB)
        self._add_routes(app.router)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        log.info("fake Discord listening on %s", self.base_url)

    async def stop(self) -> None:
        for conn in list(self.connections):
            conn.live = False
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- waiting --------------------------------------------------------------------------

    def _bump(self) -> None:
        """Wake every waiter: something in the fake's state changed."""
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    notify = _bump

    async def wait_until(
        self,
        predicate: Callable[[], T],
        timeout: float,  # noqa: ASYNC109 - the scenario API promises a deadline per call
        what: str = "a condition",
        *,
        poll: float = 0.25,
    ) -> T:
        """Re-check ``predicate`` on every state change (and every ``poll`` s) until truthy or deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(remaining, poll))

    def _violate(self, text: str) -> None:
        log.warning("Discord rule violation: %s", text)
        self.violations.append(text)
        self._bump()

    def assert_no_violations(self) -> None:
        if self.violations:
            raise DiscordRuleViolation("\n".join(self.violations))

    def inject_fault(
        self, method: str, path_regex: str, status: int, *, times: int = 1, body: dict[str, Any] | None = None
    ) -> None:
        """Make the next ``times`` matching REST calls fail with ``status`` (429 carries retry_after)."""
        self._faults.append(_Fault(method.upper(), re.compile(path_regex), status, times, body))

    # ---- commands and messages, as tests look at them -------------------------------------

    def registered_commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        return list(self.commands.get(guild_id, {}).values())

    def find_command(self, name: str, *, type: int = 1, guild_id: int | None = -1) -> dict[str, Any] | None:
        """A registered command by name: the fake guild's own first, then global (like Discord's UI)."""
        scopes: list[int | None] = [self.guild.id, None] if guild_id == -1 else [guild_id]
        for scope in scopes:
            for cmd in self.commands.get(scope, {}).values():
                if cmd["name"] == name and int(cmd.get("type", 1)) == type:
                    return cmd
        return None

    def command_names(self) -> set[str]:
        return {c["name"] for scope in self.commands.values() for c in scope.values()}

    def messages_in(self, channel_id: int, *, include_ephemeral: bool = False) -> list[FakeMessage]:
        return sorted(
            (
                m
                for m in self.messages.values()
                if m.channel_id == channel_id and not m.deleted and (include_ephemeral or not m.ephemeral)
            ),
            key=lambda m: m.id,
        )

    def unanswered_interactions(self) -> list[InteractionRecord]:
        """Interactions past the 3-second deadline that never got an answer ("did not respond").

        Not a violation by itself (a bot killed mid-interaction cannot answer), so tests decide.
        """
        cutoff = self.now() - self.response_deadline
        return [r for r in self.interactions.values() if r.initial is None and r.created_at < cutoff]

    def messages_allowing_mass_mentions(self) -> list[FakeMessage]:
        return [m for m in self.messages.values() if m.author.id == self.app_id and m.mass_mention_allowed]

    def add_attachment(
        self,
        channel_id: int,
        filename: str,
        data: bytes,
        *,
        content_type: str | None = None,
        size: int | None = None,
        width: int | None = None,
        height: int | None = None,
        ephemeral: bool = False,
    ) -> StoredAttachment:
        """Store a file on the fake CDN (what a member attaches to a command or a message)."""
        attachment = StoredAttachment(
            id=self.ids.next(),
            channel_id=channel_id,
            filename=filename,
            data=data,
            content_type=content_type,
            size=-1 if size is None else size,
            width=width,
            height=height,
            ephemeral=ephemeral,
        )
        self.attachments[attachment.id] = attachment
        return attachment

    async def post_user_message(
        self,
        member: FakeMember,
        content: str = "",
        *,
        channel: FakeChannel | None = None,
        attachments: Iterable[StoredAttachment] = (),
    ) -> FakeMessage:
        """A member writes in a channel (e.g. a picture to run a message context menu on)."""
        channel = channel or self.general
        message = FakeMessage(
            id=self.ids.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=member.user,
            content=content,
            attachments=list(attachments),
            created_at=self.now(),
            via="user",
        )
        message.history.append(message.snapshot())
        self.messages[message.id] = message
        await self._announce("MESSAGE_CREATE", message)
        self._bump()
        return message

    # ---- interactions -------------------------------------------------------------------------

    def _interaction_payload(
        self,
        *,
        iid: int,
        token: str,
        type: int,
        data: dict[str, Any] | None,
        member: FakeMember | None,
        user: FakeUser,
        channel: FakeChannel,
        message: FakeMessage | None,
        attachment_size_limit: int,
        locale: str,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.app_id),
            "type": type,
            "token": token,
            "version": 1,
            "channel_id": str(channel.id),
            "channel": channel.payload(),
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": attachment_size_limit,
        }
        if data is not None:
            payload["data"] = data
        if channel.is_dm:
            payload["user"] = user.payload()
            payload["context"] = 1
            payload["authorizing_integration_owners"] = {"0": "0"}
            payload["app_permissions"] = str(Perm.BOT_DEFAULT)
        else:
            assert member is not None, "a guild interaction needs a member"
            perms = self.guild.permissions_of(member)
            payload["guild_id"] = str(self.guild.id)
            payload["guild"] = {"id": str(self.guild.id), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["member"] = member.payload(perms)
            payload["context"] = 0
            payload["authorizing_integration_owners"] = {"0": str(self.guild.id)}
            payload["app_permissions"] = str(self.guild.permissions_of(self.bot_member))
            payload["channel"]["permissions"] = str(perms)
        if message is not None:
            payload["message"] = message.payload(self.base_url, self._interaction_of(message))
        return payload

    async def create_interaction(
        self,
        *,
        type: int,
        data: dict[str, Any] | None,
        member: FakeMember | None = None,
        user: FakeUser | None = None,
        channel: FakeChannel | None = None,
        message: FakeMessage | None = None,
        label: str = "",
        attachment_size_limit: int | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Make an interaction as Discord would after a member's click, and send INTERACTION_CREATE.

        When no gateway connection is live the event waits in the session's buffer and is replayed
        on RESUME, like Discord does; the 3-second clock starts now either way.
        """
        channel = (
            channel or (self.channel(message.channel_id) if message is not None else None) or self.general
        )
        if user is None:
            user = member.user if member is not None else self.member.user
        if member is None and not channel.is_dm:
            member = self.guild.members[user.id]
        iid = self.ids.next()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(60)
        payload = self._interaction_payload(
            iid=iid,
            token=token,
            type=type,
            data=data,
            member=member,
            user=user,
            channel=channel,
            message=message,
            attachment_size_limit=self.upload_limit
            if attachment_size_limit is None
            else attachment_size_limit,
            locale=locale,
        )
        record = InteractionRecord(
            fake=self,
            id=iid,
            token=token,
            type=type,
            label=label or f"interaction type {type}",
            payload=payload,
            user=user,
            channel_id=channel.id,
            created_at=self.now(),
            source_message_id=None if message is None else message.id,
        )
        self.interactions[iid] = record
        self._by_token[token] = record
        await self.dispatch("INTERACTION_CREATE", payload)
        self._bump()
        return record

    def _interaction_of(self, message: FakeMessage) -> InteractionRecord | None:
        return None if message.interaction_id is None else self.interactions.get(message.interaction_id)

    # ---- gateway --------------------------------------------------------------------------

    @property
    def live_connection(self) -> GatewayConnection | None:
        session = self.current_session
        if session is None or session.conn is None or not session.conn.live:
            return None
        return session.conn

    async def dispatch(self, event: str, data: Any) -> None:
        """Send a DISPATCH to the current session; buffered for RESUME when it is disconnected."""
        session = self.current_session
        if session is None:
            log.debug("no gateway session; dropping %s", event)
            return
        frame = session.next_frame(event, data)
        conn = session.conn
        if conn is not None and conn.live:
            await conn.send(frame)

    async def force_reconnect(self) -> None:
        """Ask the client to reconnect and RESUME (opcode 7), as Discord does during rolling restarts."""
        conn = self.live_connection
        if conn is None:
            raise RuntimeError("no live gateway connection to ask for a reconnect")
        await conn.send({"op": 7, "d": None})

    async def drop_connection(self, code: int = 4000) -> None:
        """Close the live websocket from the server side (the client should RESUME)."""
        conn = self.live_connection
        if conn is None:
            raise RuntimeError("no live gateway connection to drop")
        conn.live = False
        if conn.session is not None and conn.session.conn is conn:
            conn.session.conn = None
        self._bump()
        await conn.ws.close(code=code)

    async def invalidate_session(self) -> None:
        """Opcode 9 with d=false: the client must IDENTIFY afresh."""
        conn = self.live_connection
        if conn is None:
            raise RuntimeError("no live gateway connection")
        if conn.session is not None:
            self.sessions.pop(conn.session.id, None)
        await conn.send({"op": 9, "d": False})

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        compress = self.compress_gateway and request.query.get("compress") == "zlib-stream"
        conn = GatewayConnection(ws, request.path, request.query, compress)
        self.connections.append(conn)
        await conn.send({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._gateway_frame(conn, json.loads(msg.data))
                elif msg.type is WSMsgType.BINARY:
                    await self._gateway_frame(conn, json.loads(msg.data.decode()))
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            conn.live = False
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            self._bump()
        return ws

    async def _gateway_frame(self, conn: GatewayConnection, frame: Mapping[str, Any]) -> None:
        op = frame.get("op")
        data = frame.get("d")
        if op == 1:
            conn.heartbeats += 1
            await conn.send({"op": 11})
        elif op == 2:
            await self._identify(conn, data or {})
        elif op == 6:
            await self._resume(conn, data or {})
        elif op == 3:
            self.presence_updates.append(data or {})
        elif op == 8:
            await self._request_members(conn, data or {})
        else:
            log.info("fake gateway ignores opcode %s", op)
        self._bump()

    async def _identify(self, conn: GatewayConnection, data: Mapping[str, Any]) -> None:
        if data.get("token") != self.token:
            self._violate("IDENTIFY with a wrong token")
            conn.live = False
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        async with conn.lock:
            session = GatewaySession(
                id=secrets.token_hex(16), intents=data.get("intents"), identified_at=self.now()
            )
            self.sessions[session.id] = session
            self.current_session = session
            session.conn, conn.session = conn, session
            self.identify_count += 1
            ready = {
                "v": 10,
                "user": {**self.bot_user.payload(), "verified": True, "mfa_enabled": False, "flags": 0},
                "guilds": [{"id": str(self.guild.id), "unavailable": True}],
                "session_id": session.id,
                "session_type": "normal",
                "resume_gateway_url": self.resume_gateway_url,
                "application": {"id": str(self.app_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "geo_ordered_rtc_regions": [],
                "guild_join_requests": [],
                "user_settings": {},
                "auth": {},
                "_trace": ["fake-discord"],
            }
            # Numbered before any await, so a concurrent dispatch cannot take a sequence number in between.
            frames = [
                session.next_frame("READY", ready),
                session.next_frame("GUILD_CREATE", self.guild.payload()),
            ]
            for frame in frames:
                await conn.send_locked(frame)
            session.ready_sent = True

    async def _resume(self, conn: GatewayConnection, data: Mapping[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or data.get("token") != self.token:
            await conn.send({"op": 9, "d": False})
            return
        async with conn.lock:
            seq = int(data.get("seq") or 0)
            missed = [f for f in session.events if f["s"] > seq]
            old = session.conn
            if old is not None and old is not conn:
                old.live = False
            session.conn, conn.session = conn, session
            self.current_session = session
            missed.append(session.next_frame("RESUMED", {"_trace": ["fake-discord"]}))
            for frame in missed:
                await conn.send_locked(frame)
            session.resumes += 1
            self.resume_count += 1
        if old is not None and old is not conn:
            with contextlib.suppress(Exception):
                await old.ws.close(code=4000)

    async def _request_members(self, conn: GatewayConnection, data: Mapping[str, Any]) -> None:
        wanted = {int(u) for u in data.get("user_ids") or []}
        query = (data.get("query") or "").lower()
        members = [
            m.payload()
            for m in self.guild.members.values()
            if (not wanted or m.id in wanted) and m.name.lower().startswith(query)
        ]
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk = {
            "guild_id": str(self.guild.id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    async def _announce(self, event: str, message: FakeMessage) -> None:
        """MESSAGE_CREATE/UPDATE/DELETE for what everyone can see (ephemeral messages stay private)."""
        if message.ephemeral:
            return
        if event == "MESSAGE_DELETE":
            data: dict[str, Any] = {"id": str(message.id), "channel_id": str(message.channel_id)}
            if message.guild_id is not None:
                data["guild_id"] = str(message.guild_id)
        else:
            data = message.payload(self.base_url, self._interaction_of(message))
        await self.dispatch(event, data)

    # ---- HTTP plumbing --------------------------------------------------------------------

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        route = self._route_name(request)
        is_api = request.path.startswith(API + "/")
        response: web.StreamResponse
        if request.match_info.http_exception is not None:
            text = f"{request.method} {request.path_qs}"
            log.warning("fake Discord has no route for %s", text)
            self.unknown_routes.append(text)
            self._bump()
            response = _error(404, 0, "404: Not Found")
        elif (
            is_api
            and self._needs_auth(request)
            and request.headers.get("Authorization") != f"Bot {self.token}"
        ):
            response = _error(401, 0, "401: Unauthorized")
        elif (fault := self._take_fault(request)) is not None:
            response = fault
        else:
            response = await handler(request)
        if is_api and not isinstance(response, web.WebSocketResponse):
            self._rate_limit_headers(response, route)
        self.requests.append(RequestRecord(request.method, request.path, response.status, self.now(), route))
        return response

    @staticmethod
    def _route_name(request: web.Request) -> str:
        resource = request.match_info.route.resource
        return f"{request.method} {resource.canonical if resource is not None else request.path}"

    @staticmethod
    def _needs_auth(request: web.Request) -> bool:
        # Interaction tokens authorise these on their own, as on the real API.
        return not request.path.startswith((f"{API}/webhooks/", f"{API}/interactions/", f"{API}/gateway"))

    def _take_fault(self, request: web.Request) -> web.Response | None:
        for fault in self._faults:
            if (
                fault.times > 0
                and fault.method in (request.method, "*")
                and fault.pattern.search(request.path)
            ):
                fault.times -= 1
                if fault.status == 429:
                    body = fault.body or {
                        "message": "You are being rate limited.",
                        "retry_after": 0.05,
                        "global": False,
                    }
                    response = _json_response(body, 429)
                    response.headers["Via"] = "1.1 google"
                    response.headers["Retry-After"] = "1"
                    return response
                return _json_response(fault.body or {"message": "injected fault", "code": 0}, fault.status)
        return None

    def _rate_limit_headers(self, response: web.StreamResponse, route: str) -> None:
        """Generous limits, so discord.py's limiter has real headers to read but never waits."""
        bucket = hashlib.sha1(route.encode()).hexdigest()[:16]
        reset = self.clock.now() - self.clock.offset + 1.0
        response.headers.update(
            {
                "X-RateLimit-Limit": "50",
                "X-RateLimit-Remaining": "49",
                "X-RateLimit-Reset": f"{reset:.3f}",
                "X-RateLimit-Reset-After": "1.000",
                "X-RateLimit-Bucket": bucket,
            }
        )

    def _add_routes(self, r: web.UrlDispatcher) -> None:
        r.add_get("/", self._gateway)
        r.add_get("/resume/", self._gateway)
        r.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._cdn)
        r.add_get(f"{API}/gateway", self._get_gateway)
        r.add_get(f"{API}/gateway/bot", self._get_gateway_bot)
        r.add_get(f"{API}/users/@me", self._get_me)
        r.add_post(f"{API}/users/@me/channels", self._create_dm)
        r.add_get(f"{API}/users/{{user_id}}", self._get_user)
        r.add_get(f"{API}/oauth2/applications/@me", self._get_application)
        r.add_get(f"{API}/applications/@me", self._get_application)
        for prefix in (
            f"{API}/applications/{{app_id}}",
            f"{API}/applications/{{app_id}}/guilds/{{guild_id}}",
        ):
            r.add_get(f"{prefix}/commands", self._get_commands)
            r.add_put(f"{prefix}/commands", self._put_commands)
            r.add_post(f"{prefix}/commands", self._post_command)
            r.add_get(f"{prefix}/commands/{{command_id}}", self._get_command)
            r.add_patch(f"{prefix}/commands/{{command_id}}", self._patch_command)
            r.add_delete(f"{prefix}/commands/{{command_id}}", self._delete_command)
        r.add_get(f"{API}/guilds/{{guild_id}}", self._get_guild)
        r.add_get(f"{API}/guilds/{{guild_id}}/channels", self._get_guild_channels)
        r.add_get(f"{API}/guilds/{{guild_id}}/roles", self._get_guild_roles)
        r.add_get(f"{API}/guilds/{{guild_id}}/members", self._get_guild_members)
        r.add_get(f"{API}/guilds/{{guild_id}}/members/{{user_id}}", self._get_guild_member)
        r.add_get(f"{API}/channels/{{channel_id}}", self._get_channel)
        r.add_post(f"{API}/channels/{{channel_id}}/typing", self._typing)
        r.add_get(f"{API}/channels/{{channel_id}}/messages", self._get_channel_messages)
        r.add_post(f"{API}/channels/{{channel_id}}/messages", self._post_channel_message)
        r.add_get(f"{API}/channels/{{channel_id}}/messages/{{message_id}}", self._get_channel_message)
        r.add_patch(f"{API}/channels/{{channel_id}}/messages/{{message_id}}", self._patch_channel_message)
        r.add_delete(f"{API}/channels/{{channel_id}}/messages/{{message_id}}", self._delete_channel_message)
        r.add_post(f"{API}/interactions/{{interaction_id}}/{{token}}/callback", self._interaction_callback)
        r.add_post(f"{API}/webhooks/{{app_id}}/{{token}}", self._webhook_post)
        r.add_get(f"{API}/webhooks/{{app_id}}/{{token}}/messages/{{message_id}}", self._webhook_get)
        r.add_patch(f"{API}/webhooks/{{app_id}}/{{token}}/messages/{{message_id}}", self._webhook_patch)
        r.add_delete(f"{API}/webhooks/{{app_id}}/{{token}}/messages/{{message_id}}", self._webhook_delete)

    # ---- REST: identity, gateway, guild ---------------------------------------------------

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return _json_response({"url": self.gateway_url.rstrip("/")})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        return _json_response(
            {
                "url": self.gateway_url.rstrip("/"),
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _get_me(self, request: web.Request) -> web.Response:
        return _json_response({**self.bot_user.payload(), "verified": True, "mfa_enabled": False, "flags": 0})

    async def _get_user(self, request: web.Request) -> web.Response:
        uid = _snowflake_param(request, "user_id")
        user = None if uid is None else (self.bot_user if uid == self.app_id else self.user(uid))
        return _error(404, 10013, "Unknown User") if user is None else _json_response(user.payload())

    async def _get_application(self, request: web.Request) -> web.Response:
        owner = self.guild.members[self.guild.owner_id].user
        return _json_response(
            {
                "id": str(self.app_id),
                "name": self.bot_user.username,
                "icon": None,
                "description": "A fake application for end-to-end tests",
                "summary": "",
                "type": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": owner.payload(),
                "team": None,
                "flags": 0,
                "bot": self.bot_user.payload(),
                "interactions_endpoint_url": None,
                "redirect_uris": [],
                "tags": [],
                "approximate_guild_count": 1,
                "integration_types_config": {"0": {}},
            }
        )

    async def _create_dm(self, request: web.Request) -> web.Response:
        body = await request.json()
        uid = int(body.get("recipient_id") or 0)
        user = self.user(uid)
        if user is None:
            return _error(400, 50035, "Invalid Form Body", {"recipient_id": "unknown user"})
        return _json_response(self.dm_channel_for(user).payload())

    def _guild_or_404(self, request: web.Request) -> FakeGuild | None:
        return self.guild if _snowflake_param(request, "guild_id") == self.guild.id else None

    async def _get_guild(self, request: web.Request) -> web.Response:
        guild = self._guild_or_404(request)
        if guild is None:
            return _error(404, 10004, "Unknown Guild")
        return _json_response(
            {**guild.payload(with_members=False), "approximate_member_count": len(guild.members)}
        )

    async def _get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self._guild_or_404(request)
        if guild is None:
            return _error(404, 10004, "Unknown Guild")
        return _json_response([c.payload() for c in guild.channels.values()])

    async def _get_guild_roles(self, request: web.Request) -> web.Response:
        guild = self._guild_or_404(request)
        if guild is None:
            return _error(404, 10004, "Unknown Guild")
        return _json_response([r.payload() for r in guild.roles.values()])

    async def _get_guild_members(self, request: web.Request) -> web.Response:
        guild = self._guild_or_404(request)
        if guild is None:
            return _error(404, 10004, "Unknown Guild")
        after = int(request.query.get("after", "0"))
        limit = min(int(request.query.get("limit", "1")), 1000)
        members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)[:limit]
        return _json_response([m.payload() for m in members])

    async def _get_guild_member(self, request: web.Request) -> web.Response:
        guild = self._guild_or_404(request)
        if guild is None:
            return _error(404, 10004, "Unknown Guild")
        member = guild.members.get(_snowflake_param(request, "user_id") or 0)
        return _error(404, 10007, "Unknown Member") if member is None else _json_response(member.payload())

    async def _get_channel(self, request: web.Request) -> web.Response:
        channel = self.channel(_snowflake_param(request, "channel_id") or 0)
        return _error(404, 10003, "Unknown Channel") if channel is None else _json_response(channel.payload())

    async def _typing(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    # ---- REST: application commands -------------------------------------------------------

    def _command_scope(self, request: web.Request) -> tuple[int | None, web.Response | None]:
        if _snowflake_param(request, "app_id") != self.app_id:
            return None, _error(404, 10002, "Unknown Application")
        if "guild_id" not in request.match_info:
            return None, None
        gid = _snowflake_param(request, "guild_id")
        if gid != self.guild.id:
            return None, _error(403, 50001, "Missing Access")
        return gid, None

    def _store_command(self, scope: int | None, body: Mapping[str, Any]) -> dict[str, Any]:
        ctype = int(body.get("type", 1))
        key = (scope, ctype, str(body.get("name")))
        cid = self._command_ids.setdefault(key, self.ids.next())
        cmd: dict[str, Any] = {
            "id": str(cid),
            "application_id": str(self.app_id),
            "version": str(self.ids.next()),
            "type": ctype,
            "name": body.get("name"),
            "description": body.get("description", ""),
            "options": body.get("options") or [],
            "default_member_permissions": body.get("default_member_permissions"),
            "dm_permission": body.get("dm_permission", True),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types") or [0],
            "nsfw": bool(body.get("nsfw", False)),
            "name_localizations": body.get("name_localizations"),
            "description_localizations": body.get("description_localizations"),
        }
        if scope is not None:
            cmd["guild_id"] = str(scope)
        self.commands.setdefault(scope, {})[cid] = cmd
        return cmd

    async def _get_commands(self, request: web.Request) -> web.Response:
        scope, err = self._command_scope(request)
        return err or _json_response(self.registered_commands(scope))

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope, err = self._command_scope(request)
        if err is not None:
            return err
        body = await request.json()
        if not isinstance(body, list):
            return _error(400, 50035, "Invalid Form Body", {"_errors": "expected a list of commands"})
        problems = command_problems(body)
        if problems:
            for p in problems:
                self._violate(f"command sync refused: {p}")
            return _error(400, 50035, "Invalid Form Body", {"_errors": problems})
        self.commands[scope] = {}
        stored = [self._store_command(scope, c) for c in body]
        self.command_syncs.append((scope, [c["name"] for c in stored]))
        self._bump()
        return _json_response(stored)

    async def _post_command(self, request: web.Request) -> web.Response:
        scope, err = self._command_scope(request)
        if err is not None:
            return err
        body = await request.json()
        problems = command_problems([body])
        if problems:
            for p in problems:
                self._violate(f"command create refused: {p}")
            return _error(400, 50035, "Invalid Form Body", {"_errors": problems})
        existing = self.find_command(body.get("name", ""), type=int(body.get("type", 1)), guild_id=scope)
        if existing is not None:
            del self.commands[scope][int(existing["id"])]
        cmd = self._store_command(scope, body)
        self._bump()
        return _json_response(cmd, 200 if existing else 201)

    def _command_or_404(
        self, request: web.Request
    ) -> tuple[int | None, dict[str, Any] | None, web.Response | None]:
        scope, err = self._command_scope(request)
        if err is not None:
            return scope, None, err
        cmd = self.commands.get(scope, {}).get(_snowflake_param(request, "command_id") or 0)
        if cmd is None:
            return scope, None, _error(404, 10063, "Unknown application command")
        return scope, cmd, None

    async def _get_command(self, request: web.Request) -> web.Response:
        _, cmd, err = self._command_or_404(request)
        return err or _json_response(cmd)

    async def _patch_command(self, request: web.Request) -> web.Response:
        _, cmd, err = self._command_or_404(request)
        if err is not None or cmd is None:
            return err or _error(404, 10063, "Unknown application command")
        merged = {**cmd, **(await request.json())}
        problems = command_problems([merged])
        if problems:
            return _error(400, 50035, "Invalid Form Body", {"_errors": problems})
        cmd.update(merged)
        self._bump()
        return _json_response(cmd)

    async def _delete_command(self, request: web.Request) -> web.Response:
        scope, cmd, err = self._command_or_404(request)
        if err is not None or cmd is None:
            return err or _error(404, 10063, "Unknown application command")
        del self.commands[scope][int(cmd["id"])]
        self._bump()
        return web.Response(status=204)

    # ---- REST: message bodies -------------------------------------------------------------

    async def _read_body(self, request: web.Request) -> tuple[dict[str, Any], dict[int, tuple[str, bytes]]]:
        """JSON or multipart (``payload_json`` + ``files[n]``), as discord.py sends them."""
        if request.content_type.startswith("multipart/"):
            payload: dict[str, Any] = {}
            files: dict[int, tuple[str, bytes]] = {}
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                name = getattr(part, "name", None) or ""
                if name == "payload_json":
                    payload = json.loads(await part.text())  # type: ignore[union-attr]
                    continue
                match = re.fullmatch(r"files\[(\d+)\]", name)
                index = int(match.group(1)) if match else len(files)
                data = bytes(await part.read(decode=False))  # type: ignore[union-attr]
                files[index] = (getattr(part, "filename", None) or f"file{index}", data)
            return payload, files
        if not request.body_exists:
            return {}, {}
        body = await request.json()
        return (body if isinstance(body, dict) else {}), {}

    def _check_upload(
        self, where: str, files: Mapping[int, tuple[str, bytes]], limit: int
    ) -> web.Response | None:
        total = sum(len(data) for _, data in files.values())
        if total > limit:
            self._violate(f"{where}: uploaded {total} bytes, over the {limit}-byte limit")
            return _error(413, 40005, "Request entity too large")
        return None

    def _check_message(
        self, where: str, payload: Mapping[str, Any], *, creating: bool, file_count: int
    ) -> web.Response | None:
        problems = message_problems(payload, creating=creating, file_count=file_count)
        if not problems:
            return None
        for p in problems:
            self._violate(f"{where}: {p}")
        if any("empty message" in p for p in problems):
            return _error(400, 50006, "Cannot send an empty message")
        return _error(400, 50035, "Invalid Form Body", {"_errors": problems})

    def _new_attachments(
        self,
        payload: Mapping[str, Any],
        files: Mapping[int, tuple[str, bytes]],
        channel_id: int,
        existing: list[StoredAttachment],
    ) -> list[StoredAttachment]:
        """Apply v10 semantics: ``attachments`` lists everything kept plus every new file."""
        by_id = {str(a.id): a for a in existing}
        used: set[int] = set()
        result: list[StoredAttachment] = []
        listed = payload.get("attachments")
        for item in listed or []:
            key = str(item.get("id"))
            if key in by_id:
                result.append(by_id[key])
            elif key.isdigit() and int(key) in files:
                used.add(int(key))
                filename = item.get("filename") or files[int(key)][0]
                att = self.add_attachment(channel_id, filename, files[int(key)][1])
                att.description = item.get("description")
                result.append(att)
        if listed is None:
            result = list(existing)
        for index in sorted(set(files) - used):
            result.append(self.add_attachment(channel_id, files[index][0], files[index][1]))
        return result

    def _create_message(
        self,
        channel: FakeChannel,
        payload: Mapping[str, Any],
        files: Mapping[int, tuple[str, bytes]],
        *,
        via: str,
        interaction: InteractionRecord | None = None,
        flags: int | None = None,
        msg_type: int = 0,
    ) -> FakeMessage:
        message = FakeMessage(
            id=self.ids.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=self.bot_user,
            content=payload.get("content") or "",
            embeds=list(payload.get("embeds") or []),
            components=list(payload.get("components") or []),
            flags=int(payload.get("flags") or 0) if flags is None else flags,
            allowed_mentions=payload.get("allowed_mentions"),
            type=msg_type,
            webhook_id=None if interaction is None else self.app_id,
            application_id=None if interaction is None else self.app_id,
            interaction_id=None if interaction is None else interaction.id,
            message_reference=payload.get("message_reference"),
            created_at=self.now(),
            via=via,
        )
        message.attachments = self._new_attachments(payload, files, channel.id, [])
        message.history.append(message.snapshot())
        self.messages[message.id] = message
        return message

    def _edit_message(
        self, message: FakeMessage, payload: Mapping[str, Any], files: Mapping[int, tuple[str, bytes]]
    ) -> None:
        if "content" in payload:
            message.content = payload.get("content") or ""
        if "embeds" in payload:
            message.embeds = list(payload.get("embeds") or [])
        if "components" in payload:
            message.components = list(payload.get("components") or [])
        if "allowed_mentions" in payload:
            message.allowed_mentions = payload.get("allowed_mentions")
        if "flags" in payload and payload["flags"] is not None:
            keep = message.flags & (MessageFlag.EPHEMERAL | MessageFlag.COMPONENTS_V2)
            message.flags = keep | (
                int(payload["flags"]) & (MessageFlag.SUPPRESS_EMBEDS | MessageFlag.COMPONENTS_V2)
            )
        if "attachments" in payload or files:
            message.attachments = self._new_attachments(
                payload, files, message.channel_id, message.attachments
            )
        message.flags &= ~MessageFlag.LOADING
        message.edited_at = self.now()
        message.history.append(message.snapshot())

    @staticmethod
    def _would_be_empty(
        message: FakeMessage, payload: Mapping[str, Any], files: Mapping[int, tuple[str, bytes]]
    ) -> bool:
        content = payload.get("content", message.content)
        embeds = payload.get("embeds", message.embeds)
        components = payload.get("components", message.components)
        attachments = payload.get("attachments", message.attachments)
        return not (content or embeds or components or attachments or files)

    def message_payload(self, message: FakeMessage) -> dict[str, Any]:
        return message.payload(self.base_url, self._interaction_of(message))

    # ---- REST: channel messages -----------------------------------------------------------

    def _check_reference(self, channel: FakeChannel, payload: Mapping[str, Any]) -> web.Response | None:
        """A reply to a deleted (or foreign) message fails unless ``fail_if_not_exists`` is false."""
        reference = payload.get("message_reference")
        if not reference or reference.get("fail_if_not_exists", True) is False:
            return None
        target = self.messages.get(int(reference.get("message_id") or 0))
        if target is None or target.deleted or target.ephemeral or target.channel_id != channel.id:
            return _error(
                400,
                50035,
                "Invalid Form Body",
                {"message_reference": {"_errors": [{"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE"}]}},
            )
        return None

    def _channel_or_404(self, request: web.Request) -> FakeChannel | None:
        return self.channel(_snowflake_param(request, "channel_id") or 0)

    def _visible_message(self, request: web.Request, channel: FakeChannel) -> FakeMessage | None:
        message = self.messages.get(_snowflake_param(request, "message_id") or 0)
        if message is None or message.deleted or message.ephemeral or message.channel_id != channel.id:
            return None
        return message

    async def _post_channel_message(self, request: web.Request) -> web.Response:
        channel = self._channel_or_404(request)
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        payload, files = await self._read_body(request)
        where = f"POST /channels/{channel.id}/messages"
        if channel.is_dm and channel.recipient is not None and channel.recipient.id in self.dm_closed:
            return _error(403, 50007, "Cannot send messages to this user")
        if channel.id in self.denied_channels:
            return _error(403, 50001, "Missing Access")
        error = (
            self._check_upload(where, files, self.upload_limit)
            or self._check_message(where, payload, creating=True, file_count=len(files))
            or self._check_reference(channel, payload)
        )
        if error is not None:
            return error
        message = self._create_message(
            channel,
            payload,
            files,
            via="channel",
            flags=int(payload.get("flags") or 0) & ~MessageFlag.EPHEMERAL,
            msg_type=19 if payload.get("message_reference") else 0,
        )
        await self._announce("MESSAGE_CREATE", message)
        self._bump()
        return _json_response(self.message_payload(message))

    async def _get_channel_messages(self, request: web.Request) -> web.Response:
        channel = self._channel_or_404(request)
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        limit = max(1, min(int(request.query.get("limit", "50")), 100))
        found = self.messages_in(channel.id)
        if "before" in request.query:
            found = [m for m in found if m.id < int(request.query["before"])]
            found = found[-limit:]
        elif "after" in request.query:
            found = [m for m in found if m.id > int(request.query["after"])][:limit]
        elif "around" in request.query:
            around = int(request.query["around"])
            found = sorted(found, key=lambda m: abs(m.id - around))[:limit]
        else:
            found = found[-limit:]
        found.sort(key=lambda m: m.id, reverse=True)
        return _json_response([self.message_payload(m) for m in found])

    async def _get_channel_message(self, request: web.Request) -> web.Response:
        channel = self._channel_or_404(request)
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        message = self._visible_message(request, channel)
        return (
            _error(404, 10008, "Unknown Message")
            if message is None
            else _json_response(self.message_payload(message))
        )

    async def _patch_channel_message(self, request: web.Request) -> web.Response:
        channel = self._channel_or_404(request)
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        payload, files = await self._read_body(request)
        message = self._visible_message(request, channel)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        if message.author.id != self.app_id:
            return _error(403, 50005, "Cannot edit a message authored by another user")
        if channel.id in self.denied_channels:
            return _error(403, 50001, "Missing Access")
        where = f"PATCH /channels/{channel.id}/messages/{message.id}"
        error = self._check_upload(where, files, self.upload_limit) or self._check_message(
            where, payload, creating=False, file_count=len(files)
        )
        if error is not None:
            return error
        self._edit_message(message, payload, files)
        await self._announce("MESSAGE_UPDATE", message)
        self._bump()
        return _json_response(self.message_payload(message))

    async def _delete_channel_message(self, request: web.Request) -> web.Response:
        channel = self._channel_or_404(request)
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        message = self._visible_message(request, channel)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        if message.author.id != self.app_id and not channel.is_dm:
            bot_perms = self.guild.permissions_of(self.bot_member)
            if not bot_perms & Perm.MANAGE_MESSAGES:
                return _error(403, 50013, "Missing Permissions")
        message.deleted = True
        await self._announce("MESSAGE_DELETE", message)
        self._bump()
        return web.Response(status=204)

    async def _cdn(self, request: web.Request) -> web.StreamResponse:
        attachment = self.attachments.get(_snowflake_param(request, "attachment_id") or 0)
        if attachment is None or str(attachment.channel_id) != request.match_info["channel_id"]:
            return web.Response(status=404, text="Not Found")
        if request.match_info["filename"] != attachment.filename:
            return web.Response(status=404, text="Not Found")
        attachment.downloads += 1
        self._bump()
        return web.Response(
            body=attachment.data,
            headers={"Content-Type": attachment.content_type or "application/octet-stream"},
        )

    # ---- REST: interaction callbacks ------------------------------------------------------

    _ALLOWED_CALLBACKS: ClassVar[dict[int, set[int]]] = {
        InteractionType.APPLICATION_COMMAND: {4, 5, 9},
        InteractionType.MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
        InteractionType.MODAL_SUBMIT: {4, 5},
        InteractionType.AUTOCOMPLETE: {8},
    }

    async def _interaction_callback(self, request: web.Request) -> web.Response:
        payload, files = await self._read_body(request)
        record = self.interactions.get(_snowflake_param(request, "interaction_id") or 0)
        if record is None or record.token != request.match_info["token"]:
            return _error(404, 10062, "Unknown interaction")
        now = self.now()
        delay = now - record.created_at
        ctype = payload.get("type")
        data = payload.get("data") or {}
        attempt = CallbackAttempt(ctype, data, now, delay, 0)
        record.callbacks.append(attempt)
        where = f"{record.label}: callback type {ctype}"

        def answer(response: web.Response) -> web.Response:
            attempt.status = response.status
            self._bump()
            return response

        if record.initial is not None:
            self._violate(f"{record.label}: answered twice (type {record.initial.type}, then type {ctype})")
            return answer(_error(400, 40060, "Interaction has already been acknowledged."))
        if delay > self.response_deadline:
            self._violate(
                f"{record.label}: first answer after {delay:.2f}s "
                f"(Discord allows {self.response_deadline:g}s)"
            )
            return answer(_error(404, 10062, "Unknown interaction"))
        allowed = set(self._ALLOWED_CALLBACKS.get(record.type, set()))
        if record.type == InteractionType.MODAL_SUBMIT and record.source_message_id is not None:
            allowed |= {6, 7}
        if ctype not in allowed:
            self._violate(f"{where} is not valid for interaction type {record.type}")
            return answer(_error(400, 50035, "Invalid Form Body", {"type": "invalid callback type"}))
        limit = int(record.payload["attachment_size_limit"])
        error = self._check_upload(where, files, limit)
        if error is None and ctype in (4, 7):
            error = self._check_message(where, data, creating=ctype == 4, file_count=len(files))
        if error is None and ctype == 9:
            problems = modal_problems(data)
            for p in problems:
                self._violate(f"{where}: {p}")
            error = _error(400, 50035, "Invalid Form Body", {"_errors": problems}) if problems else None
        if error is not None:
            return answer(error)

        channel = self.channel(record.channel_id) or self.general
        resource: dict[str, Any] = {"type": ctype}
        if ctype == CallbackType.CHANNEL_MESSAGE:
            msg_type = 20 if record.type == InteractionType.APPLICATION_COMMAND else 19
            if record.type == InteractionType.APPLICATION_COMMAND and int(record.data.get("type", 1)) != 1:
                msg_type = 23
            message = self._create_message(
                channel, data, files, via="interaction", interaction=record, msg_type=msg_type
            )
            record.original_message_id = message.id
            resource["message"] = self.message_payload(message)
            await self._announce("MESSAGE_CREATE", message)
        elif ctype == CallbackType.DEFERRED_CHANNEL_MESSAGE:
            flags = MessageFlag.LOADING | (int(data.get("flags") or 0) & MessageFlag.EPHEMERAL)
            message = self._create_message(
                channel, {}, {}, via="interaction", interaction=record, flags=flags, msg_type=20
            )
            record.original_message_id = message.id
            resource["message"] = self.message_payload(message)
            await self._announce("MESSAGE_CREATE", message)
        elif ctype in (CallbackType.DEFERRED_UPDATE_MESSAGE, CallbackType.UPDATE_MESSAGE):
            record.original_message_id = record.source_message_id
            source = self.messages.get(record.source_message_id or 0)
            if ctype == CallbackType.UPDATE_MESSAGE and source is not None:
                self._edit_message(source, data, files)
                resource["message"] = self.message_payload(source)
                await self._announce("MESSAGE_UPDATE", source)
        elif ctype == CallbackType.MODAL:
            record.modal = data
        record.initial = attempt
        if request.query.get("with_response") not in ("1", "true", "True"):
            return answer(web.Response(status=204))
        original = record.original
        interaction_info: dict[str, Any] = {"id": str(record.id), "type": record.type}
        if original is not None:
            interaction_info.update(
                response_message_id=str(original.id),
                response_message_loading=original.loading,
                response_message_ephemeral=original.ephemeral,
            )
        return answer(_json_response({"interaction": interaction_info, "resource": resource}))

    # ---- REST: webhook follow-ups and @original -------------------------------------------

    def _webhook_record(
        self, request: web.Request, action: str
    ) -> tuple[InteractionRecord | None, web.Response | None]:
        record = self._by_token.get(request.match_info["token"])
        if record is None or _snowflake_param(request, "app_id") != self.app_id:
            return None, _error(404, 10015, "Unknown Webhook")
        age = self.now() - record.created_at
        if age > self.token_lifetime:
            self._violate(
                f"{record.label}: {action} {age / 60:.1f} minutes after the interaction (token lasts 15)"
            )
            return None, _error(401, 50027, "Invalid Webhook Token")
        if record.initial is None:
            self._violate(f"{record.label}: {action} before the interaction was answered")
            return None, _error(404, 10015, "Unknown Webhook")
        return record, None

    def _webhook_message(self, record: InteractionRecord, request: web.Request) -> FakeMessage | None:
        raw = request.match_info["message_id"]
        mid = record.original_message_id if raw == "@original" else (int(raw) if raw.isdigit() else None)
        if mid is None or (mid != record.original_message_id and mid not in record.followup_ids):
            return None
        message = self.messages.get(mid)
        return None if message is None or message.deleted else message

    async def _webhook_post(self, request: web.Request) -> web.Response:
        payload, files = await self._read_body(request)
        record, err = self._webhook_record(request, "follow-up")
        if record is None:
            return err or _error(404, 10015, "Unknown Webhook")
        where = f"{record.label}: follow-up"
        limit = int(record.payload["attachment_size_limit"])
        error = self._check_upload(where, files, limit) or self._check_message(
            where, payload, creating=True, file_count=len(files)
        )
        if error is not None:
            return error
        original = record.original
        if (
            record.initial is not None
            and record.initial.type == CallbackType.DEFERRED_CHANNEL_MESSAGE
            and original is not None
            and original.loading
            and not record._loading_replaced
        ):
            # Discord's rule: the first follow-up after a "thinking" defer *becomes* that message,
            # and the defer's ephemeral choice wins over the follow-up's flags.
            record._loading_replaced = True
            self._edit_message(original, {k: v for k, v in payload.items() if k != "flags"}, files)
            message = original
            await self._announce("MESSAGE_UPDATE", message)
        else:
            channel = self.channel(record.channel_id) or self.general
            flags = int(payload.get("flags") or 0)
            message = self._create_message(
                channel, payload, files, via="followup", interaction=record, flags=flags
            )
            record.followup_ids.append(message.id)
            await self._announce("MESSAGE_CREATE", message)
        self._bump()
        if request.query.get("wait") in ("1", "true", "True"):
            return _json_response(self.message_payload(message))
        return web.Response(status=204)

    async def _webhook_get(self, request: web.Request) -> web.Response:
        record, err = self._webhook_record(request, "fetch of a response message")
        if record is None:
            return err or _error(404, 10015, "Unknown Webhook")
        message = self._webhook_message(record, request)
        return (
            _error(404, 10008, "Unknown Message")
            if message is None
            else _json_response(self.message_payload(message))
        )

    async def _webhook_patch(self, request: web.Request) -> web.Response:
        payload, files = await self._read_body(request)
        record, err = self._webhook_record(request, "edit of a response message")
        if record is None:
            return err or _error(404, 10015, "Unknown Webhook")
        message = self._webhook_message(record, request)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        where = f"{record.label}: edit of message {request.match_info['message_id']}"
        limit = int(record.payload["attachment_size_limit"])
        error = self._check_upload(where, files, limit) or self._check_message(
            where, payload, creating=False, file_count=len(files)
        )
        if error is None and self._would_be_empty(message, payload, files):
            self._violate(f"{where}: would leave an empty message")
            error = _error(400, 50006, "Cannot send an empty message")
        if error is not None:
            return error
        self._edit_message(message, payload, files)
        await self._announce("MESSAGE_UPDATE", message)
        self._bump()
        return _json_response(self.message_payload(message))

    async def _webhook_delete(self, request: web.Request) -> web.Response:
        record, err = self._webhook_record(request, "delete of a response message")
        if record is None:
            return err or _error(404, 10015, "Unknown Webhook")
        message = self._webhook_message(record, request)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        message.deleted = True
        await self._announce("MESSAGE_DELETE", message)
        self._bump()
        return web.Response(status=204)
