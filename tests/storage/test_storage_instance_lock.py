"""One bot process per SQLite file: the lock next to the database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from storage import DatabaseInUse, acquire_instance_lock

HOLD = (
    "import sys\n"
    "from storage import acquire_instance_lock\n"
    "lock = acquire_instance_lock(sys.argv[1])\n"
    "print('held', flush=True)\n"
    "sys.stdin.readline()\n"
)


def test_the_lock_is_exclusive_until_released(db_path: Path) -> None:
    with acquire_instance_lock(db_path) as first:
        assert first.path == db_path.with_name("bot.sqlite3.lock")
        with pytest.raises(DatabaseInUse, match="Another bot process is using"):
            acquire_instance_lock(db_path)
    acquire_instance_lock(db_path).release()  # free again


def test_another_process_holding_it_refuses_us_and_its_death_frees_it(db_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(DatabaseInUse):
            acquire_instance_lock(db_path)
    finally:
        holder.kill()  # no clean release: the kernel drops the lock with the process
        holder.wait()
    acquire_instance_lock(db_path).release()
