"""Team-pool benchmark (not a test): pool reservations per second, 50 requests at once.

    python bench/bench_pools.py [--rounds 20] [--concurrent 50] [--backend sqlite|postgresql|both]

Each round makes a fresh pool (with room for every request, then for half of them) and sends
``--concurrent`` reservations at it at once from as many members: naming the pool, and with no
personal credits so each request falls back to it (the payer chosen inside the reservation's
transaction). Prints the
decisions per second (accepted and refused: each is one transaction) and the accepted reservations
per second, and checks every round accepted exactly as many as the pool had room for. PostgreSQL runs
on a throwaway local server (fsync off) when its binaries are installed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from storage import NewTask, PoolExhausted, QuotaExceeded, Storage
from tests.builders import new_task_of
from tests.pg_server import PgCluster, find_binaries, psql

T0 = 1_715_774_400.0
GUILD, CHANNEL, ROLE, MOD = 1, 10, 77, 9


def new_task(i: int) -> NewTask:
    return new_task_of(
        guild_id=GUILD,
        channel_id=CHANNEL,
        user_id=1000 + i,
        prompt=f"a fox running through snow, take {i}",
        model="MiniMax-Hailuo-2.3",
        mode="text",
        cost_tenths=10,
        duration=6,
        resolution="768P",
    )


async def one_mode(
    store: Storage, rounds: int, concurrent: int, *, named: bool, room: int
) -> tuple[float, float]:
    accepted = decided = 0
    elapsed = 0.0
    for r in range(rounds):
        name = f"{'named' if named else 'fallback'}-{room}-{r}"
        await store.pools.create(
            GUILD, name, room * 10, "week", role_id=ROLE, channel_id=None, actor_id=MOD, now=T0
        )

        async def reserve(i: int, name: str = name, first: int = r * concurrent) -> bool:
            try:
                await store.quota.reserve(
                    new_task(first + i), role_ids=(ROLE,), pool=name if named else None, now=T0
                )
            except (PoolExhausted, QuotaExceeded):
                return False
            return True

        started = time.perf_counter()
        results = await asyncio.gather(*(reserve(i) for i in range(concurrent)))
        elapsed += time.perf_counter() - started
        await store.pools.delete(GUILD, name, actor_id=MOD, now=T0)  # at most 25 pools per server
        if sum(results) != room:
            raise SystemExit(f"round {r}: {sum(results)} accepted, the pool had room for {room}")
        accepted += sum(results)
        decided += len(results)
    return decided / elapsed, accepted / elapsed


async def bench(target: str | Path, label: str, rounds: int, concurrent: int) -> None:
    store = await Storage.open(target, default_limit_tenths=0)  # no personal credits: pools pay
    try:
        for named, room in ((True, concurrent), (True, concurrent // 2), (False, concurrent // 2)):
            decisions, accepted = await one_mode(store, rounds, concurrent, named=named, room=room)
            how = "named pool" if named else "fallback"
            print(
                f"{label:10} {how:10} {concurrent} at once, room for {room:2}: {decisions:6.0f} "
                f"decisions/s, {accepted:6.0f} pool reservations/s (exactly {room} accepted in each "
                f"of {rounds} rounds)"
            )
    finally:
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            await bench(Path(tmp) / "pools.sqlite3", "SQLite", args.rounds, args.concurrent)
    if args.backend in ("postgresql", "both"):
        bindir = find_binaries()
        if bindir is None:
            print("PostgreSQL: no binaries found, left out")
            return
        cluster = PgCluster.start(bindir)
        try:
            psql(cluster, "CREATE DATABASE bench")
            await bench(cluster.url("bench"), "PostgreSQL", args.rounds, args.concurrent)
        finally:
            cluster.stop()


if __name__ == "__main__":
    asyncio.run(main())
