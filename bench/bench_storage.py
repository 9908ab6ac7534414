"""Storage benchmark (not a test): reservation throughput and due-task query latency.

    python bench/bench_storage.py [--reservations 3000] [--tasks 100000]
    python bench/bench_storage.py --backend postgresql [--url postgresql://…] [--processes 3]

Prints reservations per second (one after another, and 50 at a time) on a SQLite file, or on
PostgreSQL (a throwaway local server when no ``--url`` is given; with ``--processes N``, also N
processes reserving at once against the one database), then, on SQLite, the latency of
``due_for_poll`` with 100,000 tasks in the table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from storage import NewTask, Storage
from storage.db import SqliteConnection
from tests.builders import new_task_of
from tests.pg_server import PgCluster, find_binaries, psql

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_715_774_400.0
POLLED_SHARE = 0.03  # tasks waiting for a poll, out of all tasks


def new_task(i: int) -> NewTask:
    return new_task_of(
        guild_id=1 + i % 3,
        channel_id=10,
        user_id=100 + i % 50,
        prompt=f"a fox running through snow, take {i}",
        model="MiniMax-Hailuo-2.3",
        mode="text",
        cost_tenths=10,
        duration=6,
        resolution="768P",
    )


async def bench_reservations(
    target: str | Path, count: int, label: str = "a file database, WAL"
) -> tuple[int, int]:
    """Prints both rates; returns how many reservations each phase made (``count`` each).

    ``target`` is a PostgreSQL URL, or a folder that gets a fresh SQLite file."""
    if isinstance(target, Path):
        target = target / "reserve.sqlite3"
    store = await Storage.open(target, default_limit_tenths=10_000_000)
    try:
        started = time.perf_counter()
        for i in range(count):
            await store.quota.reserve(new_task(i), now=T0)
        sequential = count / (time.perf_counter() - started)

        started = time.perf_counter()
        made = 0
        for batch in range(0, count, 50):
            # The last batch is short when count is not a multiple of 50: never reserve more than
            # count, or the rate below would divide more reservations by count.
            done = await asyncio.gather(
                *(store.quota.reserve(new_task(i), now=T0) for i in range(batch, min(batch + 50, count)))
            )
            made += len(done)
        concurrent = made / (time.perf_counter() - started)
    finally:
        await store.close()
    print(f"reservations, one at a time:   {sequential:8.0f} /s  ({count} on {label})")
    print(f"reservations, 50 concurrently: {concurrent:8.0f} /s")
    return count, made


async def seed(store: Storage, total: int) -> tuple[int, int]:
    """Insert ``total`` tasks directly (a realistic mix of states); returns how many are polled and
    how many of those are due at T0."""
    rows = []
    polled = due_now = 0
    for i in range(total):
        if i % int(1 / POLLED_SHARE) == 0:
            state, next_poll = ("submitted", "processing")[i % 2], T0 + (i % 600) - 300
            polled += 1
            due_now += next_poll <= T0
        else:
            state, next_poll = ("delivered", "delivered", "delivered", "failed", "cancelled")[i % 5], None
        rows.append((1 + i % 3, 10, 100 + i % 50, f"prompt {i}", "MiniMax-Hailuo-2.3", "text", 6, "768P", 10,
                     f"api-{i}", state, T0 - total + i, next_poll))  # fmt: skip
    async with store.db.transaction() as conn:
        assert isinstance(conn, SqliteConnection)
        await conn.raw.executemany(
            "INSERT INTO tasks (guild_id, channel_id, user_id, prompt, model, mode, duration, resolution, "
            "cost_tenths, api_task_id, state, created_at, next_poll_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    return polled, due_now


async def bench_due_query(directory: Path, total: int, runs: int = 500) -> None:
    store = await Storage.open(directory / "due.sqlite3")
    try:
        polled, due_now = await seed(store, total)
        latencies = []
        for _ in range(runs):
            started = time.perf_counter()
            due = await store.tasks.due_for_poll(T0, limit=50)
            latencies.append((time.perf_counter() - started) * 1000)
        # Fewer than 50 are due in a small table (below about 3,400 tasks): all of them, then.
        assert len(due) == min(50, due_now), (len(due), due_now)
        latencies.sort()
        median, p95 = statistics.median(latencies), latencies[int(len(latencies) * 0.95) - 1]

        unfinished_ms = []
        for _ in range(20):
            started = time.perf_counter()
            unfinished = await store.tasks.unfinished()
            unfinished_ms.append((time.perf_counter() - started) * 1000)
    finally:
        await store.close()
    print(
        f"due_for_poll(limit=50) with {total:,} tasks ({polled:,} polled, {due_now:,} due): "
        f"median {median:.3f} ms, p95 {p95:.3f} ms"
    )
    print(
        f"unfinished() returning {len(unfinished):,} tasks: median {statistics.median(unfinished_ms):.1f} ms"
    )


async def worker(url: str, count: int, offset: int) -> None:
    """One of ``--processes``: reserve ``count`` tasks 50 at a time once told to go."""
    store = await Storage.open(url, default_limit_tenths=10_000_000)
    try:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        end = offset + count
        for batch in range(offset, end, 50):
            await asyncio.gather(
                *(
                    store.quota.reserve(new_task(i), now=T0)
                    for i in range(batch, min(batch + 50, offset + count))
                )
            )
    finally:
        await store.close()


async def bench_processes(url: str, count: int, processes: int) -> None:
    share = count // processes
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--worker", url, str(share), str(1_000_000 * (n + 1)),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
        )
        for n in range(processes)
    ]  # fmt: skip
    for proc in procs:
        assert proc.stdout is not None
        assert (await proc.stdout.readline()).strip() == b"ready"
    started = time.perf_counter()
    await asyncio.gather(*(proc.communicate(b"go\n") for proc in procs))
    elapsed = time.perf_counter() - started
    assert all(proc.returncode == 0 for proc in procs)
    print(f"reservations, {processes} processes × 50 concurrently: {share * processes / elapsed:8.0f} /s")


async def bench_postgresql(url: str | None, count: int, processes: int) -> None:
    cluster = None
    if url is None:
        bindir = find_binaries()
        if bindir is None:
            sys.exit("no PostgreSQL binaries found: pass --url postgresql://…")
        cluster = PgCluster.start(bindir)
        psql(cluster, "CREATE DATABASE bench")
        url = cluster.url("bench")
    try:
        label = "a throwaway local PostgreSQL, fsync off" if cluster else "PostgreSQL"
        await bench_reservations(url, count, label)
        if processes > 1:
            await bench_processes(url, count, processes)
    finally:
        if cluster is not None:
            cluster.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reservations", type=int, default=3000, help="reservations per phase")
    parser.add_argument("--tasks", type=int, default=100_000, help="tasks in the table for the queries")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--url", help="PostgreSQL database to use (default: a throwaway local server)")
    parser.add_argument("--processes", type=int, default=1, help="PostgreSQL: also N processes at once")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        await worker(args.worker[0], int(args.worker[1]), int(args.worker[2]))
        return
    if args.backend == "postgresql":
        await bench_postgresql(args.url, args.reservations, args.processes)
        return
    with tempfile.TemporaryDirectory() as tmp:
        await bench_reservations(Path(tmp), args.reservations)
        await bench_due_query(Path(tmp), args.tasks)


if __name__ == "__main__":
    asyncio.run(main())
