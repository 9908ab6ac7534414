"""Metrics benchmark: what one scrape of ``/metrics`` costs on a large database.

The tasks gauge is counted from the database (``count_by_state``: one pass over the tasks table) at
most once per ``REFRESH_INTERVAL`` (15 s), whatever the scrape rate; the rest of a scrape renders
the registry. This prints both for a database of ``--tasks`` tasks (default 200,000), made by
doubling one reserved task with plain SQL (the rows are copies: the count does not care).

Run: ``.venv/bin/python bench/bench_metrics.py``. Figures are the best of ``--repeat`` runs (default 5).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from bot.metrics import Metrics
from storage import Storage
from tests.builders import make_new_task


def grow(path: Path, target: int) -> int:
    conn = sqlite3.connect(path)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(tasks)") if row[1] != "id"]
    names = ", ".join(columns)
    total = conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
    while total < target:
        conn.execute(f"INSERT INTO tasks ({names}) SELECT {names} FROM tasks LIMIT ?", (target - total,))
        conn.commit()
        total = conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
    conn.close()
    return int(total)


async def main(tasks: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        storage = await Storage.open(path)
        await storage.quota.reserve(make_new_task(prompt="benchmark"))
        await storage.close()
        total = await asyncio.to_thread(grow, path, tasks)
        storage = await Storage.open(path)
        metrics = Metrics()
        try:
            count = render = float("inf")
            for _ in range(repeat):
                start = time.perf_counter()
                metrics.set_task_counts(await storage.tasks.count_by_state())
                count = min(count, time.perf_counter() - start)
                start = time.perf_counter()
                metrics.render()
                render = min(render, time.perf_counter() - start)
        finally:
            await storage.close()
    print(f"tasks in the database: {total:,}")
    print(f"count_by_state (once per 15 s at most): {count * 1000:.1f} ms")
    print(f"render the registry (every scrape):      {render * 1000:.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.tasks, args.repeat))
