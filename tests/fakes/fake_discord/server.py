"""The :class:`FakeDiscord` server: the world it starts with, its life cycle, what tests ask of it,
and the interactions it makes; the gateway and REST halves are mixins."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from aiohttp import web

from tests.fakes.fake_discord.gateway import GatewayConnection, GatewayMixin, GatewaySession
from tests.fakes.fake_discord.models import (
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    InteractionRecord,
    RequestRecord,
    StoredAttachment,
    _Clock,
    _Fault,
    _iso,
    _Snowflakes,
)
from tests.fakes.fake_discord.rest import RestMixin
from tests.fakes.fake_discord.rules import (
    API,
    DEFAULT_UPLOAD_LIMIT,
    MIB,
    PREMIUM_UPLOAD_LIMITS,
    RESPONSE_DEADLINE_SECONDS,
    TOKEN_LIFETIME_SECONDS,
    DiscordRuleViolation,
    Perm,
)

log = logging.getLogger("fake_discord")
T = TypeVar("T")


class FakeDiscord(GatewayMixin, RestMixin):
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
