"""Fixtures shared by the whole suite. Keep each one small; feature folders add their own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.fake_minimax import FakeMiniMax


@pytest.fixture
async def fake_minimax() -> AsyncIterator[FakeMiniMax]:
    """A fake MiniMax API in the official flavour on a free 127.0.0.1 port."""
    async with FakeMiniMax(flavour="official") as fake:
        yield fake


@pytest.fixture(params=["official", "reseller"])
async def fake_minimax_any(request: pytest.FixtureRequest) -> AsyncIterator[FakeMiniMax]:
    """The fake MiniMax API once per flavour: tests using it run against both."""
    async with FakeMiniMax(flavour=request.param) as fake:
        yield fake
