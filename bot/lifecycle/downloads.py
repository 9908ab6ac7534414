"""The folder videos are downloaded to before upload: where it is, who may read it, what a crash left.

By default it is a private folder (mode 0700) next to the database, ``data/videobot.sqlite3`` →
``data/videobot-downloads/``: not a predictable name in the shared temp folder, where another local
user could read members' videos, or plant a file or link under the name the bot will write. A folder
the operator names with ``DOWNLOAD_DIR`` is created 0700 when missing; an existing one keeps its mode
(it is theirs).

A delivery removes its file once posted, but a crash (or a kill) between download and post leaves
it, or a partial ``.part``: start-up removes those, and only those (the delivery's own names), since
the folder may be one the operator also uses for other things.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

DOWNLOAD_PREFIX = "task-"  # every file a delivery writes is task-<id>-<random>.mp4 (+ ".part")
_LEFTOVER_SUFFIXES = (".mp4", ".mp4.part", ".png", ".jpg")  # .png: an Extend's frames; .jpg: a poster
PRIVATE_MODE = 0o700


def default_download_dir(database_path: Path) -> Path:
    """The private folder next to the database (the default of ``DOWNLOAD_DIR``)."""
    return database_path.with_name(f"{database_path.stem}-downloads")


def prepare_download_dir(path: Path, *, private: bool) -> int:
    """Create ``path`` (mode 0700) and remove what an earlier run left in it; returns how many files.

    ``private``: the folder is the bot's own (the default), so it is made 0700 even if it existed.
    """
    created = not path.exists()
    path.mkdir(mode=PRIVATE_MODE, parents=True, exist_ok=True)
    if created or private:
        os.chmod(path, PRIVATE_MODE)  # mkdir's mode is masked by the umask; this is not
    removed = 0
    for entry in path.iterdir():
        if entry.name.startswith(DOWNLOAD_PREFIX) and entry.name.endswith(_LEFTOVER_SUFFIXES):
            with contextlib.suppress(FileNotFoundError):
                if entry.is_file() or entry.is_symlink():
                    entry.unlink()
                    removed += 1
    if removed:
        log.info("Removed %d leftover download file(s) from %s", removed, path)
    return removed
