"""Per-call retry budgets, and submits that never go out on a connection the server has dropped."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.minimax import errors
from bot.minimax.client import MiniMaxClient
from tests.bot.minimax.conftest import MakeClient
from tests.builders import sent_spec
from tests.fakes.fake_minimax import FakeMiniMax

TEXT = sent_spec("MiniMax-Hailuo-2.3", "A paper boat on a rainy street.", 6, "768P")
OK = {"status_code": 0, "status_msg": "success"}


async def test_query_and_retrieve_can_be_told_not_to_retry(
    fake_minimax: FakeMiniMax, make_client: MakeClient
) -> None:
    client = make_client(fake_minimax)
    task_id = await client.submit(TEXT)
    fake_minimax.inject("query", 503)
    with pytest.raises(errors.TransientServerError):
        await client.query(task_id, retries=0)
    assert fake_minimax.counts["query"] == 1
    fake_minimax.inject("query", 503)
    await client.query(task_id)  # the default budget still retries
    assert fake_minimax.counts["query"] == 3

    fake_minimax.finish_all()
    file_id = (await client.query(task_id)).file_id
    assert file_id is not None
    fake_minimax.inject("retrieve", 503)
    with pytest.raises(errors.TransientServerError):
        await client.retrieve(file_id, retries=0)
    assert fake_minimax.counts["retrieve"] == 1


class DroppingServer:
    """An HTTP/1.1 server that keeps connections alive but has (as far as the client can tell)
    dropped each one after its first answer: a second request on the same connection is met with a
    close and no answer, as when a server times an idle connection out just as the client reuses it."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.dropped = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> DroppingServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answered = False
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                method, path, _version = head.split("\r\n", 1)[0].split(" ", 2)
                headers = {
                    name.strip().lower(): value.strip()
                    for name, value in (line.split(":", 1) for line in head.split("\r\n")[1:] if ":" in line)
                }
                await reader.readexactly(int(headers.get("content-length", "0")))
                if answered:
                    self.dropped += 1
                    return
                answered = True
                self.requests.append((method, path, headers))
                if method == "POST":
                    body = {"task_id": "42", "base_resp": OK}
                else:
                    body = {"task_id": "42", "status": "Processing", "file_id": "", "base_resp": OK}
                payload = json.dumps(body).encode()
                closing = headers.get("connection", "").lower() == "close"
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(payload)}\r\n".encode()
                    + (b"Connection: close\r\n" if closing else b"")
                    + b"\r\n"
                    + payload
                )
                await writer.drain()
                if closing:
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()


@pytest.fixture
async def dropping() -> AsyncIterator[DroppingServer]:
    async with DroppingServer() as server:
        yield server


async def test_a_submit_after_other_calls_goes_out_on_a_fresh_connection(dropping: DroppingServer) -> None:
    """Reusing a kept-alive connection the server dropped would turn a submit the API never saw into
    an "unknown" outcome that a moderator must resolve."""
    async with aiohttp.ClientSession() as session:
        client = MiniMaxClient(session, "test-key", dropping.url, max_retries=0)
        await client.query("42")
        assert await client.submit(TEXT, retries=0) == "42"
        await client.query("42")
    assert [(m, p.split("?")[0]) for m, p, _h in dropping.requests] == [
        ("GET", "/v1/query/video_generation"),
        ("POST", "/v1/video_generation"),
        ("GET", "/v1/query/video_generation"),
    ]
    assert dropping.dropped == 0
