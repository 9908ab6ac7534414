"""Fixtures for storage tests: a database per test (each backend) and a fixed clock.

``store`` (and ``backend``, where it opens) runs every test that uses it twice, on SQLite and on
a real PostgreSQL server (left out, with one line in the report header, when PostgreSQL is not
installed).
``@pytest.mark.sqlite_only`` keeps a test about SQLite's own machinery (query plans, the trace
callback) to SQLite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from storage import NewTask, Storage
from tests.builders import make_new_task
from tests.pg_server import postgresql_tests_run

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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize(
            "backend",
            ["sqlite"] if sqlite_only or not postgresql_tests_run() else ["sqlite", "postgresql"],
            indirect=True,
        )


@pytest.fixture
def backend(request: pytest.FixtureRequest, db_path: Path) -> str | Path:
    """Where ``store`` opens: the SQLite file, or a fresh PostgreSQL database's URL."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_migrated_url"))
    return db_path


@pytest.fixture
async def store(backend: str | Path) -> AsyncIterator[Storage]:
    storage = await Storage.open(backend, default_limit_tenths=50, default_period="day")
    try:
        yield storage
    finally:
        await storage.close()


@pytest.fixture
def make_task() -> Callable[..., NewTask]:
    return new_task
