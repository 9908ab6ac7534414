"""Crash safety: a writer killed with SIGKILL mid-burst leaves a sound file whose ledger matches."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

import storage
from storage import Storage, TaskState
from storage.backend import fetch_all
from storage.ledger import user_usage

WRITER = Path(__file__).with_name("burst_writer.py")
PROJECT_ROOT = Path(storage.__file__).resolve().parent.parent
ENOUGH_TASKS = 300
DEADLINE_SECONDS = 60


def task_count(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0])
    except sqlite3.OperationalError:  # not created or not migrated yet
        return 0


def read_log(log: Path) -> str:
    return log.read_text(errors="replace")


async def wait_for_rows(proc: asyncio.subprocess.Process, path: Path, log: Path) -> int:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            pytest.fail(f"writer exited early with {proc.returncode}: {read_log(log)}")
        count = task_count(path)
        if count >= ENOUGH_TASKS:
            return count
        await asyncio.sleep(0.02)
    pytest.fail(f"writer wrote fewer than {ENOUGH_TASKS} tasks in {DEADLINE_SECONDS} s")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
async def test_sigkill_mid_burst_leaves_a_consistent_database(db_path: Path, tmp_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    log = tmp_path / "writer.log"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    with log.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(WRITER), str(db_path), cwd=PROJECT_ROOT, env=env, stderr=stderr
        )
        try:
            seen = await wait_for_rows(proc, db_path, log)
            proc.send_signal(signal.SIGKILL)
            await asyncio.wait_for(proc.wait(), timeout=30)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert proc.returncode == -signal.SIGKILL, read_log(log)  # killed while writing, not finished

    store = await Storage.open(db_path)
    try:
        assert await store.db.integrity_check() == "ok"
        async with store.db.read() as conn:

            async def rows(sql: str) -> list[tuple]:
                return [tuple(r) for r in await fetch_all(conn, sql)]

            assert await rows("PRAGMA foreign_key_check") == []
            tasks = await rows("SELECT id, guild_id, user_id, cost_tenths, state FROM tasks ORDER BY id")
            ledger = await rows("SELECT task_id, kind, guild_id, user_id, tenths FROM ledger ORDER BY id")
    finally:
        await store.close()

    assert len(tasks) >= seen
    states = {TaskState(t[4]) for t in tasks}
    assert {TaskState.QUEUED, TaskState.CANCELLED, TaskState.FAILED, TaskState.DELIVERED} <= states

    # Exactly the rows each task's state calls for: one reserve each, a refund for every failed or
    # cancelled task, a charge for every delivered one, nothing else and nothing orphaned.
    expected = set()
    for task_id, guild_id, user_id, cost, state in tasks:
        expected.add((task_id, "reserve", guild_id, user_id, cost))
        if state in ("failed", "cancelled"):
            expected.add((task_id, "refund", guild_id, user_id, cost))
        elif state == "delivered":
            expected.add((task_id, "charge", guild_id, user_id, cost))
    assert len(ledger) == len(set(ledger)) == len(expected)
    assert set(ledger) == expected

    # And the usage derived from the ledger matches the tasks that still hold credits (over all
    # time, so the check does not depend on which UTC day the test runs).
    store = await Storage.open(db_path)
    try:
        async with store.db.read() as conn:
            for guild_id, user_id in {(t[1], t[2]) for t in tasks}:
                holding = sum(
                    t[3]
                    for t in tasks
                    if (t[1], t[2]) == (guild_id, user_id) and t[4] not in ("failed", "cancelled")
                )
                used, _pending = await user_usage(conn, guild_id, user_id, 0, float("inf"))
                assert used == holding
    finally:
        await store.close()
