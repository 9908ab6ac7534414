"""A writer for the crash-safety test: reserves and settles tasks as fast as it can until killed.

Run as ``python burst_writer.py DB_PATH``. Several coroutines share the one connection, so at any
instant some transaction is usually open when the parent sends SIGKILL.
"""

from __future__ import annotations

import asyncio
import sys

from storage import Storage, TaskState
from tests.builders import new_task_of

WORKERS = 4
DELIVER = ("submitting", "submitted", "downloading", "delivering", "delivered")


async def worker(store: Storage, worker_id: int) -> None:
    i = 0
    while True:
        i += 1
        user = 100 + (i % 5)
        task = await store.quota.reserve(
            new_task_of(
                guild_id=1 + worker_id % 2,
                channel_id=10,
                user_id=user,
                prompt=f"burst {worker_id}/{i}",
                model="MiniMax-Hailuo-2.3",
                mode="text",
                cost_tenths=1 + i % 19,
                duration=6,
                resolution="768P",
            )
        )
        match i % 4:
            case 0:
                await store.tasks.transition(task.id, TaskState.CANCELLED)
            case 1:
                await store.tasks.transition(task.id, "submitting")
                await store.tasks.transition(task.id, "failed", error_code="timeout")
            case 2:
                for state in DELIVER:
                    await store.tasks.transition(task.id, state, api_task_id=f"{worker_id}-{i}")
            case _:
                pass  # left queued, as a crash would leave it


async def main(path: str) -> None:
    store = await Storage.open(path, default_limit_tenths=10_000_000)
    await asyncio.gather(*(worker(store, w) for w in range(WORKERS)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
