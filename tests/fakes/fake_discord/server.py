"""The :class:`FakeDiscord` server: the world it starts with, its life cycle, what tests ask of it,
and the interactions it makes; the gateway and REST halves are mixins."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
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
    GuildSetup,
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
    MAX_GUILDS_PER_SHARD,
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
        guild_names: Sequence[str] = ("Fake Guild",),
        spread_over_shards: int | None = None,
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
        self.shard_identifies: list[tuple[int, int] | None] = []  # each IDENTIFY's shard, in order
        self.interaction_shards: dict[int, tuple[int, int] | None] = {}  # interaction → shard it went to
        self.max_guilds_per_shard = MAX_GUILDS_PER_SHARD
        # /gateway/bot's ``shards``; None: Discord's rough one shard per thousand guilds.
        self.recommended_shards: int | None = None
        self._activity = 0
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
        if not guild_names:
            raise ValueError("the fake needs at least one guild")
        self.guilds: dict[int, FakeGuild] = {}  # the guilds the bot is in
        self.left_guilds: dict[int, FakeGuild] = {}  # guilds the bot left (Leave Guild)
        self.setups: list[GuildSetup] = []
        # Guild i lands on shard i % n (Discord's formula on its id), so a sharded test has some on each.
        self.spread_over_shards = spread_over_shards
        for name in guild_names:
            self._build_guild(name)
        # The first guild's layout under short names, as most tests use one guild.
        first = self.setups[0]
        self.guild = first.guild
        self.manager_role, self.moderator_role, self.bot_role = (
            first.manager_role,
            first.moderator_role,
            first.bot_role,
        )
        self.general, self.videos, self.mod_log = first.general, first.videos, first.mod_log
        self.owner, self.admin, self.member = first.owner, first.admin, first.member
        self.moderator, self.bot_member = first.moderator, first.bot_member

    # ---- world ------------------------------------------------------------------------------

    def _build_guild(self, name: str) -> GuildSetup:
        """One guild with the standard layout; the same people are members of every guild."""
        spread = self.spread_over_shards
        gid = self.ids.next() if spread is None else self.ids.next_on_shard(len(self.setups) % spread, spread)
        first = self.setups[0] if self.setups else None
        owner = first.owner.user if first else FakeUser(self.ids.next(), "owner", "Guild Owner")
        guild = FakeGuild(id=gid, name=name, owner_id=owner.id)
        self.guilds[gid] = guild
        guild.roles[gid] = FakeRole(gid, "@everyone", Perm.EVERYONE_DEFAULT, 0)
        manager_role = self.add_role("Manager", Perm.MANAGE_GUILD | Perm.MANAGE_MESSAGES, guild=guild)
        moderator_role = self.add_role(
            "Video Moderator", Perm.MANAGE_MESSAGES | Perm.MODERATE_MEMBERS, guild=guild
        )
        bot_role = self.add_role("Hailuo Test Bot", Perm.BOT_DEFAULT, guild=guild)
        bot_role.managed, bot_role.bot_id = True, self.app_id
        channels = [self.add_channel(n, guild=guild) for n in ("general", "videos", "mod-log")]

        def person(name: str, roles: list[FakeRole], known: FakeMember | None) -> FakeMember:
            if known is None:
                return self.add_member(name, roles=roles, guild=guild)
            return self._add_member(known.user, [r.id for r in roles], guild)

        setup = GuildSetup(
            guild=guild,
            manager_role=manager_role,
            moderator_role=moderator_role,
            bot_role=bot_role,
            general=channels[0],
            videos=channels[1],
            mod_log=channels[2],
            owner=self._add_member(owner, [], guild),
            admin=person("admin", [manager_role], first.admin if first else None),
            member=person("member", [], first.member if first else None),
            moderator=person("moderator", [moderator_role], first.moderator if first else None),
            bot_member=self._add_member(self.bot_user, [bot_role.id], guild),
        )
        self.setups.append(setup)
        return setup

    async def add_bot_to_guild(self, name: str) -> GuildSetup:
        """Someone adds the bot to a new guild (the standard layout): Discord sends GUILD_CREATE,
        which discord.py reports as ``on_guild_join``: a join carries no ``unavailable`` (``false``
        means a guild of the session coming back from an outage)."""
        setup = self._build_guild(name)
        payload = setup.guild.payload()
        payload.pop("unavailable", None)
        await self.dispatch("GUILD_CREATE", payload)
        self._bump()
        return setup

    def _guild_or_first(self, guild: FakeGuild | None) -> FakeGuild:
        return self.guild if guild is None else guild

    def add_role(self, name: str, permissions: int = 0, *, guild: FakeGuild | None = None) -> FakeRole:
        guild = self._guild_or_first(guild)
        role = FakeRole(self.ids.next(), name, permissions, position=len(guild.roles))
        guild.roles[role.id] = role
        return role

    def add_channel(self, name: str, *, guild: FakeGuild | None = None) -> FakeChannel:
        guild = self._guild_or_first(guild)
        channel = FakeChannel(self.ids.next(), name, 0, guild.id, position=len(guild.channels))
        guild.channels[channel.id] = channel
        return channel

    def add_member(
        self, name: str, *, roles: Iterable[FakeRole] = (), guild: FakeGuild | None = None
    ) -> FakeMember:
        """A new member (e.g. for a soak with many users); the bot learns of them from interactions."""
        user = FakeUser(self.ids.next(), name, name.title())
        return self._add_member(user, [r.id for r in roles], guild)

    def _add_member(self, user: FakeUser, role_ids: list[int], guild: FakeGuild | None = None) -> FakeMember:
        member = FakeMember(user, role_ids, joined_at=_iso(self.clock.now() - 86400))
        self._guild_or_first(guild).members[user.id] = member
        return member

    def member_named(self, name: str, *, guild: FakeGuild | None = None) -> FakeMember:
        for m in self._guild_or_first(guild).members.values():
            if m.name == name:
                return m
        raise KeyError(f"no member named {name!r}")

    def guild_of(self, channel: FakeChannel | int | None) -> FakeGuild | None:
        """The guild a channel (or channel id) belongs to; None for a DM or an unknown channel."""
        if isinstance(channel, int):
            channel = self.channel(channel)
        if channel is None or channel.guild_id is None:
            return None
        return self.guilds.get(channel.guild_id)

    def channel(self, channel_id: int) -> FakeChannel | None:
        for guild in self.guilds.values():
            found = guild.channels.get(channel_id)
            if found is not None:
                return found
        return self.dm_channels.get(channel_id)

    def user(self, user_id: int) -> FakeUser | None:
        for guild in self.guilds.values():
            member = guild.members.get(user_id)
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

    async def set_premium_tier(self, tier: int, *, guild: FakeGuild | None = None) -> None:
        """Boost (or un-boost) a server: the upload limit follows, and the bot hears GUILD_UPDATE.

        The fake keeps one upload limit, so with several guilds it is the last boosted one's.
        """
        guild = self._guild_or_first(guild)
        guild.premium_tier = tier
        self.upload_limit = PREMIUM_UPLOAD_LIMITS[tier]
        await self.dispatch("GUILD_UPDATE", guild.payload(with_members=False))
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
        """A registered command by name: the first guild's own first, then global (like Discord's UI).

        ``guild_id=-1`` means the first guild; pass another guild's id to look there, then global.
        """
        scope = self.guild.id if guild_id == -1 else guild_id
        scopes: list[int | None] = [scope, None] if scope is not None else [None]
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
        user_install: bool = False,
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
            guild = self.guild_of(channel)
            assert guild is not None, f"channel {channel.id} is in no guild of the fake"
            perms = guild.permissions_of(member)
            payload["guild_id"] = str(guild.id)
            payload["guild"] = {"id": str(guild.id), "locale": guild.preferred_locale, "features": []}
            payload["guild_locale"] = guild.preferred_locale
            payload["member"] = member.payload(perms)
            payload["context"] = 0
            payload["authorizing_integration_owners"] = {"0": str(guild.id)}
            payload["app_permissions"] = str(guild.permissions_of(guild.members[self.app_id]))
            payload["channel"]["permissions"] = str(perms)
        if user_install:
            # The member's own install authorised it (Discord's key "1", USER_INSTALL), not a server.
            payload["authorizing_integration_owners"] = {"1": str(user.id)}
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
        user_install: bool = False,
    ) -> InteractionRecord:
        """Make an interaction as Discord would after a member's click, and send INTERACTION_CREATE.

        ``user_install``: authorised by the member's own install of the app, not by a server.

        When no gateway connection is live the event waits in the session's buffer and is replayed
        on RESUME, like Discord does; the 3-second clock starts now either way.
        """
        channel = (
            channel or (self.channel(message.channel_id) if message is not None else None) or self.general
        )
        if user is None:
            user = member.user if member is not None else self.member.user
        if member is None and not channel.is_dm:
            guild = self.guild_of(channel)
            assert guild is not None, f"channel {channel.id} is in no guild of the fake"
            member = guild.members[user.id]
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
            user_install=user_install,
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
