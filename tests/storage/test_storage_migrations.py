"""Schema versioning: fresh files, re-opens, upgrades of old files, refusal of newer ones."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage import (
    LATEST_VERSION,
    MIGRATIONS,
    Database,
    DatabaseUnavailable,
    SchemaTooNew,
    Storage,
    TaskState,
)
from storage.backend import fetch_one, insert

T0 = 1_715_774_400.0  # 2024-05-15 12:00 UTC


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


async def test_fresh_database_is_migrated_to_latest(db_path: Path) -> None:
    db = await Database.open(db_path)
    try:
        assert await db.schema_version() == LATEST_VERSION == len(MIGRATIONS)
        assert await db.integrity_check() == "ok"
        async with db.read() as conn:
            pragmas = {}
            for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout"):
                pragmas[name] = (await fetch_one(conn, f"PRAGMA {name}"))[0]
    finally:
        await db.close()
    assert db_path.parent.is_dir()  # the directory was created
    # synchronous=FULL (2): in WAL mode NORMAL may lose the last commits on power loss.
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "synchronous": 2, "busy_timeout": 10_000}
    assert {"tasks", "ledger", "guild_limits", "role_limits", "user_overrides", "blocks"} <= tables(db_path)
    assert {"channel_rules", "prompt_filters", "guild_policy", "audit_log", "user_prefs"} <= tables(db_path)
    assert "bot_state" in tables(db_path)


async def test_reopening_is_idempotent_and_keeps_rows(db_path: Path, make_task) -> None:
    store = await Storage.open(db_path)
    task = await store.quota.reserve(make_task(), now=T0)
    await store.close()
    schema_before = sqlite3.connect(db_path).execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()

    for _ in range(2):
        store = await Storage.open(db_path)
        assert await store.tasks.get(task.id) == task
        assert await store.db.schema_version() == LATEST_VERSION
        await store.close()
    schema_after = sqlite3.connect(db_path).execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    assert schema_after == schema_before


async def test_version_1_file_is_upgraded_with_rows_intact(db_path: Path) -> None:
    old = await Database.open(db_path, target_version=1)
    assert await old.schema_version() == 1
    async with old.transaction() as conn:
        await conn.execute(
            "INSERT INTO tasks (guild_id, channel_id, user_id, prompt, model, mode, duration, resolution, "
            "cost_tenths, api_task_id, state, attempts, created_at, submitted_at, next_poll_at) "
            "VALUES (7, 8, 9, 'an old prompt', 'MiniMax-Hailuo-02', 'text', 10, '768P', 20, '555', "
            "'submitted', 1, ?, ?, ?)",
            (T0, T0 + 5, T0 + 60),
        )
        await conn.execute(
            "INSERT INTO ledger (kind, guild_id, user_id, task_id, tenths, created_at) "
            "VALUES ('reserve', 7, 9, 1, 20, ?)",
            (T0,),
        )
    await old.close()
    assert "audit_log" not in tables(db_path)
    assert user_version(db_path) == 1

    store = await Storage.open(db_path, default_limit_tenths=100)
    try:
        assert await store.db.schema_version() == LATEST_VERSION
        task = await store.tasks.get_by_api_id("555")
        assert (task.id, task.guild_id, task.channel_id, task.user_id) == (1, 7, 8, 9)
        assert (task.prompt, task.model, task.spec.duration, task.spec.resolution) == (
            "an old prompt",
            "MiniMax-Hailuo-02",
            10,
            "768P",
        )
        assert (task.state, task.attempts, task.cost_tenths) == (TaskState.SUBMITTED, 1, 20)
        assert (task.created_at, task.submitted_at, task.next_poll_at) == (T0, T0 + 5, T0 + 60)
        # Columns added by version 2 got their defaults on the old row.
        assert (task.deliver_by_dm, task.regenerated_from, task.width, task.video_bytes) == (
            False,
            None,
            None,
            None,
        )
        # The old reservation still counts, and the upgraded file accepts new kinds of rows.
        usage = await store.quota.usage(7, 9, now=T0 + 10)
        assert usage.used_tenths == 20
        await store.tasks.transition(1, TaskState.PROCESSING, now=T0 + 20)
        await store.limits.block(7, 9, "spam", actor_id=1, now=T0 + 30)
        assert len(await store.audit.list(7)) == 1
        assert await store.db.integrity_check() == "ok"
    finally:
        await store.close()


def indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


async def insert_old_task(db: Database, state: str, *, finished_at: float | None = None) -> int:
    """A task row as an older version wrote it: only the columns every version has (today's
    repositories read columns an old file lacks, so they cannot write its rows)."""
    async with db.transaction() as conn:
        return await insert(
            conn,
            "INSERT INTO tasks (guild_id, channel_id, user_id, prompt, model, mode, duration, resolution, "
            "cost_tenths, state, attempts, created_at, finished_at) "
            "VALUES (7, 8, 9, 'an old prompt', 'MiniMax-Hailuo-2.3', 'text', 6, '768P', 10, ?, 1, ?, ?)",
            (state, T0, finished_at),
        )


async def test_version_2_file_gains_the_finished_index_with_rows_intact(db_path: Path) -> None:
    old = await Database.open(db_path, target_version=2)
    task_id = await insert_old_task(old, "cancelled", finished_at=T0 + 5)
    await old.close()
    assert user_version(db_path) == 2 and "tasks_finished" not in indexes(db_path)

    store = await Storage.open(db_path)
    try:
        assert await store.db.schema_version() == LATEST_VERSION >= 3
        assert "tasks_finished" in indexes(db_path)
        assert [t.id for t in await store.tasks.recently_finished(T0)] == [task_id]
        assert await store.db.integrity_check() == "ok"
    finally:
        await store.close()


async def test_version_3_file_gains_the_bot_state_table_with_rows_intact(db_path: Path) -> None:
    old = await Database.open(db_path, target_version=3)
    task_id = await insert_old_task(old, "queued")
    await old.close()
    assert user_version(db_path) == 3 and "bot_state" not in tables(db_path)

    store = await Storage.open(db_path)
    try:
        assert await store.db.schema_version() == LATEST_VERSION >= 4
        assert "bot_state" in tables(db_path)
        task = await store.tasks.get(task_id)
        assert (task.state, task.prompt, task.created_at) == (TaskState.QUEUED, "an old prompt", T0)
        assert await store.state.get("account_pause") is None
        await store.state.set("account_pause", '{"until": 1}', now=T0)
        assert await store.state.get("account_pause") == '{"until": 1}'
        assert await store.db.integrity_check() == "ok"
    finally:
        await store.close()


async def test_version_4_file_counts_its_failures_as_told_and_owes_only_new_ones(db_path: Path) -> None:
    """Failures from before the notice record existed must not be announced again after the upgrade."""
    old = await Database.open(db_path, target_version=4)
    failed = await insert_old_task(old, "failed", finished_at=T0 + 5)
    unknown = await insert_old_task(old, "unknown")
    running = await insert_old_task(old, "submitted")
    await old.close()

    store = await Storage.open(db_path)
    try:
        assert await store.db.schema_version() == LATEST_VERSION >= 5
        assert (await store.tasks.get(failed)).notified_at == T0 + 5
        assert (await store.tasks.get(unknown)).notified_at == T0
        assert (await store.tasks.get(running)).notified_at is None
        assert await store.tasks.unnotified(T0 - 1) == []
        await store.tasks.transition(running, TaskState.FAILED, now=T0 + 9, error_message="gone")
        assert [t.id for t in await store.tasks.unnotified(T0 - 1)] == [running]
        assert await store.tasks.unnotified(T0 + 10) == []  # owed, but before the window
        await store.tasks.update_fields(running, notified_at=T0 + 10)
        assert await store.tasks.unnotified(T0 - 1) == []
    finally:
        await store.close()


async def test_migration_4_is_atomic_with_its_version(db_path: Path) -> None:
    """A file that somehow has the table but not the version bump is not half-migrated again."""
    old = await Database.open(db_path, target_version=3)
    await old.close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE bot_state (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at REAL)")
    with pytest.raises(DatabaseUnavailable, match="already exists"):
        await Storage.open(db_path)
    assert user_version(db_path) == 3, "the failed step left the version where it was"


async def test_newer_schema_is_refused_and_left_untouched(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE from_the_future (x)")
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    with pytest.raises(SchemaTooNew) as caught:
        await Storage.open(db_path)
    assert caught.value.found == LATEST_VERSION + 1
    assert caught.value.supported == LATEST_VERSION
    assert "Upgrade the bot" in str(caught.value)
    assert user_version(db_path) == LATEST_VERSION + 1
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # not switched to WAL
    assert tables(db_path) == {"from_the_future"}
