"""Client-side helpers for the MiniMax tests: a session, a no-wait sleep, a client factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from bot.minimax.client import MiniMaxClient
from tests.fakes.fake_minimax import FakeMiniMax


class RecordingSleep:
    """Stands in for asyncio.sleep: records each requested delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


MakeClient = Callable[..., MiniMaxClient]


@pytest.fixture
def make_client(session: aiohttp.ClientSession, sleeps: RecordingSleep) -> MakeClient:
    """Build a client for a fake: no real waiting, full-ceiling jitter (rng=1.0) so delays are exact."""

    def build(fake: FakeMiniMax, **overrides: Any) -> MiniMaxClient:
        options: dict[str, Any] = {"timeout": 5.0, "sleep": sleeps, "rng": lambda: 1.0, "max_retries": 4}
        options.update(overrides)
        api_key = options.pop("api_key", fake.api_key)
        base_url = options.pop("base_url", fake.base_url)
        return MiniMaxClient(session, api_key, base_url, **options)

    return build
