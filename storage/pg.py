"""The PostgreSQL backend (``asyncpg``): the same repositories, the same guarantees as SQLite.

Chosen by ``DATABASE_URL=postgresql://…``. A pool of connections serves many processes at once;
what SQLite gets from ``BEGIN IMMEDIATE`` (one writer at a time, so a reservation's reads and its
writes cannot interleave with another's) every write transaction here gets from one transaction-level
advisory lock, taken first, in every process alike. Reads and snapshots take no lock.

Repositories write SQLite's spelling; :func:`translate` turns it into PostgreSQL's in one place:
``?`` and ``:name`` placeholders become ``$n``, and ``IS ?`` (SQLite's NULL-safe equality) becomes
``IS NOT DISTINCT FROM $n``. Sums over ``BIGINT`` come back as ``numeric``; rows turn those into
``int`` so callers see what SQLite gives them.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from storage.backend import Connection, Params, Row, fetch_int
from storage.errors import (
    ConstraintViolated,
    DatabaseError,
    DatabaseUnavailable,
    SchemaTooNew,
    StorageError,
)
from storage.migrations_pg import LATEST_VERSION, PG_MIGRATIONS

URL_SCHEMES = ("postgresql://", "postgres://")

# Every write transaction of every process takes this one lock (pg_advisory_xact_lock): writers
# run one at a time, as on SQLite. The number is arbitrary but fixed ("video" in ASCII).
WRITE_LOCK_KEY = 0x766964656F

if TYPE_CHECKING:  # the proxy is generic only in the stubs
    from asyncpg.pool import PoolConnectionProxy

    _Pooled = PoolConnectionProxy[asyncpg.Record]
_FAILURES = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(URL_SCHEMES)


def redact(url: str) -> str:
    """The URL without its password, for messages and logs (never raises, even for a bad URL)."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query, parts.fragment))


_TOKEN = re.compile(r"'(?:[^']|'')*'|--[^\n]*|::|\?|:[A-Za-z_][A-Za-z0-9_]*")


@lru_cache(maxsize=1024)
def translate(sql: str) -> tuple[str, tuple[str, ...] | None]:
    """SQLite-spelled SQL → PostgreSQL's, and the names of its ``:name`` placeholders in ``$n``
    order (``None`` when it uses ``?``). String literals and comments are left alone."""
    names: list[str] = []
    positional = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal positional
        token = match.group(0)
        if token.startswith(("'", "--")) or token == "::":
            return token
        if token == "?":
            positional += 1
            return f"${positional}"
        name = token[1:]
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    text = _TOKEN.sub(replace, sql)
    if names and positional:
        raise StorageError("SQL mixes ? and :name placeholders")
    text = re.sub(r"\bIS\s+NOT\s+(\$\d+)", r"IS DISTINCT FROM \1", text)
    text = re.sub(r"\bIS\s+(\$\d+)", r"IS NOT DISTINCT FROM \1", text)
    return text, (tuple(names) if names else None)


def _bind(sql: str, params: Params) -> tuple[str, list[Any]]:
    text, names = translate(sql)
    if names is None:
        return text, list(params.values()) if isinstance(params, dict) else list(params)
    if not isinstance(params, dict):
        raise StorageError("SQL with :name placeholders needs a dict of values")
    return text, [params[name] for name in names]


class _Row:
    """A record whose ``numeric`` values (sums) were made ``int`` or ``float``."""

    __slots__ = ("_keys", "_values")

    def __init__(self, record: asyncpg.Record) -> None:
        self._keys = list(record.keys())
        self._values = [_plain(value) for value in record.values()]

    def __getitem__(self, key: Any, /) -> Any:
        if isinstance(key, str):
            return self._values[self._keys.index(key)]
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def keys(self) -> Iterable[str]:
        return list(self._keys)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _row(record: asyncpg.Record) -> Row:
    if any(isinstance(value, Decimal) for value in record.values()):
        return _Row(record)
    row: Row = record
    return row


def _status_count(status: str) -> int:
    """``"UPDATE 3"`` → 3; statements without a count → 0."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PgConnection:
    """One pooled asyncpg connection behind :class:`storage.backend.Connection`."""

    dialect: Literal["postgresql"] = "postgresql"

    def __init__(self, conn: asyncpg.Connection[asyncpg.Record] | _Pooled) -> None:
        self.raw = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        text, args = _bind(sql, params)
        try:
            status = await self.raw.execute(text, *args)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise ConstraintViolated(str(exc)) from exc
        return _status_count(str(status))

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        text, args = _bind(sql, params)
        try:
            records = await self.raw.fetch(text, *args)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise ConstraintViolated(str(exc)) from exc
        return [_row(record) for record in records]


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"PostgreSQL reports: {text[:200]}"


class PgDatabase:
    """A pool of connections to one PostgreSQL database; the :class:`storage.backend.Backend` for it."""

    dialect: Literal["postgresql"] = "postgresql"

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self.url = redact(url)
        self._owners: set[asyncio.Task[Any]] = set()
        # This process's writers queue here, not on the server: a writer waiting for the advisory
        # lock would otherwise hold a pooled connection the readers need.
        self._writer = asyncio.Lock()

    @classmethod
    async def open(
        cls, url: str, *, target_version: int | None = None, max_connections: int = 10
    ) -> PgDatabase:
        """Connect and migrate to ``target_version`` (default: the newest schema).

        Raises :class:`DatabaseUnavailable` (with the URL's password hidden) when the server cannot
        be reached or refuses us, and :class:`SchemaTooNew` when a newer bot migrated it.
        """
        try:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=max_connections)
        except _FAILURES as exc:
            raise DatabaseUnavailable(redact(url), _reason(exc)) from None
        except ValueError:  # a malformed URL (its message may quote any part of it)
            raise DatabaseUnavailable(
                redact(url),
                "DATABASE_URL is not a valid postgresql:// URL (check the host, port and options)",
            ) from None
        db = cls(pool, url)
        try:
            await db._migrate(LATEST_VERSION if target_version is None else target_version)
        except DatabaseError as exc:
            await pool.close()
            raise DatabaseUnavailable(db.url, str(exc)) from exc
        except BaseException:
            await pool.close()
            raise
        return db

    async def close(self) -> None:
        await self._pool.close()

    async def __aenter__(self) -> PgDatabase:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _migrate(self, target: int) -> None:
        """All pending steps and the version bump in one transaction, under the write lock (another
        process starting at the same moment waits, then finds the work done)."""
        async with self.transaction() as conn:
            await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            current = await fetch_int(conn, "SELECT MAX(version) FROM schema_version")
            if current > LATEST_VERSION:
                raise SchemaTooNew(current, LATEST_VERSION)
            pending = [m for m in PG_MIGRATIONS if current < m.version <= target]
            for migration in pending:
                for statement in migration.statements:
                    await conn.execute(statement)
            if pending:
                await conn.execute("DELETE FROM schema_version")
                await conn.execute("INSERT INTO schema_version (version) VALUES (?)", (pending[-1].version,))

    async def schema_version(self) -> int:
        async with self.read() as conn:
            return await fetch_int(conn, "SELECT MAX(version) FROM schema_version")

    async def integrity_check(self) -> str:
        """``"ok"`` when the server answers at the schema this code expects (PostgreSQL checks its
        own pages; there is no cheap whole-database check to run here)."""
        version = await self.schema_version()
        return "ok" if version == LATEST_VERSION else f"schema version {version}, expected {LATEST_VERSION}"

    async def copy_rows(
        self, conn: Connection, table: str, columns: list[str], rows: list[tuple[object, ...]]
    ) -> None:
        """Bulk-load rows inside ``conn``'s transaction (PostgreSQL's COPY: one round trip)."""
        if not isinstance(conn, PgConnection):
            raise StorageError("copy_rows needs a connection of this database")
        if rows:
            await conn.raw.copy_records_to_table(table, records=rows, columns=columns)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A write transaction, one at a time across every process (the advisory lock)."""
        async with self._connection(write=True) as raw, raw.transaction():
            await raw.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK_KEY)
            yield PgConnection(raw)

    @asynccontextmanager
    async def row_locked(self) -> AsyncIterator[Connection]:
        """A transaction without the advisory lock: its statements lock only the rows they pick
        (``FOR UPDATE SKIP LOCKED``), so lease renewals never queue behind the writers."""
        async with self._connection() as raw, raw.transaction():
            yield PgConnection(raw)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        async with self._connection() as raw:
            yield PgConnection(raw)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Connection]:
        async with self._connection() as raw, raw.transaction(isolation="repeatable_read", readonly=True):
            yield PgConnection(raw)

    @asynccontextmanager
    async def _connection(self, *, write: bool = False) -> AsyncIterator[_Pooled]:
        current = asyncio.current_task()
        if current is not None and current in self._owners:
            # The inner block would wait for the outer one's lock (or pool slot) forever.
            raise StorageError("Nested database transaction: a repository was called inside another.")
        if current is not None:
            self._owners.add(current)
        try:
            async with contextlib.AsyncExitStack() as stack:
                if write:
                    await stack.enter_async_context(self._writer)
                raw = await stack.enter_async_context(self._pool.acquire())
                yield raw
        except _FAILURES as exc:
            raise DatabaseError(_reason(exc)) from exc
        finally:
            if current is not None:
                self._owners.discard(current)


async def inspect_postgres(url: str) -> int:
    """The schema version of the database at ``url`` (0: never migrated), read without writing.

    ``--check`` looks through this: it creates no table and migrates nothing. Raises
    :class:`DatabaseUnavailable` (the password hidden) when the server cannot be reached.
    """
    try:
        conn = await asyncpg.connect(url)
    except _FAILURES as exc:
        raise DatabaseUnavailable(redact(url), _reason(exc)) from None
    except ValueError:
        raise DatabaseUnavailable(
            redact(url), "DATABASE_URL is not a valid postgresql:// URL (check the host, port and options)"
        ) from None
    try:
        if await conn.fetchval("SELECT to_regclass('schema_version')") is None:
            return 0
        return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))
    except _FAILURES as exc:
        raise DatabaseUnavailable(redact(url), _reason(exc)) from None
    finally:
        await conn.close()
