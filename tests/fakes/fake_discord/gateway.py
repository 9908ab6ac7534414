"""The fake gateway: connections, sessions with their event buffers, IDENTIFY/RESUME and dispatch."""

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
                "guilds": [{"id": str(gid), "unavailable": True} for gid in self.guilds],
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
                *(session.next_frame("GUILD_CREATE", g.payload()) for g in self.guilds.values()),
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
