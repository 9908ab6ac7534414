"""What a repository needs from a database, whichever engine is behind it.

Two implementations: :mod:`storage.db` (SQLite through ``aiosqlite``, the default) and
:mod:`storage.pg` (PostgreSQL through ``asyncpg``). Repositories write SQL once, in SQLite's
spelling with ``?`` or ``:name`` placeholders; the PostgreSQL connection translates it in one place
(:func:`storage.pg.translate`). Where the dialects truly differ a repository asks
:attr:`Connection.dialect`, which should stay rare.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol

from storage.errors import StorageError

Params = Sequence[Any] | dict[str, Any]
Dialect = Literal["sqlite", "postgresql"]


class Row(Protocol):
    """A result row, by position or by column name (``sqlite3.Row`` and ``asyncpg.Record`` both are)."""

    def __getitem__(self, key: Any, /) -> Any: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...

    def keys(self) -> Iterable[str]: ...


class Connection(Protocol):
    """One connection inside :meth:`Backend.transaction`, :meth:`Backend.read` or :meth:`Backend.snapshot`."""

    @property
    def dialect(self) -> Dialect: ...

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        ...

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...


class Backend(Protocol):
    """The database a :class:`storage.Storage` holds; every repository takes one."""

    @property
    def dialect(self) -> Dialect: ...

    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """A write transaction, serialised against every other writer (in any process)."""
        ...

    def row_locked(self) -> AbstractAsyncContextManager[Connection]:
        """A write transaction outside the single-writer order, for statements that pick their own
        rows under row locks (``FOR UPDATE SKIP LOCKED``: leases). SQLite has no row locks: there it
        is :meth:`transaction`. Nothing in it may read-then-write a fact another writer checks."""
        ...

    def read(self) -> AbstractAsyncContextManager[Connection]:
        """Each statement on its own (one query is atomic by itself)."""
        ...

    def snapshot(self) -> AbstractAsyncContextManager[Connection]:
        """A read transaction: several queries see one consistent state."""
        ...

    async def schema_version(self) -> int: ...

    async def integrity_check(self) -> str: ...

    async def close(self) -> None: ...


async def execute(conn: Connection, sql: str, params: Params = ()) -> int:
    return await conn.execute(sql, params)


async def fetch_all(conn: Connection, sql: str, params: Params = ()) -> list[Row]:
    return await conn.fetch_all(sql, params)


async def fetch_one(conn: Connection, sql: str, params: Params = ()) -> Row | None:
    rows = await conn.fetch_all(sql, params)
    return rows[0] if rows else None


async def fetch_int(conn: Connection, sql: str, params: Params = ()) -> int:
    """First column of the first row as an int; ``0`` for no row or NULL (sums over nothing)."""
    row = await fetch_one(conn, sql, params)
    return int(row[0]) if row is not None and row[0] is not None else 0


async def insert(conn: Connection, sql: str, params: Params = ()) -> int:
    """Run an ``INSERT`` of one row and return its ``id`` (``RETURNING``: both engines have it)."""
    row = await fetch_one(conn, f"{sql} RETURNING id", params)
    if row is None or row[0] is None:
        raise StorageError("insert produced no row id")
    return int(row[0])


def upsert_sql(table: str, keys: Sequence[str], columns: Sequence[str]) -> str:
    """``INSERT`` a whole row, or overwrite ``columns`` of the row with these ``keys``.

    The spelling both engines share (SQLite's ``INSERT OR REPLACE`` is not PostgreSQL's), with one
    ``?`` per key then per column.
    """
    names = [*keys, *columns]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
    return (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )
