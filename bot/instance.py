"""One bot per database: a second copy on the same DATABASE_PATH is refused at start.

Two copies on one file would both submit the queue, poll and deliver the same tasks, and post every
video twice. The claim is an advisory ``flock`` on ``<database>.lock``, held for the process's life:
the kernel releases it when the process ends, however it ends, so a crash leaves nothing to clean up.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TextIO

try:
    import fcntl
except ImportError:  # not POSIX: no claim (the bot targets Linux hosts)
    fcntl = None  # type: ignore[assignment]


class AlreadyRunning(Exception):
    """Another process holds the database; ``str()`` is the line shown to the operator."""


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def claim(database: Path) -> TextIO | None:
    """Hold the database's lock until the returned file is closed (or the process ends)."""
    if fcntl is None:
        return None
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip()
        handle.close()
        raise AlreadyRunning(
            f"Another copy of the bot is running on DATABASE_PATH {database}"
            + (f" (process {holder})" if holder.isdigit() else "")
            + ": stop it first; two copies would post every video twice."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def release(handle: TextIO | None) -> None:
    if handle is not None:
        with contextlib.suppress(OSError):
            handle.close()
