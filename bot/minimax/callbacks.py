"""The API's push notifications (``callback_url``), wire side: the HTTP server and the body format.

MiniMax first POSTs ``{"challenge": "..."}`` to a submit's ``callback_url`` and expects it echoed
within 3 s (a failed challenge fails the submit itself with 2013, creating nothing); it then POSTs
status updates shaped like the query answer (V1: ``task_id`` + ``status`` in lower case; V2 may wrap
them in ``task``). No signature is documented, so a push is only a hint: the receiver
(:mod:`bot.lifecycle.pushes`) accepts only task ids of its own and confirms with one query before
anything happens.

Every request is bounded before it costs anything: ``MAX_BODY`` bytes (413 beyond), a JSON object
with short string fields (400 otherwise), a token bucket over all pushes (429 when a flood empties
it), and one handler call per accepted push. Nothing here reads storage or the clock of the lifecycle.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024  # a status push is a few hundred bytes
MAX_CHALLENGE_CHARS = 512
# Pushes per second over all tasks, and the burst: far above what 30 tasks in flight send.
PUSH_RATE = 20.0
PUSH_BURST = 100
_TASK_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_STATUS = re.compile(r"^[A-Za-z_]{1,32}$")

# What the handler answers for one push: an HTTP status (202 acted, 200 nothing to do, 404 not ours).
PushHandler = Callable[["StatusPush"], Awaitable[int]]


class BadCallback(ValueError):
    """A body that is neither a challenge nor a status push: answered 400, nothing changes."""


@dataclass(frozen=True)
class Challenge:
    value: str


@dataclass(frozen=True)
class StatusPush:
    task_id: str
    status: str  # as sent, lower-cased: processing, success, failed (V1); succeeded, cancelled (V2)

    @property
    def final(self) -> bool:
        return self.status in ("success", "succeeded", "fail", "failed", "cancelled")


def parse_callback(raw: bytes) -> Challenge | StatusPush:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadCallback("not JSON") from None
    if not isinstance(body, dict):
        raise BadCallback("not a JSON object")
    if "challenge" in body:
        value = body["challenge"]
        if not isinstance(value, str) or not 0 < len(value) <= MAX_CHALLENGE_CHARS:
            raise BadCallback("bad challenge")
        return Challenge(value)
    task = body.get("task")
    inner: dict[str, object] = task if isinstance(task, dict) else body
    task_id, status = inner.get("task_id", body.get("task_id")), inner.get("status")
    if isinstance(task_id, int) and not isinstance(task_id, bool):
        task_id = str(task_id)
    if not isinstance(task_id, str) or not _TASK_ID.match(task_id):
        raise BadCallback("bad task_id")
    if not isinstance(status, str) or not _STATUS.match(status):
        raise BadCallback("bad status")
    return StatusPush(task_id, status.lower())


class _Bucket:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self._rate, self._burst, self._clock = rate, float(burst), clock
        self._tokens, self._at = float(burst), clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class CallbackSwitch:
    """Whether submits carry ``callback_url``: on until a challenge fails once (logged once)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.active = True

    def disable(self, reason: str) -> None:
        if self.active:
            self.active = False
            log.warning(
                "The API could not verify CALLBACK_URL (%s): %s. Push notifications are off until the "
                "bot restarts; it polls as without them.",
                self.url,
                reason,
            )


class CallbackServer:
    """The aiohttp server the API pushes to (behind the operator's reverse proxy)."""

    def __init__(
        self,
        handler: PushHandler,
        *,
        path: str,
        host: str = "127.0.0.1",
        port: int = 0,
        rate: float = PUSH_RATE,
        burst: int = PUSH_BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._handler = handler
        self._path = path or "/"
        self._host, self._port = host, port
        self._bucket = _Bucket(rate, burst, clock)
        self._runner: web.AppRunner | None = None
        self.port = 0

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self._path, self._receive)
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        log.info("Listening for the API's push notifications on %s:%s%s", self._host, self.port, self._path)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _receive(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "too large"}, status=413)
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.json_response({"error": "too large"}, status=413)
        try:
            message = parse_callback(raw)
        except BadCallback as exc:
            return web.json_response({"error": str(exc)}, status=400)
        if isinstance(message, Challenge):
            return web.json_response({"challenge": message.value})
        if not self._bucket.take():
            return web.json_response({"error": "slow down"}, status=429)
        status = await self._handler(message)
        return web.json_response({"ok": status < 400}, status=status)
