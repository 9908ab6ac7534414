"""Fetching a member's image for the API: inline bytes when we can, the URL when only the API can."""

from __future__ import annotations

import base64
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.lifecycle.images import ImageUnavailable, fetch_data_url
from tests.fakes.image_host import ImageHost, png_bytes


@pytest.fixture
async def host() -> AsyncIterator[ImageHost]:
    async with ImageHost() as image_host:
        yield image_host


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def test_png_becomes_a_data_url(host: ImageHost, session: aiohttp.ClientSession) -> None:
    data = png_bytes(400, 300)
    url = host.add("cat.png", data)
    result = await fetch_data_url(session, url)
    assert result.startswith("data:image/png;base64,")
    assert base64.b64decode(result.split(",", 1)[1]) == data


async def test_type_is_sniffed_not_trusted(host: ImageHost, session: aiohttp.ClientSession) -> None:
    url = host.add("fake.png", b"GIF89a not really a png", content_type="image/png")
    with pytest.raises(ImageUnavailable, match="JPG, PNG or WebP"):
        await fetch_data_url(session, url)


async def test_deleted_image_is_reported(host: ImageHost, session: aiohttp.ClientSession) -> None:
    with pytest.raises(ImageUnavailable, match="no longer"):
        await fetch_data_url(session, host.url("gone.png"))


async def test_oversized_image_is_refused(host: ImageHost, session: aiohttp.ClientSession) -> None:
    url = host.add("big.png", png_bytes(64, 64) + b"\0" * 4096)
    with pytest.raises(ImageUnavailable, match="larger than 20 MB"):
        await fetch_data_url(session, url, max_bytes=1024)


async def test_unreachable_host_hands_the_url_to_the_api(session: aiohttp.ClientSession) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{closed_port}/attachments/cat.png"
    assert await fetch_data_url(session, url) == url


async def test_unrecognised_bytes_served_as_an_image_are_left_to_the_api(
    host: ImageHost, session: aiohttp.ClientSession
) -> None:
    """A CDN placeholder (or a format we do not sniff) served as image/*: the API fetches and judges."""
    url = host.add("placeholder.png", b"\x00not an image we know\x00" * 4, content_type="image/png")
    assert await fetch_data_url(session, url) == url


async def test_unrecognised_bytes_not_served_as_an_image_are_refused(
    host: ImageHost, session: aiohttp.ClientSession
) -> None:
    url = host.add("page.png", b"<html>Sign in to continue</html>", content_type="text/html")
    with pytest.raises(ImageUnavailable, match="JPG, PNG or WebP"):
        await fetch_data_url(session, url)
