"""Fixtures for the end-to-end tests: a fake Discord on a free 127.0.0.1 port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.fake_discord import FakeDiscord


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake
