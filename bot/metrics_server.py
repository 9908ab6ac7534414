"""The metrics and health endpoints (``METRICS_PORT``): ``/metrics``, ``/healthz`` and ``/readyz``.

An ``aiohttp.web`` server on the bot's own event loop (not prometheus_client's threaded one), so a
scrape reads the same objects the bot writes without locks, and it starts and stops with the bot.

- ``/metrics``: the bot's registry in Prometheus' text format; ``refresh`` runs first (the tasks
  gauge is counted from the database, at most once per ``refresh_interval``).
- ``/healthz``: 200 while the process answers at all (a liveness probe restarts a hung bot).
- ``/readyz``: 200 when every readiness check passes, else 503 naming the ones that failed (a
  readiness probe takes the process out of rotation). The checks come from the caller: what "ready"
  means on Discord is the app's to say (:mod:`bot.app`), not this module's.

It binds ``METRICS_HOST`` (127.0.0.1 by default): the endpoints carry no secrets or ids, but the
counts are the operator's business, and a probe or Prometheus usually runs beside the bot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from bot.metrics import CONTENT_TYPE_LATEST, Metrics

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[bool]]
# A readiness check that takes longer than this counts as failed: a probe must get its answer.
CHECK_TIMEOUT = 2.0
REFRESH_INTERVAL = 15.0


class MetricsServer:
    """Serves ``metrics`` and the health endpoints on ``host:port`` (port 0: any free port)."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        host: str,
        port: int,
        checks: Mapping[str, Check],
        refresh: Callable[[], Awaitable[None]] | None = None,
        refresh_interval: float = REFRESH_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._metrics = metrics
        self._host = host
        self._port = port
        self._checks = dict(checks)
        self._refresh = refresh
        self._refresh_interval = refresh_interval
        self._clock = clock
        self._refreshed_at: float | None = None
        self._refresh_lock = asyncio.Lock()
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        """The port it listens on (the one the OS picked, when asked for 0)."""
        if self._runner is None or not self._runner.addresses:
            raise RuntimeError("the metrics server is not running")
        return int(self._runner.addresses[0][1])

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._serve_metrics)
        app.router.add_get("/healthz", self._serve_health)
        app.router.add_get("/readyz", self._serve_ready)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        log.info("Metrics and health endpoints on http://%s:%d", self._host, self.port)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _serve_metrics(self, _request: web.Request) -> web.Response:
        await self._maybe_refresh()
        response = web.Response(body=self._metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def _maybe_refresh(self) -> None:
        """Run ``refresh`` when the last run is older than the interval; a failure is logged and the
        gauges keep their last values (a scrape must not fail because one count could not be read)."""
        if self._refresh is None:
            return
        async with self._refresh_lock:  # a burst of scrapes counts once
            now = self._clock()
            if self._refreshed_at is not None and now - self._refreshed_at < self._refresh_interval:
                return
            try:
                async with asyncio.timeout(CHECK_TIMEOUT):
                    await self._refresh()
            except Exception as exc:
                log.warning("Could not refresh the metrics: %s: %s", type(exc).__name__, exc)
                return
            self._refreshed_at = now

    async def _serve_health(self, _request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _serve_ready(self, _request: web.Request) -> web.Response:
        failed = [name for name, check in self._checks.items() if not await _passes(check)]
        if failed:
            return web.Response(status=503, text="".join(f"{name}: not ready\n" for name in failed))
        return web.Response(text="ready\n")


async def _passes(check: Check) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            return await check()
    except Exception as exc:  # a check that raises (a closed database) is a check that failed
        log.debug("Readiness check failed: %s: %s", type(exc).__name__, exc)
        return False
