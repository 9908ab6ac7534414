"""Fixtures for storage tests: a file database per test and a fixed clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from storage import NewTask, Storage
from tests.builders import make_new_task

# Wednesday 2024-05-15 12:00:00 UTC: mid-day, mid-week, mid-month.
T0 = datetime(2024, 5, 15, 12, 0, tzinfo=UTC).timestamp()
GUILD = 1000
CHANNEL = 2000
USER = 3000


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def new_task(**overrides: Any) -> NewTask:
    return make_new_task(**{"guild_id": GUILD, "channel_id": CHANNEL, "user_id": USER, **overrides})


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Storage]:
    storage = await Storage.open(db_path, default_limit_tenths=50, default_period="day")
    try:
        yield storage
    finally:
        await storage.close()


@pytest.fixture
def make_task() -> Callable[..., NewTask]:
    return new_task
