"""Two services on one PostgreSQL database (as two processes would be): a task another live process
works on is left to it, a clean stop hands it over at once, and a dead process's task is taken
over when its lease runs out, then delivered once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bot.lifecycle import VideoService
from storage import Storage, TaskState
from tests.fakes.lifecycle_harness import Harness, lifecycle_harness

LEASE = 2.0


@asynccontextmanager
async def two_services(tmp_path: Path, url: str) -> AsyncIterator[tuple[Harness, Storage, Storage]]:
    async with lifecycle_harness(tmp_path, lease_seconds=LEASE) as h:
        first = await Storage.open(url, default_limit_tenths=1_000_000)
        second = await Storage.open(url, default_limit_tenths=1_000_000)
        try:
            yield h, first, second
        finally:
            await first.close()
            await second.close()


def service(h: Harness, storage: Storage) -> VideoService:
    return VideoService(
        settings=h.settings, storage=storage, client=h.client, notifier=h.notifier, http=h.session
    )


async def until(check: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def held_by(storage: Storage, owner: str) -> list[int]:
    return await storage.leases.held_by(owner)


async def test_a_starting_process_leaves_a_live_process_s_task_alone(
    tmp_path: Path, pg_migrated_url: str
) -> None:
    async with two_services(tmp_path, pg_migrated_url) as (h, first, second):
        a = service(h, first)
        await a.start()
        h.fake.never_finish_next_task()
        task = await a.request(h.request())
        await until(lambda: _state_is(first, task.id, TaskState.PROCESSING))
        b = service(h, second)
        await b.start()  # its recovery finds the task unfinished, and held
        try:
            await b.leases.take_over()
            assert await held_by(second, b.leases.owner) == []
            assert (await second.leases.holder(task.id))[0] == a.leases.owner
            # A clean stop hands it over at once, without waiting for the lease to run out.
            await a.stop()
            taken = await b.leases.take_over()
            assert [t.id for t in taken] == [task.id]
            assert (await second.leases.holder(task.id))[0] == b.leases.owner
        finally:
            await b.stop()
            await a.stop()


async def test_a_dead_process_s_task_is_taken_over_and_delivered_once(
    tmp_path: Path, pg_migrated_url: str
) -> None:
    async with two_services(tmp_path, pg_migrated_url) as (h, first, second):
        a = service(h, first)
        b = service(h, second)
        await a.start()
        await b.start()
        try:
            h.fake.next_task(processing=3600)
            task = await a.request(h.request())
            await until(lambda: _state_is(first, task.id, TaskState.PROCESSING))
            assert (await first.leases.holder(task.id))[0] == a.leases.owner
            # The first process dies: nothing of it runs any more, and its lease is not given back.
            await a.submitter.stop()
            await a.tracker.stop()
            await a.leases.stop_renewing()

            async def taken() -> bool:
                return (await second.leases.holder(task.id))[0] == b.leases.owner

            await until(taken, within=LEASE * 5)
            h.fake.finish_all()
            b.wake()
            await until(lambda: _state_is(second, task.id, TaskState.DELIVERED))
            assert [r.task_id for r in h.notifier.results] == [task.id]
        finally:
            await b.stop()
            await a.stop()


async def _state_is(storage: Storage, task_id: int, state: TaskState) -> bool:
    return (await storage.tasks.get(task_id)).state is state
