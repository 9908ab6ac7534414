"""Hostile download URLs: only http(s), only public addresses (every redirect hop), except the API's
own host and port; only an MP4 body; one deadline for a whole attempt."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.minimax import errors
from bot.minimax.client import MiniMaxClient
from bot.minimax.download_guard import MAX_REDIRECTS, forbidden_kind
from tests.bot.minimax.conftest import MakeClient
from tests.fakes.fake_minimax import FakeMiniMax, video_bytes

VIDEO = video_bytes(1, 4096)


class Origin:
    """A tiny web server on 127.0.0.1 (its own port): a video, a page, redirects, a trickle."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.redirect_to = ""
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._stop = asyncio.Event()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{name}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        self._stop.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.hits[name] += 1
        if name == "video.mp4":
            return web.Response(body=VIDEO, content_type="video/mp4")
        if name == "page":
            return web.Response(text="<html><body>not a video</body></html>" * 20, content_type="text/html")
        if name == "tiny":
            return web.Response(body=b"\x00\x00", content_type="video/mp4")
        if name == "redirect":
            raise web.HTTPFound(self.redirect_to)
        if name == "to-self":
            raise web.HTTPFound("/video.mp4")  # relative, same host: followed
        if name == "loop":
            raise web.HTTPFound("/loop")
        if name == "trickle":  # a byte at a time, well within any per-read time-out, for ever
            response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
            await response.prepare(request)
            await response.write(VIDEO[:8])
            while not self._stop.is_set():
                await response.write(b"\x00")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 0.01)
            return response
        raise web.HTTPNotFound()


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    server = Origin()
    await server.start()
    yield server
    await server.close()


def api_client(session: aiohttp.ClientSession, api_root: str, **overrides: Any) -> MiniMaxClient:
    """A client whose MINIMAX_BASE_URL is ``api_root``: that host and port are trusted."""
    options: dict[str, Any] = {"max_retries": 2, "sleep": _no_sleep, "rng": lambda: 1.0, **overrides}
    return MiniMaxClient(session, "k", api_root, **options)


def names_in(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


async def _no_sleep(seconds: float) -> None:
    return None


# ---------------------------------------------------------------------------------- the address rules


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.2", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("fe80::1", "link-local"),
        ("240.0.0.1", "private"),  # reserved, and Python counts it as private first
        ("0.0.0.0", "private"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
    ],
)
def test_which_addresses_are_forbidden(address: str, kind: str | None) -> None:
    assert forbidden_kind(ipaddress.ip_address(address)) == kind


# ---------------------------------------------------------------------------------- refused URLs


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/video.mp4", "gopher://x/1"])
async def test_a_url_that_is_not_http_is_refused(
    fake_minimax: FakeMiniMax, make_client: MakeClient, tmp_path: Path, url: str
) -> None:
    client = make_client(fake_minimax)
    with pytest.raises(errors.UnsafeDownload):
        await client.download(url, tmp_path / "v.mp4", max_bytes=10**7)
    assert names_in(tmp_path) == []


async def test_another_port_of_the_api_host_is_refused(
    fake_minimax: FakeMiniMax,
    make_client: MakeClient,
    origin: Origin,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The API is on 127.0.0.1:<its port>; another service on 127.0.0.1 is not the API."""
    client = make_client(fake_minimax)
    with caplog.at_level(logging.WARNING), pytest.raises(errors.UnsafeDownload) as caught:
        await client.download(f"{origin.root}/video.mp4", tmp_path / "v.mp4", max_bytes=10**7)
    assert not caught.value.retryable
    assert origin.hits["video.mp4"] == 0, "never requested"
    assert any("refused: host 127.0.0.1" in r.getMessage() for r in caplog.records)
    assert names_in(tmp_path) == []


@pytest.mark.parametrize("host", ["127.0.0.2", "localhost", "[::1]"])
async def test_another_loopback_name_for_the_api_is_refused(
    fake_minimax: FakeMiniMax, make_client: MakeClient, tmp_path: Path, host: str
) -> None:
    """Same port as the API, but not its host as written in MINIMAX_BASE_URL."""
    client = make_client(fake_minimax)
    with pytest.raises(errors.UnsafeDownload):
        await client.download(
            f"http://{host}:{fake_minimax.port}/download/1", tmp_path / "v.mp4", max_bytes=10**7
        )
    assert fake_minimax.counts["download"] == 0


async def test_a_redirect_from_the_api_host_to_a_forbidden_one_is_refused(
    session: aiohttp.ClientSession, origin: Origin, tmp_path: Path
) -> None:
    client = api_client(session, origin.root)  # the origin is the (trusted) API here
    origin.redirect_to = f"http://localhost:{origin.port}/video.mp4"  # the same server, by another name
    with pytest.raises(errors.UnsafeDownload):
        await client.download(f"{origin.root}/redirect", tmp_path / "v.mp4", max_bytes=10**7)
    assert origin.hits == Counter({"redirect": 1}), "the forbidden hop was never requested"
    assert names_in(tmp_path) == []


async def test_a_redirect_to_a_non_http_url_is_refused(
    session: aiohttp.ClientSession, origin: Origin, tmp_path: Path
) -> None:
    client = api_client(session, origin.root)
    origin.redirect_to = "file:///etc/passwd"
    with pytest.raises(errors.UnsafeDownload):
        await client.download(f"{origin.root}/redirect", tmp_path / "v.mp4", max_bytes=10**7)


async def test_redirects_on_an_allowed_host_are_followed_but_bounded(
    session: aiohttp.ClientSession, origin: Origin, tmp_path: Path
) -> None:
    client = api_client(session, origin.root)
    assert await client.download(f"{origin.root}/to-self", tmp_path / "v.mp4", max_bytes=10**7) == len(VIDEO)
    assert names_in(tmp_path) == ["v.mp4"]
    with pytest.raises(errors.UnsafeDownload):
        await client.download(f"{origin.root}/loop", tmp_path / "w.mp4", max_bytes=10**7)
    assert origin.hits["loop"] == MAX_REDIRECTS + 1


# ---------------------------------------------------------------------------------- not a video


@pytest.mark.parametrize("name", ["page", "tiny"])
async def test_a_body_that_is_not_an_mp4_is_refused_and_not_kept(
    session: aiohttp.ClientSession,
    origin: Origin,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    name: str,
) -> None:
    client = api_client(session, origin.root)
    with caplog.at_level(logging.WARNING), pytest.raises(errors.NotAVideo) as caught:
        await client.download(f"{origin.root}/{name}", tmp_path / "v.mp4", max_bytes=10**7)
    assert not caught.value.retryable
    assert origin.hits[name] == 1, "not retried"
    assert names_in(tmp_path) == []
    assert any("host 127.0.0.1" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------------------------- the deadline


async def test_a_download_that_never_ends_stops_at_its_deadline(
    session: aiohttp.ClientSession, origin: Origin, tmp_path: Path
) -> None:
    """Each read arrives well within the per-read time-out; only the total deadline ends it."""
    client = api_client(session, origin.root, timeout=5.0, download_deadline=0.2, max_retries=0)
    with pytest.raises(errors.DownloadError) as caught:
        await asyncio.wait_for(
            client.download(f"{origin.root}/trickle", tmp_path / "v.mp4", max_bytes=10**9), 10
        )
    assert caught.value.retryable  # a later attempt (a fresh URL) may do better
    assert names_in(tmp_path) == []


def test_the_download_deadline_is_derived_from_the_api_timeout(session: aiohttp.ClientSession) -> None:
    client = MiniMaxClient(session, "k", "https://api.minimax.io", timeout=30.0)
    assert client.download_deadline == 300.0
