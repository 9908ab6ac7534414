"""PostgreSQL specifics: the SQL translation, the schema twin, migrations, and races across processes.

Everything else about storage runs on both backends through the ``store`` fixture.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sqlite3
import sys
from pathlib import Path

import asyncpg
import pytest

import storage
from storage import LATEST_VERSION, DatabaseUnavailable, QuotaExceeded, SchemaTooNew, Storage
from storage.backend import fetch_all
from storage.pg import PgDatabase, redact, translate
from tests.builders import make_new_task
from tests.pg_server import SKIP_REASON, postgresql_tests_run

if not postgresql_tests_run():
    pytest.skip(SKIP_REASON, allow_module_level=True)

T0 = 1_715_774_400.0
PROJECT_ROOT = Path(storage.__file__).resolve().parent.parent
RACER = Path(__file__).with_name("reserve_racer.py")


def test_placeholders_become_numbered_and_literals_stay() -> None:
    assert translate("SELECT * FROM t WHERE a = ? AND b = '?' AND c = ?") == (
        "SELECT * FROM t WHERE a = $1 AND b = '?' AND c = $2",
        None,
    )
    assert translate("SELECT :x, :y, :x, 'a:b' -- :z\nFROM t") == (
        "SELECT $1, $2, $1, 'a:b' -- :z\nFROM t",
        ("x", "y"),
    )


def test_sqlite_null_safe_equality_becomes_is_not_distinct_from() -> None:
    assert translate("WHERE guild_id IS ? AND x IS NOT ? AND y IS NULL")[0] == (
        "WHERE guild_id IS NOT DISTINCT FROM $1 AND x IS DISTINCT FROM $2 AND y IS NULL"
    )


def test_a_password_never_reaches_a_message() -> None:
    assert (
        redact("postgresql://bot:s3cret@db.example:5432/videobot")
        == "postgresql://bot:***@db.example:5432/videobot"
    )
    assert redact("postgresql://bot@db/videobot") == "postgresql://bot@db/videobot"


def _sqlite_schema(path: Path) -> dict[str, set[str]]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        schema = {
            t: {r[1] for r in conn.execute(f"PRAGMA table_info({t})")}
            for t in tables
            if not t.startswith("sqlite_")
        }
        schema["indexes"] = {
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        }
    return schema


async def test_both_schemas_have_the_same_tables_columns_and_indexes(db_path: Path, pg_url: str) -> None:
    """The PostgreSQL steps are translated from SQLite's: a step that translates badly shows here."""
    await (await Storage.open(db_path)).close()
    db = await PgDatabase.open(pg_url)
    try:
        async with db.read() as conn:
            columns = await fetch_all(
                conn,
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'public'",
            )
            indexes = await fetch_all(
                conn,
                "SELECT indexname FROM pg_indexes "
                "WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey'",
            )
    finally:
        await db.close()
    pg: dict[str, set[str]] = {}
    for row in columns:
        pg.setdefault(row[0], set()).add(row[1])
    assert pg.pop("schema_version") == {"version"}
    # PostgreSQL names UNIQUE constraints' indexes itself (SQLite's are automatic and unnamed).
    pg["indexes"] = {r[0] for r in indexes if not r[0].endswith("_key")}
    assert pg == _sqlite_schema(db_path)


async def test_ids_past_2_to_the_31_are_stored(pg_migrated_url: str) -> None:
    discord_id = 1_234_567_890_123_456_789
    store = await Storage.open(pg_migrated_url)
    try:
        task = await store.quota.reserve(make_new_task(guild_id=discord_id, user_id=discord_id), now=T0)
        assert (await store.tasks.get(task.id)).guild_id == discord_id
    finally:
        await store.close()


async def test_migration_is_recorded_and_a_newer_schema_is_refused(pg_url: str) -> None:
    old = await PgDatabase.open(pg_url, target_version=1)
    assert await old.schema_version() == 1
    await old.close()
    db = await PgDatabase.open(pg_url)
    assert await db.schema_version() == LATEST_VERSION
    assert await db.integrity_check() == "ok"
    async with db.transaction() as conn:
        await conn.execute("UPDATE schema_version SET version = ?", (LATEST_VERSION + 1,))
    await db.close()
    with pytest.raises(SchemaTooNew):
        await PgDatabase.open(pg_url)


async def test_a_failing_step_leaves_the_database_untouched(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All pending steps run in one transaction: a broken one rolls back the ones before it too."""
    import storage.pg

    broken = (
        *storage.pg.PG_MIGRATIONS[:2],
        dataclasses.replace(storage.pg.PG_MIGRATIONS[2], statements=("SELECT nonsense",)),
    )
    monkeypatch.setattr(storage.pg, "PG_MIGRATIONS", broken)
    with pytest.raises(DatabaseUnavailable):
        await PgDatabase.open(pg_url, target_version=3)
    conn = await asyncpg.connect(pg_url)
    try:
        tables = {
            r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    finally:
        await conn.close()
    assert tables == set()


async def test_processes_starting_together_migrate_once(pg_url: str) -> None:
    opened = await asyncio.gather(*(PgDatabase.open(pg_url) for _ in range(4)))
    try:
        assert {await db.schema_version() for db in opened} == {LATEST_VERSION}
    finally:
        for db in opened:
            await db.close()


async def test_an_unreachable_server_is_one_clear_line_without_the_password() -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        await PgDatabase.open("postgresql://bot:s3cret@127.0.0.1:1/videobot")
    assert "s3cret" not in str(caught.value)
    assert "\n" not in str(caught.value)


async def test_three_processes_accept_exactly_k(pg_migrated_url: str) -> None:
    """N reservations from each of three processes at once against one member's K credits."""
    n, k = 60, 37
    racers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(RACER),
            pg_migrated_url,
            str(n),
            str(k * 10),
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    try:
        for racer in racers:
            assert racer.stdout is not None
            assert (await racer.stdout.readline()).strip() == b"ready"
        outputs = await asyncio.gather(*(racer.communicate(b"go\n") for racer in racers))
    finally:
        for racer in racers:
            if racer.returncode is None:
                racer.kill()
                await racer.wait()
    assert all(racer.returncode == 0 for racer in racers)
    assert sum(int(out.split()[-1]) for out, _ in outputs) == k
    store = await Storage.open(pg_migrated_url, default_limit_tenths=k * 10)
    try:
        usage = await store.quota.usage(1000, 3000, now=T0)
        assert usage.used_tenths == k * 10
        with pytest.raises(QuotaExceeded):
            await store.quota.reserve(make_new_task(guild_id=1000, user_id=3000), now=T0)
    finally:
        await store.close()


async def test_a_malformed_url_is_one_clear_line_without_the_password() -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        await PgDatabase.open("postgresql://bot:s3cret@127.0.0.1:notaport/videobot")
    assert "s3cret" not in str(caught.value)
    assert "DATABASE_URL" in str(caught.value)
    assert (
        redact("postgresql://bot:s3cret@db:notaport/videobot") == "postgresql://bot:***@db:notaport/videobot"
    )


async def test_cancellation_at_any_statement_keeps_ledger_in_step(
    pg_migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PostgreSQL twin of the SQLite trace-callback test: a reservation cancelled right after its
    k-th statement either happened whole or not at all, and the pool stays usable."""
    import storage.pg

    store = await Storage.open(pg_migrated_url, default_limit_tenths=1_000_000)
    statements, cancel_at, target = 0, 0, None
    run_fetch, run_execute = storage.pg.PgConnection.fetch_all, storage.pg.PgConnection.execute

    def counted() -> None:
        nonlocal statements
        statements += 1
        if statements == cancel_at and target is not None:
            target.cancel()  # lands at the reservation's next await

    async def fetch_all_counted(self: storage.pg.PgConnection, sql: str, params: object = ()) -> list[object]:
        rows = await run_fetch(self, sql, params)  # type: ignore[arg-type]
        counted()
        return rows  # type: ignore[return-value]

    async def execute_counted(self: storage.pg.PgConnection, sql: str, params: object = ()) -> int:
        changed = await run_execute(self, sql, params)  # type: ignore[arg-type]
        counted()
        return changed

    monkeypatch.setattr(storage.pg.PgConnection, "fetch_all", fetch_all_counted)
    monkeypatch.setattr(storage.pg.PgConnection, "execute", execute_counted)
    try:
        outcomes = []
        for k in range(1, 16):
            statements, cancel_at = 0, k
            target = asyncio.create_task(store.quota.reserve(make_new_task(cost_tenths=1), now=T0))
            outcomes.append((await asyncio.gather(target, return_exceptions=True))[0])
        target = None
        assert isinstance(outcomes[0], asyncio.CancelledError)
        assert not isinstance(outcomes[-1], BaseException)  # cancelled after it had finished
        await store.quota.reserve(make_new_task(cost_tenths=1), now=T0)  # the pool still works
        async with store.db.read() as conn:
            rows = await fetch_all(
                conn,
                "SELECT (SELECT COUNT(*) FROM tasks), (SELECT COUNT(*) FROM ledger WHERE kind = 'reserve'), "
                "(SELECT COUNT(*) FROM tasks t WHERE NOT EXISTS "
                "  (SELECT 1 FROM ledger l WHERE l.task_id = t.id AND l.kind = 'reserve'))",
            )
        tasks, reserves, orphans = rows[0]
        assert (reserves, orphans) == (tasks, 0)
        succeeded = sum(not isinstance(o, BaseException) for o in outcomes)
        assert tasks - 1 - succeeded in (0, 1)  # a cancel landing during COMMIT cannot undo it
    finally:
        await store.close()
