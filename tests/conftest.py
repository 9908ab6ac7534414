"""Fixtures shared by the whole suite. Keep each one small; feature folders add their own."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.fakes.fake_minimax import FakeMiniMax
from tests.pg_server import SKIP_REASON, PgCluster, find_binaries, postgresql_tests_run, psql

_DATABASES = itertools.count(1)
_MIGRATE = """
import asyncio, sys
from storage.pg import PgDatabase

async def main() -> None:
    await (await PgDatabase.open(sys.argv[1])).close()

asyncio.run(main())
"""


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


def pytest_report_header() -> str | None:
    """Said once, at the top, instead of once per skipped test."""
    return None if postgresql_tests_run() else SKIP_REASON


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One throwaway PostgreSQL server for the whole run; skips when PostgreSQL is not installed."""
    bindir = find_binaries()
    if bindir is None:
        if os.environ.get("REQUIRE_POSTGRESQL_TESTS"):  # set by .ci/run, which installs PostgreSQL
            pytest.fail(SKIP_REASON.replace("skipped", "required by REQUIRE_POSTGRESQL_TESTS"))
        pytest.skip(SKIP_REASON)
    cluster = PgCluster.start(bindir)
    try:
        # Migrated once into a template: each test's database is a copy (much faster than migrating).
        psql(cluster, "CREATE DATABASE migrated TEMPLATE template0")
        subprocess.run([sys.executable, "-c", _MIGRATE, cluster.url("migrated")], check=True, timeout=120)
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    """The URL of a new, empty database on the throwaway server (one per test)."""
    name = f"test_{next(_DATABASES)}"
    psql(pg_cluster, f"CREATE DATABASE {name} TEMPLATE template0")
    return pg_cluster.url(name)


@pytest.fixture
def pg_migrated_url(pg_cluster: PgCluster) -> str:
    """The URL of a new database already at the newest schema (a copy of the session's template)."""
    name = f"test_{next(_DATABASES)}"
    psql(pg_cluster, f"CREATE DATABASE {name} TEMPLATE migrated")
    return pg_cluster.url(name)
