"""The operator's tools on the database file: look without touching, back up while running, and the
copy kept before a migration.

Backups use SQLite's online backup API (``Connection.backup``): it copies a consistent state of the
file page by page while the bot keeps writing (a plain ``cp`` of a WAL database can copy a state
that never existed). Nothing here migrates or creates a database except the backup file itself.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from storage.errors import DatabaseDamaged, DatabaseUnavailable

# How many pre-migration copies are kept next to the database (the oldest are removed).
KEEP_MIGRATION_COPIES = 3


def _read_only_uri(path: Path) -> str | None:
    """The URI that opens ``path`` without write access (and never creates it); None when missing."""
    return f"{path.resolve().as_uri()}?mode=ro" if path.is_file() or path.exists() else None


@dataclass(frozen=True)
class DatabaseFacts:
    """What ``--check`` reports about a database file without opening it for writing."""

    exists: bool
    version: int = 0
    integrity: str = "ok"


async def inspect_database(path: Path) -> DatabaseFacts:
    """Read the schema version and check integrity through a read-only connection.

    A missing file is not created (``mode=ro``); a file that is not SQLite raises
    :class:`DatabaseUnavailable` with the reason.
    """
    from storage.db import describe_sqlite_error, is_corrupt, one_line, quick_check

    uri = await asyncio.to_thread(_read_only_uri, path)
    if uri is None:
        return DatabaseFacts(exists=False)
    try:
        async with aiosqlite.connect(uri, uri=True) as conn:
            cursor = await conn.execute("PRAGMA user_version")
            row = await cursor.fetchone()
            version = int(row[0]) if row else 0
            # The same check start-up runs, so --check and a start agree on what "damaged" means.
            problems = await quick_check(conn)
    except sqlite3.Error as exc:
        if is_corrupt(exc):
            raise DatabaseDamaged(path, one_line(str(exc))) from exc
        raise DatabaseUnavailable(path, describe_sqlite_error(exc)) from exc
    if problems is not None:
        raise DatabaseDamaged(path, problems)
    return DatabaseFacts(exists=True, version=version, integrity="ok")


async def backup_database(source: Path, destination: Path) -> None:
    """A consistent copy of ``source`` at ``destination``, safe while the bot runs.

    Written to a temporary name first, then renamed: a half-written backup never carries the name.
    """
    from storage.db import describe_sqlite_error

    uri = await asyncio.to_thread(_read_only_uri, source)
    if uri is None:
        raise DatabaseUnavailable(source, "there is no database file there to back up")
    partial = destination.with_name(destination.name + ".partial")
    try:
        async with (
            aiosqlite.connect(uri, uri=True) as conn,
            aiosqlite.connect(partial) as target,
        ):
            await conn.execute("PRAGMA busy_timeout = 10000")
            await conn.backup(target)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise DatabaseUnavailable(source, describe_sqlite_error(exc)) from exc
    partial.replace(destination)


def migration_copy_path(path: Path, version: int) -> Path:
    return path.with_name(f"{path.name}.before-v{version + 1}.bak")


async def copy_before_migration(conn: aiosqlite.Connection, path: Path, version: int) -> Path:
    """Copy the database (schema ``version``) next to itself before a migration changes it, and keep
    only the newest :data:`KEEP_MIGRATION_COPIES` such copies."""
    destination = migration_copy_path(path, version)
    partial = destination.with_name(destination.name + ".partial")
    async with aiosqlite.connect(partial) as target:
        await conn.backup(target)
    partial.replace(destination)
    copies = sorted(path.parent.glob(f"{path.name}.before-v*.bak"), key=lambda p: _copy_version(p, path.name))
    for old in copies[:-KEEP_MIGRATION_COPIES]:
        old.unlink(missing_ok=True)
    return destination


def _copy_version(copy: Path, name: str) -> int:
    middle = copy.name[len(name) + len(".before-v") : -len(".bak")]
    return int(middle) if middle.isdigit() else 0
