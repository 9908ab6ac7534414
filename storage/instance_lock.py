"""One bot process per SQLite file: an exclusive lock on ``<database>.lock`` held while it runs.

SQLite itself would let a second process in (each transaction waits its turn), and two bots would
then both poll, deliver and notify the same tasks. The lock turns that into one clear refusal at
start. ``flock`` locks vanish with the process, so a crash never leaves a stale lock behind.
Several processes share one database on PostgreSQL (``DATABASE_URL``), never on SQLite.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from storage.errors import StorageError


class DatabaseInUse(StorageError):
    def __init__(self, path: Path) -> None:
        super().__init__(
            f"Another bot process is using {path} (it holds {lock_path(path)}): stop it first. "
            "SQLite serves one process; to run several, use PostgreSQL (DATABASE_URL)."
        )
        self.path = path


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


class InstanceLock:
    """Held from :func:`acquire` until :meth:`release` (or the process ends)."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def acquire(database: Path) -> InstanceLock:
    """Take the lock of the SQLite file ``database`` or raise :class:`DatabaseInUse` at once."""
    path = lock_path(Path(database))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DatabaseInUse(Path(database)) from None
    except BaseException:
        os.close(fd)
        raise
    return InstanceLock(fd, path)
