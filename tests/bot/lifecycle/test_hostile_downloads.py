"""A finished task whose download URL points somewhere the bot must not go, or whose file is not a
video: nothing is fetched or posted, the task fails at once, the member is told and refunded, and the
log names the host."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.minimax.errors import NotAVideo, UnsafeDownload
from storage import TaskState
from tests.fakes.lifecycle_harness import Harness


@pytest.fixture
async def other_port() -> AsyncIterator[int]:
    """Another service on 127.0.0.1 (the API's machine, another port): it must never be asked."""
    app = web.Application()
    asked: list[str] = []

    async def anything(request: web.Request) -> web.Response:
        asked.append(request.path)
        return web.Response(status=500)

    app.router.add_get("/{tail:.*}", anything)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield int(runner.addresses[0][1])
    await runner.cleanup()
    assert asked == []


async def refused(harness: Harness, caplog: pytest.LogCaptureFixture, host: str) -> int:
    with caplog.at_level(logging.WARNING):
        service = await harness.start()
        task = await service.request(harness.request())
        done = await harness.wait_final(task.id)
    assert done.state is TaskState.FAILED
    assert await harness.ledger(task.id) == ["reserve", "refund"]
    assert harness.notifier.results_for(task.id) == []
    assert len(harness.notifier.failures_for(task.id)) == 1
    assert any(f"host {host}" in r.getMessage() for r in caplog.records), "the log names the host"
    assert harness.fake.counts["retrieve"] == 1, "refused for good: no second attempt"
    return task.id


async def test_a_download_url_on_another_loopback_address_is_refused(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """127.0.0.2 reaches this very machine, but it is not the API's host as configured."""
    harness.fake.download_root = f"http://127.0.0.2:{harness.fake.port}"
    task_id = await refused(harness, caplog, "127.0.0.2")
    assert harness.fake.counts["download"] == 0
    assert harness.notifier.failures_for(task_id) == [UnsafeDownload.user_message]


async def test_a_download_url_on_another_port_of_the_api_host_is_refused(
    harness: Harness, caplog: pytest.LogCaptureFixture, other_port: int
) -> None:
    harness.fake.download_root = f"http://127.0.0.1:{other_port}"
    await refused(harness, caplog, "127.0.0.1")


@pytest.mark.parametrize("root", ["file://", "ftp://127.0.0.1"])
async def test_a_download_url_that_is_not_http_is_refused(
    harness: Harness, caplog: pytest.LogCaptureFixture, root: str
) -> None:
    harness.fake.download_root = root
    with caplog.at_level(logging.WARNING):
        service = await harness.start()
        task = await service.request(harness.request())
        done = await harness.wait_final(task.id)
    assert done.state is TaskState.FAILED
    assert await harness.ledger(task.id) == ["reserve", "refund"]
    assert harness.notifier.failures_for(task.id) == [UnsafeDownload.user_message]


async def test_a_file_that_is_not_a_video_is_never_posted(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.fake.download_body = b"<html><body>Sign in to continue</body></html>"
    task_id = await refused(harness, caplog, "127.0.0.1")
    assert harness.fake.counts["download"] == 1
    assert harness.notifier.failures_for(task_id) == [NotAVideo.user_message]
    assert list(harness.settings.download_dir.iterdir()) == []  # type: ignore[union-attr]
