"""API errors carry the answer's request/trace id, so a moderator has something to quote."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from bot.minimax import errors
from bot.minimax.client import MiniMaxClient
from bot.minimax.parsing import request_id_of
from tests.bot.minimax.conftest import MakeClient
from tests.builders import sent_spec
from tests.fakes.fake_minimax import FakeMiniMax

TEXT = sent_spec("MiniMax-Hailuo-2.3", "A little pig runs happily on the highway.", 6, "768P")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def test_the_header_comes_first_then_the_body() -> None:
    body = {"request_id": "body-1", "base_resp": {"status_code": 1004}}
    assert request_id_of({"Trace-Id": "trace-9"}, body) == "trace-9"
    assert request_id_of({}, body) == "body-1"
    assert request_id_of({}, {"base_resp": {"status_code": 1, "trace_id": "in-base-resp"}}) == "in-base-resp"
    assert request_id_of({}, {"task_id": "1"}) is None
    assert request_id_of({}, None) is None


@pytest.mark.parametrize("junk", ["", "   ", "has space", "<script>", "x" * 200, "line\nbreak"])
def test_only_id_like_text_is_taken(junk: str) -> None:
    assert request_id_of({"Trace-Id": junk}, {"request_id": junk}) is None


async def test_a_gateway_envelope_error_carries_its_request_id(make_client: MakeClient) -> None:
    async with FakeMiniMax(flavour="reseller") as fake:
        client = make_client(fake, max_retries=0)
        task_id = await client.submit(TEXT)
        fake.inject("query", 1004)
        with pytest.raises(errors.AuthFailed) as caught:
            await client.query(task_id)
    assert caught.value.request_id is not None and len(caught.value.request_id) == 32
    assert caught.value.request_note == f" (request id {caught.value.request_id})"


@pytest.fixture
async def serve(
    session: aiohttp.ClientSession,
) -> AsyncIterator[Callable[[Handler], Awaitable[MiniMaxClient]]]:
    """A one-route API on 127.0.0.1 answering every call with ``handler``."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> MiniMaxClient:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return MiniMaxClient(session, "sk-test-key", f"http://127.0.0.1:{port}", max_retries=0)

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_a_gateway_504_after_a_submit_keeps_the_trace_id(
    serve: Callable[[Handler], Awaitable[MiniMaxClient]],
) -> None:
    async def gateway_timeout(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=504, text="<html>Gateway Timeout</html>", headers={"Trace-Id": "abc-504"})

    client = await serve(gateway_timeout)
    with pytest.raises(errors.SubmitOutcomeUnknown) as caught:
        await client.submit(TEXT)
    assert caught.value.request_id == "abc-504"


async def test_an_error_inside_a_2xx_answer_carries_the_header_id(
    serve: Callable[[Handler], Awaitable[MiniMaxClient]],
) -> None:
    async def refusing(request: web.Request) -> web.Response:
        body = {"base_resp": {"status_code": 1026, "status_msg": "sensitive"}}
        return web.json_response(body, headers={"trace-id": "t-1026"})

    client = await serve(refusing)
    with pytest.raises(errors.SensitiveInput) as caught:
        await client.submit(TEXT)
    assert caught.value.request_id == "t-1026"
    with pytest.raises(errors.SensitiveInput) as caught:
        await client.retrieve("42")
    assert caught.value.request_id == "t-1026"


async def test_an_answer_without_an_id_leaves_none(
    serve: Callable[[Handler], Awaitable[MiniMaxClient]],
) -> None:
    async def unavailable(request: web.Request) -> web.Response:
        return web.Response(status=503, text="busy")

    client = await serve(unavailable)
    with pytest.raises(errors.TransientServerError) as caught:
        await client.query("1")
    assert caught.value.request_id is None and caught.value.request_note == ""
