"""Moving a bot from SQLite to PostgreSQL: copy every row, then prove the copy is whole.

``python -m bot migrate-db --to postgresql://…`` calls :func:`copy_sqlite_to_postgres`. The target
must be empty (a database this bot has never written to, or one where it wrote nothing): copying
into live data would merge two ledgers. The copy runs in one PostgreSQL transaction, so a failure
leaves the target as it was; afterwards every table's row count and every member's ledger balance
are compared between the two databases.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storage.backend import Connection, Row, fetch_all, fetch_int
from storage.db import Database
from storage.errors import StorageError
from storage.pg import PgDatabase

# Copied first: other tables reference pools (tasks.pool_id, ledger.pool_id) and tasks
# (ledger.task_id). Everything else in any order.
_FIRST = ("pools", "tasks")
_BALANCES = (
    "SELECT kind, guild_id, user_id, COUNT(*), SUM(tenths) FROM ledger "
    "GROUP BY kind, guild_id, user_id ORDER BY kind, guild_id, user_id"
)


class TargetNotEmpty(StorageError):
    def __init__(self, tables: dict[str, int]) -> None:
        listed = ", ".join(f"{name} ({rows} rows)" for name, rows in tables.items())
        super().__init__(f"the target database is not empty: {listed}; migrate into an empty database")


class CopyMismatch(StorageError):
    """The copy does not match its source (nothing was committed)."""


@dataclass(frozen=True)
class CopyReport:
    rows: dict[str, int]  # table → rows copied
    ledger_tenths: int  # sum of every ledger row, equal on both sides


async def _tables(conn: Connection) -> list[tuple[str, list[str]]]:
    names = [
        str(r[0])
        for r in await fetch_all(
            conn,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
    ]
    ordered = [n for n in _FIRST if n in names] + [n for n in names if n not in _FIRST]
    tables = []
    for name in ordered:
        columns = [str(r[1]) for r in await fetch_all(conn, f"PRAGMA table_info({name})")]
        tables.append((name, columns))
    return tables


async def _counts(conn: Connection, tables: list[str]) -> dict[str, int]:
    return {name: await fetch_int(conn, f"SELECT COUNT(*) FROM {name}") for name in tables}


def _balances(rows: list[Row]) -> list[tuple[object, ...]]:
    return [tuple(row) for row in rows]


async def copy_sqlite_to_postgres(source: Path, url: str) -> CopyReport:
    """Copy the SQLite database at ``source`` into the empty PostgreSQL database at ``url``.

    Both are migrated to the newest schema first. Raises :class:`TargetNotEmpty` for a target with
    rows, :class:`CopyMismatch` when the verification fails (the transaction is then rolled back).
    """
    sqlite = await Database.open(source)
    try:
        postgres = await PgDatabase.open(url)
        try:
            return await _copy(sqlite, postgres)
        finally:
            await postgres.close()
    finally:
        await sqlite.close()


async def _copy(sqlite: Database, postgres: PgDatabase) -> CopyReport:
    async with sqlite.snapshot() as src:
        tables = await _tables(src)
        names = [name for name, _ in tables]
        source_counts = await _counts(src, names)
        source_balances = _balances(await fetch_all(src, _BALANCES))
        async with postgres.transaction() as dst:
            present = {name: rows for name, rows in (await _counts(dst, names)).items() if rows}
            if present:
                raise TargetNotEmpty(present)
            for name, columns in tables:
                rows = await fetch_all(src, f"SELECT {', '.join(columns)} FROM {name} ORDER BY rowid")
                await postgres.copy_rows(dst, name, columns, [tuple(row) for row in rows])
                if "id" in columns:
                    # Ids were copied as they were: the identity must continue after the highest.
                    await dst.execute(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {name}"
                    )
            copied = await _counts(dst, names)
            if copied != source_counts:
                raise CopyMismatch(f"row counts differ after the copy: {copied} vs {source_counts}")
            if _balances(await fetch_all(dst, _BALANCES)) != source_balances:
                raise CopyMismatch("ledger balances differ after the copy")
            total = await fetch_int(dst, "SELECT SUM(tenths) FROM ledger")
    return CopyReport(source_counts, total)
