"""The one connection the bot owns, its transactions, and schema migration at open.

A single aiosqlite connection is shared by every coroutine, so an ``asyncio.Lock`` guards each
transaction: without it two coroutines would interleave statements inside one SQLite transaction.
Writes use ``BEGIN IMMEDIATE`` so the write lock is taken up front (another process waits on
``busy_timeout`` instead of failing half-way with ``SQLITE_BUSY``).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import aiosqlite

from storage.backend import Connection, Params, Row, execute, fetch_all, fetch_int, fetch_one, insert
from storage.errors import (
    ConstraintViolated,
    DatabaseDamaged,
    DatabaseError,
    DatabaseUnavailable,
    SchemaTooNew,
    StorageError,
)
from storage.migrations import LATEST_VERSION, MIGRATIONS

__all__ = [
    "Connection",
    "Database",
    "Row",
    "SqliteConnection",
    "execute",
    "fetch_all",
    "fetch_int",
    "fetch_one",
    "insert",
]


class SqliteConnection:
    """The shared aiosqlite connection behind :class:`storage.backend.Connection`.

    Each call is one trip to aiosqlite's thread; SQLite's integrity errors become
    :class:`ConstraintViolated` so repositories need not know the engine.
    """

    dialect: Literal["sqlite"] = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.raw = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        try:
            cursor = await self.raw.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise ConstraintViolated(str(exc)) from exc
        return cursor.rowcount

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            return list(await self.raw.execute_fetchall(sql, params))
        except sqlite3.IntegrityError as exc:
            raise ConstraintViolated(str(exc)) from exc


class Database:
    """Owns the connection; use :meth:`open`, then :meth:`transaction` / :meth:`read`, then :meth:`close`."""

    dialect: Literal["sqlite"] = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self._wrapped = SqliteConnection(conn)
        self.path = path
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None

    @classmethod
    async def open(
        cls, path: str | Path, *, busy_timeout_ms: int = 10_000, target_version: int | None = None
    ) -> Database:
        """Open (creating the file and its directory), configure, and migrate to ``target_version``.

        ``target_version`` defaults to the newest schema; tests pass an older one to build old files.
        Raises :class:`SchemaTooNew` when the file is newer than this code, :class:`DatabaseDamaged`
        when SQLite's quick check finds it damaged, and :class:`DatabaseUnavailable` (never a raw
        ``sqlite3`` or ``OSError``) when the file cannot be used at all, so start-up can say what is
        wrong in one line.
        """
        path = Path(path)
        if path.is_dir():
            raise DatabaseUnavailable(path, "it is a directory; DATABASE_PATH must name a file")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailable(
                path, f"its directory cannot be created ({exc.strerror or type(exc).__name__})"
            ) from None
        try:
            return await cls._connect_and_migrate(path, busy_timeout_ms, target_version)
        except sqlite3.Error as exc:
            if is_corrupt(exc):
                raise DatabaseDamaged(path, one_line(str(exc))) from exc
            raise DatabaseUnavailable(path, describe_sqlite_error(exc)) from exc
        except DatabaseError as exc:  # a migration step's transaction failed
            raise DatabaseUnavailable(path, str(exc)) from exc

    @classmethod
    async def _connect_and_migrate(
        cls, path: Path, busy_timeout_ms: int, target_version: int | None
    ) -> Database:
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            found = await _user_version(conn)
            if found > LATEST_VERSION:
                # Refuse before any pragma below could touch a file written by a newer bot.
                raise SchemaTooNew(found, LATEST_VERSION)
            # Before anything writes: a damaged file found now stops start-up with one clear line,
            # instead of failing later in the middle of some member's request (or migrating it).
            problems = await quick_check(conn)
            if problems is not None:
                raise DatabaseDamaged(path, problems)
            await conn.execute("PRAGMA journal_mode = WAL")
            # FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss, and a lost
            # ``queued → submitting`` could let a restart submit (and pay for) the same video twice.
            await conn.execute("PRAGMA synchronous = FULL")
            await conn.execute("PRAGMA foreign_keys = ON")
            db = cls(conn, path)
            target = LATEST_VERSION if target_version is None else target_version
            if 0 < found < target:
                # An upgrade: keep a copy of the file as it was, next to it (the newest few).
                from storage.maintenance import copy_before_migration

                await copy_before_migration(conn, path, found)
            await db._migrate(target)
        except BaseException:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _migrate(self, target: int) -> None:
        for migration in MIGRATIONS:
            if migration.version > target:
                break
            async with self.transaction() as conn:
                # Read again under the write lock: another process may have migrated meanwhile.
                current = await _user_version(conn)
                if current > LATEST_VERSION:
                    raise SchemaTooNew(current, LATEST_VERSION)
                if current >= migration.version:
                    continue
                for statement in migration.statements:
                    await conn.execute(statement)
                await conn.execute(f"PRAGMA user_version = {migration.version}")

    async def schema_version(self) -> int:
        async with self.read() as conn:
            return await _user_version(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A write transaction: all statements inside commit together or not at all.

        An exception or a cancellation inside rolls back. A cancellation that lands while COMMIT
        runs cannot undo it: the caller sees ``CancelledError`` for work that was saved, exactly
        as after a crash at that instant, which is why recovery reads the database, not memory.
        """
        async with self._exclusive("BEGIN IMMEDIATE") as conn:
            yield conn

    @asynccontextmanager
    async def row_locked(self) -> AsyncIterator[Connection]:
        """SQLite locks the whole file, not rows: a plain write transaction."""
        async with self._exclusive("BEGIN IMMEDIATE") as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        """The connection for reads, each statement on its own (one query is atomic by itself)."""
        async with self._exclusive(None) as conn:
            yield conn

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Connection]:
        """A read transaction: several queries see one consistent state of the file."""
        async with self._exclusive("BEGIN") as conn:
            yield conn

    @asynccontextmanager
    async def _exclusive(self, begin: str | None) -> AsyncIterator[Connection]:
        current = asyncio.current_task()
        if current is not None and self._owner is current:
            # asyncio.Lock is not reentrant: waiting here would hang forever.
            raise StorageError("Nested database transaction: a repository was called inside another.")
        async with self._lock:
            self._owner = current
            try:
                if begin is None:
                    yield self._wrapped
                    return
                try:
                    await self._conn.execute(begin)
                    yield self._wrapped
                except BaseException:
                    # Unconditional: if a cancellation interrupted the BEGIN, it may still run in
                    # aiosqlite's thread; this rollback is queued after it (a no-op without one).
                    await asyncio.shield(self._conn.rollback())
                    raise
                await asyncio.shield(self._conn.commit())
            except sqlite3.Error as exc:
                raise DatabaseError(describe_sqlite_error(exc)) from exc
            finally:
                self._owner = None

    async def set_trace_callback(self, callback: Callable[[str], object] | None) -> None:
        """Receive every SQL statement run (with its values); for debugging and query-plan tests."""
        # None switches tracing off (sqlite3's API); aiosqlite's annotation forgets that case.
        await self._conn.set_trace_callback(callback)  # type: ignore[arg-type]

    async def integrity_check(self) -> str:
        """``"ok"`` for a sound file, otherwise SQLite's list of problems.

        Raises :class:`DatabaseError` when SQLite cannot even finish the check (a damaged page it
        has to read): the caller reports it like any other storage failure.
        """
        async with self._exclusive(None) as conn:
            rows = await fetch_all(conn, "PRAGMA integrity_check")
        return "\n".join(str(row[0]) for row in rows)


_SQLITE_REASONS = {
    "SQLITE_NOTADB": "it is not a SQLite database (or it is encrypted); check DATABASE_PATH",
    "SQLITE_CANTOPEN": "SQLite cannot open the file; check the path and its permissions",
    "SQLITE_PERM": "permission denied; check the file's permissions",
    "SQLITE_READONLY": "the file or its directory is read-only",
    "SQLITE_BUSY": "it is locked by another process (is another copy of the bot running?)",
    "SQLITE_LOCKED": "it is locked by another process (is another copy of the bot running?)",
    "SQLITE_CORRUPT": "the file is damaged; restore a backup",
    "SQLITE_FULL": "the disk is full",
    "SQLITE_IOERR": "the disk reported an I/O error",
}


def is_corrupt(exc: sqlite3.Error) -> bool:
    return str(getattr(exc, "sqlite_errorname", "") or "").startswith("SQLITE_CORRUPT")


def one_line(text: str, limit: int = 200) -> str:
    flat = "; ".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


async def quick_check(conn: aiosqlite.Connection) -> str | None:
    """SQLite's ``quick_check`` (every page and row readable; no index cross-check, so it reads the
    file once): ``None`` for a sound file, else its first problems on one line."""
    rows = list(await conn.execute_fetchall("PRAGMA quick_check(5)"))
    found = [str(row[0]) for row in rows]
    if found == ["ok"]:
        return None
    return one_line("\n".join(line for line in found if not line.startswith("*** ")) or "\n".join(found))


def describe_sqlite_error(exc: sqlite3.Error) -> str:
    """An operator-facing reason for a SQLite failure at open (SQLite's messages hold no secrets)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    for code, reason in _SQLITE_REASONS.items():
        if name.startswith(code):  # extended codes such as SQLITE_IOERR_READ share the prefix
            return reason
    return f"SQLite reports: {exc}"


async def _user_version(conn: aiosqlite.Connection | Connection) -> int:
    if isinstance(conn, aiosqlite.Connection):
        conn = SqliteConnection(conn)
    return await fetch_int(conn, "PRAGMA user_version")
