"""Several bot processes on one PostgreSQL database (issue 14): take-over time and throughput.

Prints:

1. Lease take-over time: two service processes share the work; one is SIGKILLed while it holds
   tasks, and the clock runs until the other holds every one of them (expected: what was left of
   the dead process's leases, at most ``LEASE_SECONDS``, plus up to a third of it until the
   survivor's next look).
2. End-to-end tasks per minute with the fake API at a high RPM: from the first request to the last
   task delivered, for 1 and 3 processes on PostgreSQL and 1 on SQLite. The fake's tasks take about
   half a second; each process is a whole ``VideoService`` (``tests/bot/lifecycle/shared_worker.py``)
   with its own connection pool.

Run: ``.venv/bin/python bench/bench_leases.py`` (``--tasks``, ``--lease``; ``--url`` to use a
PostgreSQL server of yours instead of a throwaway local one: each run creates its own database there).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from storage import FINAL_STATES, Storage
from tests.fakes.fake_minimax import FakeClock, FakeMiniMax, TaskPlan
from tests.pg_server import PgCluster, find_binaries, psql

ROOT = Path(__file__).resolve().parent.parent

WORKER = ROOT / "tests" / "bot" / "lifecycle" / "shared_worker.py"
PLAN = TaskPlan(preparing=0.1, queueing=0.1, processing=0.3)


async def _spawn(
    target: str, base: str, out: Path, *, rpm: int, lease: float, index: int, requests: int
) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER), target, base, str(out), "60", str(rpm), str(lease), str(index),
        str(requests),
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return proc


async def _ready(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 120)).decode().strip()
    assert line.startswith("ready "), line
    return line.split(" ", 1)[1]


async def _go(procs: list[asyncio.subprocess.Process]) -> None:
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()


async def _finish(procs: list[asyncio.subprocess.Process]) -> None:
    for proc in procs:
        if proc.returncode is None and proc.stdin is not None:
            proc.stdin.close()
    for proc in procs:
        if proc.returncode is None:
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def _poll(done: Callable[[], Awaitable[bool]], every: float = 0.02, within: float = 300) -> None:
    """Look again every ``every`` seconds until ``done`` (a database read, no event to wait on)."""
    deadline = time.monotonic() + within
    while not await done():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark's processes stopped making progress")
        await asyncio.sleep(every)


async def _all_final(store: Storage, total: int) -> bool:
    counts = await store.tasks.count_by_state()
    return sum(counts.values()) >= total and all(state in FINAL_STATES for state in counts)


async def throughput(target: str, processes: int, tasks: int, label: str) -> float:
    share = max(1, tasks // processes)
    total = share * processes
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeMiniMax(plan=PLAN, clock=FakeClock(time.time()), speed=1.0) as fake:
            store = await Storage.open(target, default_limit_tenths=1_000_000)
            procs = [
                await _spawn(target, fake.base_url, Path(tmp) / "posted.txt", rpm=10_000, lease=30, index=i,
                             requests=share)
                for i in range(processes)
            ]  # fmt: skip
            try:
                for proc in procs:
                    await _ready(proc)
                started = time.perf_counter()
                await _go(procs)
                await _poll(lambda: _all_final(store, total))
                elapsed = time.perf_counter() - started
            finally:
                await _finish(procs)
                await store.close()
    rate = total / elapsed * 60
    print(f"end to end, {label}: {total} tasks in {elapsed:5.1f} s = {rate:6.0f} tasks/min")
    return rate


async def takeover(url: str, lease: float, tasks: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        plan = TaskPlan(preparing=1.0, queueing=1.0, processing=lease * 4)  # still running at the kill
        async with FakeMiniMax(plan=plan, clock=FakeClock(time.time()), speed=1.0) as fake:
            store = await Storage.open(url, default_limit_tenths=1_000_000)
            procs = [
                await _spawn(url, fake.base_url, Path(tmp) / "posted.txt", rpm=10_000, lease=lease, index=i,
                             requests=tasks // 2)
                for i in range(2)
            ]  # fmt: skip
            try:
                owners = [await _ready(proc) for proc in procs]
                await _go(procs)

                async def busy() -> bool:
                    return len(await store.leases.held_by(owners[0])) >= max(1, tasks // 4)

                async def with_survivor(task_ids: list[int]) -> int:
                    survivor = set(await store.leases.held_by(owners[1]))
                    moved = 0
                    for task_id in task_ids:
                        if task_id in survivor or (await store.tasks.get(task_id)).state in FINAL_STATES:
                            moved += 1
                    return moved

                await _poll(busy)
                procs[0].send_signal(signal.SIGKILL)
                killed = time.perf_counter()
                await procs[0].wait()
                held = await store.leases.held_by(owners[0])

                async def taken() -> bool:
                    # Every task the dead process held is worked on by the survivor or done. A queued
                    # one taken over is put back in line first, held by nobody for a moment: waiting
                    # only for the dead owner's leases to go would count it as lost.
                    if await store.leases.held_by(owners[0]):
                        return False
                    return await with_survivor(held) == len(held)

                await _poll(taken)
                elapsed = time.perf_counter() - killed
                moved = await with_survivor(held)
            finally:
                await _finish(procs)
                await store.close()
    print(
        f"lease take-over after a SIGKILL (LEASE_SECONDS={lease:g}): {len(held)} tasks, all held by the "
        f"survivor {elapsed:5.2f} s after the kill ({moved}/{len(held)} with it or already done)"
    )
    return elapsed


class Databases:
    """A new, empty database for each run: on the throwaway cluster, or (``--url``) on the server
    of that URL, named after the run and this process and dropped at the end. Each run needs its own:
    every fake API numbers its tasks from the same id, and a task's API id is unique in a database."""

    def __init__(self, cluster: PgCluster | None, url: str | None) -> None:
        self._cluster = cluster
        self._url = url
        self._created: list[str] = []

    async def fresh(self, name: str) -> str:
        if self._cluster is not None:
            psql(self._cluster, f"CREATE DATABASE {name}")
            return self._cluster.url(name)
        assert self._url is not None
        name = f"bench_leases_{name}_{os.getpid()}"
        await self._admin(f"CREATE DATABASE {name}")
        self._created.append(name)
        return urlunsplit(urlsplit(self._url)._replace(path=f"/{name}"))

    async def drop(self) -> None:
        for name in self._created:
            await self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    async def _admin(self, sql: str) -> None:
        assert self._url is not None
        conn = await asyncpg.connect(self._url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=150, help="tasks per throughput run")
    parser.add_argument("--lease", type=float, default=5.0, help="LEASE_SECONDS for the take-over run")
    parser.add_argument(
        "--url",
        help="a PostgreSQL database on a server of yours: each run creates (and then drops) its own "
        "database there, so the user needs CREATEDB",
    )
    args = parser.parse_args(argv)
    cluster = None
    if args.url is None:
        bindir = find_binaries()
        if bindir is None:
            sys.exit("no PostgreSQL binaries found: pass --url postgresql://…")
        cluster = PgCluster.start(bindir)
    databases = Databases(cluster, args.url)
    try:
        await takeover(await databases.fresh("takeover"), args.lease, 24)
        with tempfile.TemporaryDirectory() as tmp:
            await throughput(str(Path(tmp) / "bench.sqlite3"), 1, args.tasks, "SQLite, 1 process  ")
        await throughput(await databases.fresh("one"), 1, args.tasks, "PostgreSQL, 1 process")
        await throughput(await databases.fresh("three"), 3, args.tasks, "PostgreSQL, 3 processes")
    finally:
        await databases.drop()
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    asyncio.run(main())
