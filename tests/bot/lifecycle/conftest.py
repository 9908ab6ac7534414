"""Fixtures for lifecycle tests: a harness with fake API, temp database and recording notifier."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.lifecycle_harness import Harness, lifecycle_harness


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async with lifecycle_harness(tmp_path) as h:
        yield h
