"""The fake gateway: connections, sessions with their event buffers, IDENTIFY/RESUME and dispatch.

Sessions may be sharded as Discord's are: IDENTIFY with ``shard: [shard_id, shard_count]`` and the
session hears only the guilds with ``(guild_id >> 22) % shard_count == shard_id`` (READY's guild
list, their GUILD_CREATEs, their events and interactions), DMs only on shard 0. A guild's events go to
the newest session that covers it, so an unsharded bot sees everything, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.fake_discord.models import FakeMessage
from tests.fakes.fake_discord.rules import (
    CLOSE_INVALID_SHARD,
    CLOSE_SHARDING_REQUIRED,
    shard_of,
    shard_problem,
)

log = logging.getLogger("fake_discord")


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
    shard: tuple[int, int] | None = None  # [shard_id, shard_count] from IDENTIFY; None: unsharded
    active_since: int = 0  # order of the last IDENTIFY or RESUME: the newest covering session hears

    def covers(self, guild_id: int | None) -> bool:
        """Whether Discord sends this session the events of ``guild_id`` (None: a DM, shard 0's)."""
        if self.shard is None:
            return True
        shard_id, count = self.shard
        return shard_id == (0 if guild_id is None else shard_of(guild_id, count))

    def next_frame(self, event: str, data: Any) -> dict[str, Any]:
        self.seq += 1
        frame = {"op": 0, "t": event, "s": self.seq, "d": data}
        self.events.append(frame)
        del self.events[:-2000]
        return frame


class GatewayMixin:
    """The gateway half of :class:`FakeDiscord`: sessions, IDENTIFY/RESUME, dispatch, reconnects."""

    @property
    def live_connection(self) -> GatewayConnection | None:
        return _live(self.current_session)

    def session_for(self, guild_id: int | None) -> GatewaySession | None:
        """The session that hears ``guild_id`` (None: DMs): the newest one that covers it."""
        covering = [s for s in self.sessions.values() if s.covers(guild_id)]
        return max(covering, key=lambda s: s.active_since, default=None)

    def connection_for(self, guild_id: int | None) -> GatewayConnection | None:
        """The live websocket that would receive ``guild_id``'s events now, if any."""
        return _live(self.session_for(guild_id))

    def shard_session(self, shard_id: int) -> GatewaySession | None:
        """The newest session identified as shard ``shard_id`` (of any count)."""
        sessions = [s for s in self.sessions.values() if s.shard is not None and s.shard[0] == shard_id]
        return max(sessions, key=lambda s: s.active_since, default=None)

    def _target(self, shard: int | None) -> GatewayConnection | None:
        return self.live_connection if shard is None else _live(self.shard_session(shard))

    async def dispatch(self, event: str, data: Any) -> None:
        """Send a DISPATCH to the session that hears its guild; buffered for RESUME when disconnected."""
        session = self.session_for(_guild_of(event, data))
        if session is None:
            log.debug("no gateway session; dropping %s", event)
            return
        if event == "INTERACTION_CREATE":
            self.interaction_shards[int(data["id"])] = session.shard
        frame = session.next_frame(event, data)
        conn = session.conn
        if conn is not None and conn.live:
            await conn.send(frame)

    async def force_reconnect(self, *, shard: int | None = None) -> None:
        """Ask the client to reconnect and RESUME (opcode 7), as Discord does during rolling restarts."""
        conn = self._target(shard)
        if conn is None:
            raise RuntimeError("no live gateway connection to ask for a reconnect")
        await conn.send({"op": 7, "d": None})

    async def drop_connection(self, code: int = 4000, *, shard: int | None = None) -> None:
        """Close the live websocket from the server side (the client should RESUME)."""
        conn = self._target(shard)
        if conn is None:
            raise RuntimeError("no live gateway connection to drop")
        conn.live = False
        if conn.session is not None and conn.session.conn is conn:
            conn.session.conn = None
        self._bump()
        await conn.ws.close(code=code)

    async def invalidate_session(self, *, shard: int | None = None) -> None:
        """Opcode 9 with d=false: the client must IDENTIFY afresh."""
        conn = self._target(shard)
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
        shard = data.get("shard")
        problem = shard_problem(shard)
        if problem is not None:
            self._violate(problem)
            conn.live = False
            await conn.ws.close(code=CLOSE_INVALID_SHARD, message=b"Invalid shard.")
            return
        key = None if shard is None else (int(shard[0]), int(shard[1]))
        holder = next(
            (
                s
                for s in self.sessions.values()
                if key is not None and s.shard == key and _live(s) is not None and s.conn is not conn
            ),
            None,
        )
        if holder is not None:
            # Two processes configured with the same shard: both would answer its interactions.
            self._violate(f"IDENTIFY as shard {list(key or ())} while another live connection holds it")
        probe = GatewaySession(id="", intents=None, identified_at=0.0, shard=key)
        guilds = [g for gid, g in self.guilds.items() if probe.covers(gid)]
        if len(guilds) > self.max_guilds_per_shard:
            who = "unsharded" if key is None else f"as shard {list(key)}"
            self._violate(
                f"IDENTIFY {who} for {len(guilds)} guilds:"
                f" more than {self.max_guilds_per_shard} per session needs sharding"
            )
            conn.live = False
            await conn.ws.close(code=CLOSE_SHARDING_REQUIRED, message=b"Sharding required.")
            return
        async with conn.lock:
            session = GatewaySession(
                id=secrets.token_hex(16), intents=data.get("intents"), identified_at=self.now(), shard=key
            )
            session.active_since = self._next_activity()
            self.sessions[session.id] = session
            self.current_session = session
            session.conn, conn.session = conn, session
            self.identify_count += 1
            self.shard_identifies.append(key)
            ready = {
                "v": 10,
                "user": {**self.bot_user.payload(), "verified": True, "mfa_enabled": False, "flags": 0},
                "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
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
            if key is not None:
                ready["shard"] = list(key)
            # Numbered before any await, so a concurrent dispatch cannot take a sequence number in between.
            frames = [
                session.next_frame("READY", ready),
                *(session.next_frame("GUILD_CREATE", g.payload()) for g in guilds),
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
            session.active_since = self._next_activity()
            missed.append(session.next_frame("RESUMED", {"_trace": ["fake-discord"]}))
            for frame in missed:
                await conn.send_locked(frame)
            session.resumes += 1
            self.resume_count += 1
        if old is not None and old is not conn:
            with contextlib.suppress(Exception):
                await old.ws.close(code=4000)

    def _next_activity(self) -> int:
        self._activity += 1
        return self._activity

    async def _request_members(self, conn: GatewayConnection, data: Mapping[str, Any]) -> None:
        wanted = {int(u) for u in data.get("user_ids") or []}
        query = (data.get("query") or "").lower()
        guild = self.guilds.get(int(data.get("guild_id") or 0))
        if guild is None:
            log.info("member request for an unknown guild %s", data.get("guild_id"))
            return
        members = [
            m.payload()
            for m in guild.members.values()
            if (not wanted or m.id in wanted) and m.name.lower().startswith(query)
        ]
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk = {
            "guild_id": str(guild.id),
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


def _live(session: GatewaySession | None) -> GatewayConnection | None:
    if session is None or session.conn is None or not session.conn.live:
        return None
    return session.conn


# Guild events that carry the guild's id as ``id`` rather than ``guild_id``.
_GUILD_OBJECT_EVENTS = frozenset({"GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"})


def _guild_of(event: str, data: Any) -> int | None:
    """The guild an event belongs to (None: a DM or no guild at all, which Discord sends shard 0)."""
    if not isinstance(data, Mapping):
        return None
    raw = data.get("id") if event in _GUILD_OBJECT_EVENTS else data.get("guild_id")
    return int(raw) if raw is not None else None
