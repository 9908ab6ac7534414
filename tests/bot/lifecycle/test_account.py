"""The account pause: saved when it starts, cleared when a moderator resumes, kept across a restart."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from bot.lifecycle.account import PAUSE_KEY, AccountGate
from storage import StorageError, TaskState
from tests.builders import make_new_task
from tests.fakes.lifecycle_harness import OTHER_USER, Harness, lifecycle_harness


class DictStore:
    def __init__(self, values: dict[str, str] | None = None, *, broken: bool = False) -> None:
        self.values = dict(values or {})
        self.broken = broken

    async def get(self, key: str) -> str | None:
        if self.broken:
            raise StorageError("disk on fire")
        return self.values.get(key)

    async def set(self, key: str, value: str, *, now: float | None = None) -> None:
        if self.broken:
            raise StorageError("disk on fire")
        self.values[key] = value

    async def delete(self, key: str) -> bool:
        if self.broken:
            raise StorageError("disk on fire")
        return self.values.pop(key, None) is not None


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_a_pause_is_saved_and_a_resume_clears_it() -> None:
    store, clock = DictStore(), Clock()
    gate = AccountGate(cooldown=600, store=store, clock=clock)
    gate.pause("AuthFailed: invalid api key")
    await gate.settle()
    assert json.loads(store.values[PAUSE_KEY]) == {
        "until": clock.now + 600,
        "reason": "AuthFailed: invalid api key",
    }
    gate.resume()
    await gate.settle()
    assert PAUSE_KEY not in store.values and not gate.paused


async def test_a_saved_pause_is_taken_up_only_while_it_lasts() -> None:
    clock = Clock()
    saved = json.dumps({"until": clock.now + 300, "reason": "InsufficientBalance: 1008"})
    gate = AccountGate(cooldown=600, store=DictStore({PAUSE_KEY: saved}), clock=clock)
    assert not gate.paused
    await gate.load()
    assert gate.paused and gate.reason == "InsufficientBalance: 1008"
    assert gate.remaining() == 300 and gate.until == clock.now + 300
    clock.now += 300
    assert not gate.paused and gate.reason is None
    await gate.wait()  # returns at once

    ended = AccountGate(cooldown=600, store=DictStore({PAUSE_KEY: saved}), clock=clock)
    await ended.load()
    assert not ended.paused, "a pause that ended while the bot was down is not revived"


@pytest.mark.parametrize(
    "raw", ["not json", "[1, 2]", '{"until": "soon"}', '{"until": 1e999}', '{"until": 5, "reason": 3}']
)
async def test_an_unreadable_saved_pause_is_ignored(raw: str, caplog: pytest.LogCaptureFixture) -> None:
    gate = AccountGate(cooldown=600, store=DictStore({PAUSE_KEY: raw}), clock=Clock(0.0))
    await gate.load()
    assert not gate.paused
    assert any("unreadable" in r.getMessage() for r in caplog.records)


async def test_a_broken_store_never_stops_the_gate(caplog: pytest.LogCaptureFixture) -> None:
    gate = AccountGate(cooldown=600, store=DictStore(broken=True), clock=Clock())
    await gate.load()
    assert not gate.paused
    gate.pause("AuthFailed")
    await gate.settle()
    assert gate.paused, "the pause holds in memory even when it cannot be saved"
    assert any("a restart would forget it" in r.getMessage() for r in caplog.records)


async def test_submissions_paused_by_an_account_error_stay_paused_after_a_restart(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        harness.fake.inject("submit", 1004)
        service = await harness.start()
        first = await service.request(harness.request())
        assert (await harness.wait_final(first.id)).state is TaskState.FAILED
        assert service.submissions_paused
        saved = json.loads(await harness.storage.state.get(PAUSE_KEY) or "{}")
        assert saved["until"] > time.time() and "AuthFailed" in saved["reason"]

        restarted = await harness.start()
        assert restarted.submissions_paused and "AuthFailed" in (restarted.deps.account.reason or "")
        restarted.resume_submissions()
        await restarted.deps.account.settle()
        assert await harness.storage.state.get(PAUSE_KEY) is None
        again = await harness.start()
        assert not again.submissions_paused


async def _queued_task(harness: Harness) -> int:
    """A task reserved just before the bot went down, still waiting in line."""
    new = make_new_task(prompt="a kite over dunes")
    return (await harness.storage.quota.reserve(new)).id


async def test_after_a_restart_inside_the_pause_queued_tasks_wait_for_its_end(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        until = time.time() + 1.0
        await harness.storage.state.set(PAUSE_KEY, json.dumps({"until": until, "reason": "AuthFailed"}))
        task_id = await _queued_task(harness)

        service = await harness.start()
        assert (await harness.storage.tasks.get(task_id)).state is TaskState.QUEUED
        done = await harness.wait_final(task_id)

        assert done.state is TaskState.DELIVERED
        assert done.submitted_at is not None and done.submitted_at >= until, "submitted during the pause"
        assert harness.fake.counts["submit"] == 1
        assert not service.submissions_paused


async def test_a_task_already_taken_from_the_queue_waits_out_a_pause_its_neighbour_caused(
    tmp_path: Path,
) -> None:
    """Two submits prepared at once: the first meets a bad key; the second must not be sent (and
    failed) too, but go back to the head of the queue until the account is fixed."""
    async with lifecycle_harness(tmp_path) as harness:
        harness.fake.inject("submit", 1004, times=5)
        service = harness.new_service(submit_concurrency=2)
        harness.service = service
        first = await service.request(harness.request())
        second = await service.request(harness.request(user_id=OTHER_USER))
        await service.start()

        assert (await harness.wait_final(first.id)).state is TaskState.FAILED
        deadline = time.monotonic() + 10
        while second.id not in service.deps.queue.positions():
            assert time.monotonic() < deadline, "the second task never went back to the queue"
            await asyncio.sleep(0.01)

        assert harness.fake.counts["submit"] == 1
        assert (await harness.storage.tasks.get(second.id)).state is TaskState.QUEUED
        assert await harness.ledger(second.id) == ["reserve"]


async def test_a_shared_pause_holds_every_process_and_a_resume_anywhere_ends_it() -> None:
    """Several processes on one database: the saved pause is the pause of all of them."""
    store, clock = DictStore(), Clock()
    first = AccountGate(cooldown=600, store=store, clock=clock, shared=True)
    second = AccountGate(cooldown=600, store=store, clock=clock, shared=True)
    first.pause("InsufficientBalance: top up")
    await first.settle()
    await second.sync()
    assert second.paused and second.reason == "InsufficientBalance: top up"
    assert second.until == clock.now + 600
    second.resume()  # a moderator, through the other process
    await second.settle()
    await first.sync()
    assert not first.paused


async def test_an_unshared_gate_never_reads_the_pause_again() -> None:
    """SQLite runs one process: the pause is read once, at start, as before."""
    store, clock = DictStore(), Clock()
    writer = AccountGate(cooldown=600, store=store, clock=clock)
    writer.pause("AuthFailed: invalid api key")
    await writer.settle()
    reader = AccountGate(cooldown=600, store=store, clock=clock)
    await reader.sync()
    assert not reader.paused
