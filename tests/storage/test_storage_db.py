"""The connection's transactions: rollback on error or cancellation, and no silent deadlock."""

from __future__ import annotations

import asyncio

import aiosqlite
import pytest

from storage import Database, DatabaseDamaged, DatabaseError, DatabaseUnavailable, Storage, StorageError
from storage.backend import fetch_one
from tests.builders import write_damaged_database

T0 = 1_715_774_400.0  # 2024-05-15 12:00 UTC


async def test_failed_transaction_rolls_back(store: Storage, make_task) -> None:
    with pytest.raises(RuntimeError):
        async with store.db.transaction() as conn:
            await conn.execute("INSERT INTO user_prefs (user_id, dm_results) VALUES (1, 1)")
            raise RuntimeError("boom")
    async with store.db.read() as conn:
        assert (await fetch_one(conn, "SELECT COUNT(*) FROM user_prefs"))[0] == 0
    # The connection is usable afterwards.
    assert (await store.quota.reserve(make_task(), now=T0)).id == 1


async def test_nested_transaction_is_refused_instead_of_hanging(store: Storage) -> None:
    async with store.db.transaction():
        with pytest.raises(StorageError, match="Nested"):
            async with store.db.read():
                pass


async def test_cancelled_transaction_rolls_back_and_frees_the_connection(store: Storage) -> None:
    entered = asyncio.Event()

    async def stuck() -> None:
        async with store.db.transaction() as conn:
            await conn.execute("INSERT INTO user_prefs (user_id, dm_results) VALUES (1, 1)")
            entered.set()
            await asyncio.Event().wait()  # never set: cancelled from outside

    task = asyncio.create_task(stuck())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with store.db.read() as conn:
        assert (await fetch_one(conn, "SELECT COUNT(*) FROM user_prefs"))[0] == 0


async def reserve_cancelled_after(store: Storage, make_task, k: int) -> object:
    """Reserve, cancelling the call right after its k-th SQL statement ran; return the outcome."""
    loop = asyncio.get_running_loop()
    statements = 0
    task = asyncio.create_task(store.quota.reserve(make_task(cost_tenths=1), now=T0))

    def trace(_sql: str) -> None:
        nonlocal statements
        statements += 1
        if statements == k:
            loop.call_soon_threadsafe(task.cancel)

    await store.db.set_trace_callback(trace)
    try:
        return (await asyncio.gather(task, return_exceptions=True))[0]
    finally:
        await store.db.set_trace_callback(None)


@pytest.mark.sqlite_only  # SQLite's query plans / trace callback
async def test_cancellation_at_any_statement_keeps_ledger_in_step(store: Storage, make_task) -> None:
    outcomes = [await reserve_cancelled_after(store, make_task, k) for k in range(1, 16)]
    assert isinstance(outcomes[0], asyncio.CancelledError)
    assert not isinstance(outcomes[-1], BaseException)  # cancelled after it had finished

    await store.quota.reserve(make_task(cost_tenths=1), now=T0)  # the connection still works
    async with store.db.read() as conn:
        row = await fetch_one(
            conn,
            "SELECT (SELECT COUNT(*) FROM tasks), (SELECT COUNT(*) FROM ledger WHERE kind = 'reserve'), "
            "(SELECT COUNT(*) FROM tasks t WHERE NOT EXISTS "
            "  (SELECT 1 FROM ledger l WHERE l.task_id = t.id AND l.kind = 'reserve'))",
        )
        tasks, reserves, orphans = row
    succeeded = sum(not isinstance(o, BaseException) for o in outcomes)
    assert (reserves, orphans) == (tasks, 0)
    # A cancel landing while COMMIT runs cannot un-commit: that caller sees CancelledError for a
    # reservation that exists (restart recovery finds it among the unfinished tasks).
    assert tasks - 1 - succeeded in (0, 1)
    assert (await store.quota.usage(1000, 3000, now=T0)).used_tenths == tasks


async def test_a_directory_is_refused_with_a_typed_error(tmp_path) -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        await Storage.open(tmp_path)
    assert "is a directory" in str(caught.value)
    assert str(tmp_path) in str(caught.value)


async def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path) -> None:
    path = tmp_path / "notes.txt"
    text = "this is a shopping list, not a database\n" * 20
    path.write_text(text)
    with pytest.raises(DatabaseUnavailable) as caught:
        await Storage.open(path)
    assert "not a SQLite database" in caught.value.reason
    assert isinstance(caught.value, StorageError)
    assert path.read_text() == text


async def test_a_damaged_file_is_refused_at_open_and_left_untouched(tmp_path) -> None:
    """Before the quick check the file opened and migrated; the damage surfaced mid-request later."""
    path = write_damaged_database(tmp_path / "bot.sqlite3")
    before = path.read_bytes()
    with pytest.raises(DatabaseDamaged) as caught:
        await Storage.open(path)
    assert isinstance(caught.value, DatabaseUnavailable)  # every handler of an unusable file takes it
    message = str(caught.value)
    assert "DATABASE_PATH" in message and str(path) in message and "damaged" in message
    assert "\n" not in message and "restore a backup" in caught.value.reason
    assert path.read_bytes() == before


async def test_an_integrity_check_sqlite_cannot_finish_is_a_storage_error(tmp_path) -> None:
    """A file damaged after it was opened: the check raised sqlite3's own error (a traceback in --check)."""
    path = write_damaged_database(tmp_path / "bot.sqlite3")
    db = Database(await aiosqlite.connect(path, isolation_level=None), path)  # past the open-time check
    try:
        with pytest.raises(DatabaseError):
            await db.integrity_check()
    finally:
        await db.close()


async def test_an_uncreatable_directory_is_refused_with_a_typed_error(tmp_path) -> None:
    (tmp_path / "plain-file").write_text("x")
    with pytest.raises(DatabaseUnavailable, match="directory cannot be created"):
        await Storage.open(tmp_path / "plain-file" / "bot.sqlite3")


async def test_a_locked_file_at_run_time_is_a_storage_error_and_changes_nothing(tmp_path, make_task) -> None:
    """Callers catch StorageError: a raw sqlite3 error would slip past them (a stranded task)."""
    import sqlite3

    path = tmp_path / "locked.sqlite3"
    store = await Storage.open(path, busy_timeout_ms=50)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the busy timeout
        with pytest.raises(DatabaseError, match="locked"):
            await store.quota.reserve(make_task(), now=T0)
        other.execute("ROLLBACK")
        assert await store.tasks.unfinished() == []
        assert (await store.quota.reserve(make_task(), now=T0)).id == 1  # usable again
    finally:
        other.close()
        await store.close()
