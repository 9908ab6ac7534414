"""The fake REST API v10 and CDN: routes for users, guilds, channels, messages, commands,
interaction callbacks and webhooks, each answering as Discord does and noting rules broken."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from aiohttp import web

from tests.fakes.fake_discord.models import (
    CallbackAttempt,
    FakeChannel,
    FakeGuild,
    FakeMessage,
    InteractionRecord,
    RequestRecord,
    StoredAttachment,
)
from tests.fakes.fake_discord.rules import (
    API,
    GUILDS_PER_RECOMMENDED_SHARD,
    CallbackType,
    InteractionType,
    MessageFlag,
    Perm,
    command_problems,
    message_problems,
    modal_problems,
)

log = logging.getLogger("fake_discord")


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


class RestMixin:
    """The REST half of :class:`FakeDiscord`: every route, its rules, faults and rate-limit headers."""

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
        r.add_delete(f"{API}/users/@me/guilds/{{guild_id}}", self._leave_guild)
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
                "shards": self.recommended_shards
                or max(1, -(-len(self.guilds) // GUILDS_PER_RECOMMENDED_SHARD)),
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
                "approximate_guild_count": len(self.guilds),
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

    async def _leave_guild(self, request: web.Request) -> web.Response:
        """Leave Guild: 204 and a GUILD_DELETE (without ``unavailable``: removed, not an outage);
        404 Unknown Guild for a guild the bot is not in; 400 for a guild the bot owns."""
        guild = self._guild_or_404(request)
        if guild is None:
            return _error(404, 10004, "Unknown Guild")
        if guild.owner_id == self.app_id:
            return _error(400, 50055, "Invalid Guild")
        del self.guilds[guild.id]
        guild.members.pop(self.app_id, None)
        self.left_guilds[guild.id] = guild
        await self.dispatch("GUILD_DELETE", {"id": str(guild.id)})
        self._bump()
        return web.Response(status=204)

    def _guild_or_404(self, request: web.Request) -> FakeGuild | None:
        return self.guilds.get(_snowflake_param(request, "guild_id") or 0)

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
        if gid not in self.guilds:
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
            guild = self.guild_of(channel)
            assert guild is not None
            bot_perms = guild.permissions_of(guild.members[self.app_id])
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
