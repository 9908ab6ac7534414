"""The metrics and health endpoints of a real VideoBot (``METRICS_PORT``), over 127.0.0.1."""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest

from bot.app import VideoBot
from bot.metrics import Metrics
from bot.metrics_server import MetricsServer
from tests.builders import make_new_task
from tests.fakes.lifecycle_harness import Harness, lifecycle_harness

FAMILIES = (
    "videobot_commands_total",
    "videobot_refusals_total",
    "videobot_tasks",
    "videobot_api_requests_total",
    "videobot_queue_length",
    "videobot_delivery_seconds",
    "videobot_card_edits_total",
    "videobot_discord_errors_total",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_with_metrics(harness: Harness) -> VideoBot:
    settings = dataclasses.replace(harness.settings, metrics_port=free_port(), metrics_host="127.0.0.1")
    return VideoBot(settings, harness.storage, harness.client)


async def get(session: aiohttp.ClientSession, bot: VideoBot, path: str) -> tuple[int, str]:
    async with session.get(f"http://127.0.0.1:{bot.settings.metrics_port}{path}") as resp:
        return resp.status, await resp.text()


async def test_health_and_readiness_follow_the_gateway_and_the_database(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness, aiohttp.ClientSession() as session:
        bot = bot_with_metrics(harness)
        await bot.start_metrics_server()
        try:
            assert await get(session, bot, "/healthz") == (200, "ok\n")
            status, text = await get(session, bot, "/readyz")
            assert status == 503 and "gateway: not ready" in text  # not logged in yet

            # What the gateway's READY sets, and its socket while connected.
            bot.is_ready = lambda: True  # type: ignore[method-assign]
            bot.ws = SimpleNamespace(open=True)  # type: ignore[assignment]
            assert await get(session, bot, "/readyz") == (200, "ready\n")

            bot.ws = SimpleNamespace(open=False)  # type: ignore[assignment]  # reconnecting
            assert (await get(session, bot, "/readyz"))[0] == 503
            bot.ws = SimpleNamespace(open=True)  # type: ignore[assignment]

            await harness.storage.close()
            status, text = await get(session, bot, "/readyz")
            assert status == 503 and text == "database: not ready\n"
            assert (await get(session, bot, "/healthz"))[0] == 200  # alive, just not ready
        finally:
            bot.ws = None  # type: ignore[assignment]  # the stand-in socket has nothing to close
            await bot.close()
        with pytest.raises(aiohttp.ClientConnectionError):  # stopped with the bot
            await get(session, bot, "/healthz")


async def test_the_metrics_text_has_every_family_and_no_ids(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness, aiohttp.ClientSession() as session:
        bot = bot_with_metrics(harness)
        await bot.start_metrics_server()
        try:
            bot.metrics.command("video create")
            bot.metrics.discord_error("post_result", 403)
            task = await harness.storage.quota.reserve(make_new_task(prompt="counted"))
            async with session.get(f"http://127.0.0.1:{bot.settings.metrics_port}/metrics") as resp:
                assert resp.status == 200
                assert resp.headers["Content-Type"].startswith("text/plain")
                text = await resp.text()
        finally:
            await bot.close()
    for family in FAMILIES:
        assert f"# TYPE {family} " in text, family
    assert 'videobot_tasks{state="queued"} 1.0' in text  # counted from the database at the scrape
    assert 'videobot_commands_total{command="video create"} 1.0' in text
    assert 'videobot_discord_errors_total{operation="post_result",status="403"} 1.0' in text
    assert "_created" not in text  # no timestamp series per label set
    for some_id in (task.id, task.guild_id, task.user_id, task.channel_id):
        assert f'"{some_id}"' not in text


async def test_a_port_in_use_is_logged_and_the_bot_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = int(taken.getsockname()[1])
            settings = dataclasses.replace(harness.settings, metrics_port=port)
            bot = VideoBot(settings, harness.storage, harness.client)
            await bot.start_metrics_server()
            assert bot.metrics_server is None
            assert any("METRICS_PORT" in r.getMessage() for r in caplog.records)
            await bot.close()


async def test_a_burst_of_scrapes_counts_the_tasks_once(tmp_path: Path) -> None:
    calls: list[int] = []

    async def refresh() -> None:
        calls.append(1)

    server = MetricsServer(Metrics(), host="127.0.0.1", port=0, checks={}, refresh=refresh)
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(3):
                async with session.get(f"http://127.0.0.1:{server.port}/metrics") as resp:
                    assert resp.status == 200
            async with session.get(f"http://127.0.0.1:{server.port}/readyz") as resp:
                assert resp.status == 200  # no checks: ready
    finally:
        await server.stop()
    assert calls == [1]
