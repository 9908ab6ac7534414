"""Operator tools on the file: a copy before each migration, an online backup, a read-only look."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage import (
    LATEST_VERSION,
    Database,
    Storage,
    backup_database,
    inspect_database,
)
from storage.maintenance import KEEP_MIGRATION_COPIES
from tests.storage.conftest import T0, new_task


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def copies(db_path: Path) -> list[str]:
    return sorted(p.name for p in db_path.parent.glob("*.bak"))


async def test_an_upgrade_keeps_a_copy_of_the_file_as_it_was(db_path: Path) -> None:
    """#16: migrations ran in place with no way back; now the old file is kept next to it."""
    old = await Database.open(db_path, target_version=1)
    async with old.transaction() as conn:
        await conn.execute("CREATE TABLE operator_note (text TEXT)")
        await conn.execute("INSERT INTO operator_note VALUES ('kept')")
    await old.close()

    db = await Database.open(db_path)
    await db.close()
    assert copies(db_path) == ["bot.sqlite3.before-v2.bak"]
    copy = db_path.parent / "bot.sqlite3.before-v2.bak"
    assert user_version(copy) == 1
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT text FROM operator_note").fetchall() == [("kept",)]
    assert user_version(db_path) == LATEST_VERSION


async def test_a_fresh_or_current_file_gets_no_copy_and_only_the_newest_few_are_kept(db_path: Path) -> None:
    db = await Database.open(db_path, target_version=1)  # a new file: nothing to keep
    await db.close()
    assert copies(db_path) == []
    for version in range(2, LATEST_VERSION + 1):
        db = await Database.open(db_path, target_version=version)
        await db.close()
    db = await Database.open(db_path)  # already current: no copy
    await db.close()
    expected = [f"bot.sqlite3.before-v{v}.bak" for v in range(2, LATEST_VERSION + 1)][-KEEP_MIGRATION_COPIES:]
    assert copies(db_path) == sorted(expected)


async def test_a_backup_while_the_bot_holds_the_database_is_complete(db_path: Path, tmp_path: Path) -> None:
    store = await Storage.open(db_path, default_limit_tenths=50, default_period="day")
    try:
        task = await store.quota.reserve(new_task(), now=T0)
        destination = tmp_path / "backup.sqlite3"
        await backup_database(db_path, destination)  # the bot's connection stays open (WAL mode)
        task2 = await store.quota.reserve(new_task(), now=T0)
    finally:
        await store.close()
    assert not (tmp_path / "backup.sqlite3.partial").exists()
    restored = await Storage.open(destination)
    try:
        assert await restored.tasks.get(task.id) == task
        ids = {t.id for t in await restored.tasks.unfinished()}
        assert task2.id not in ids  # written after the backup
    finally:
        await restored.close()


async def test_inspect_reads_without_creating(tmp_path: Path) -> None:
    missing = tmp_path / "nothing" / "bot.sqlite3"
    assert (await inspect_database(missing)).exists is False
    assert not missing.parent.exists()
