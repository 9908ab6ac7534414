"""Coalesced card edits and the poller's query budget, on fake clocks."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from bot.lifecycle.budget import QueryBudget
from bot.lifecycle.notifier import StatusCard
from bot.lifecycle.status import CHANNEL_EDIT_BUDGET, EditBudget, StatusUpdater, channel_edit_budget
from storage import Task, TaskState
from tests.builders import task_of
from tests.fakes.recording_notifier import RecordingNotifier


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _task(state: TaskState = TaskState.PROCESSING, progress: int | None = None) -> Task:
    values: dict[str, object] = {}
    values.update(
        id=1, guild_id=1, channel_id=2, user_id=3, status_message_id=50, prompt="p", model="m", mode="text",
        prompt_optimizer=True, fast_pretreatment=False, cost_tenths=10, state=state, attempts=0,
        created_at=0.0, deliver_by_dm=False, progress=progress,
    )  # fmt: skip
    return task_of(**values)


async def test_edits_are_coalesced_and_the_latest_state_wins() -> None:
    clock = Clock()
    notifier = RecordingNotifier()
    moved: list[tuple[int, int]] = []

    async def on_moved(task_id: int, message_id: int) -> None:
        moved.append((task_id, message_id))

    updater = StatusUpdater(notifier, interval=5.0, on_moved=on_moved, clock=clock)
    updater.start()
    try:
        updater.update(StatusCard(_task(progress=10)))
        await notifier.wait_for(lambda: len(notifier.edits) == 1)
        for progress in (20, 30, 40):
            updater.update(StatusCard(_task(progress=progress)))
        await asyncio.sleep(0.05)  # give a wrong implementation the chance to send early
        assert [c.task.progress for c in notifier.edits] == [10]
        clock.now += 5.0
        updater.update(StatusCard(_task(progress=50)))
        await notifier.wait_for(lambda: len(notifier.edits) == 2)
        assert [c.task.progress for c in notifier.edits] == [10, 50]
        # A final state is sent at once, whatever the interval.
        updater.update(StatusCard(_task(TaskState.DELIVERED, 100)), final=True)
        await notifier.wait_for(lambda: len(notifier.edits) == 3)
        assert notifier.edits[-1].task.state is TaskState.DELIVERED
        await updater.wait_idle()
        assert moved == []
    finally:
        await updater.stop()


async def test_cards_never_posted_are_not_edited_and_pending_ones_flush_on_stop() -> None:
    notifier = RecordingNotifier()

    async def on_moved(task_id: int, message_id: int) -> None:
        return None

    updater = StatusUpdater(notifier, interval=3600.0, on_moved=on_moved, clock=Clock())
    updater.start()
    updater.update(StatusCard(dataclasses.replace(_task(), status_message_id=None)))
    updater.update(StatusCard(_task(progress=1)))
    await notifier.wait_for(lambda: len(notifier.edits) == 1)
    updater.update(StatusCard(_task(progress=2)))
    await updater.stop()
    assert [c.task.progress for c in notifier.edits] == [1, 2]


async def test_query_budget_paces_and_honours_penalties() -> None:
    clock = Clock()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    budget = QueryBudget(60, burst=2, clock=clock, sleep=sleep)  # one per second, burst of two
    for _ in range(4):
        await budget.acquire()
    assert budget.spent == 4
    assert sum(slept) == 2.0
    budget.penalize(10)
    await budget.acquire()
    assert sum(slept) >= 12.0


def _card(task_id: int, channel_id: int, **fields: Any) -> StatusCard:
    task = dataclasses.replace(_task(TaskState.QUEUED), id=task_id, channel_id=channel_id)
    return StatusCard(task, **fields)


async def test_card_edits_stay_within_the_channel_budget_finals_and_the_front_first() -> None:
    """A burst of cards (a queue move, a restart) in one channel is spread over the budget's
    windows; another channel has its own budget; a final card and the front of the queue go first."""
    clock = Clock()
    notifier = RecordingNotifier()

    async def on_moved(task_id: int, message_id: int) -> None:
        return None

    budget = EditBudget(edits=4, window=5.0)
    updater = StatusUpdater(notifier, interval=5.0, on_moved=on_moved, clock=clock, budget=budget)
    for task_id in range(1, 21):  # twenty cards further back in channel 2
        updater.update(_card(task_id, 2))
    for task_id in range(21, 24):  # three in channel 3
        updater.update(_card(task_id, 3))
    sent_at: list[tuple[float, StatusCard]] = []
    for step in range(80):  # 40 s of the updater's clock, on a simulated clock: no waiting
        if step == 2:
            updater.update(_card(30, 2, queue_position=1))
            delivered = dataclasses.replace(_task(TaskState.DELIVERED), id=31, channel_id=2)
            updater.update(StatusCard(delivered), final=True)
        before = len(notifier.edits)
        next_at = await updater.send_due()
        sent_at += [(clock.now, card) for card in notifier.edits[before:]]
        assert next_at == float("inf") or next_at > clock.now
        clock.now += 0.5
    assert sorted(card.task.id for _, card in sent_at) == [*range(1, 24), 30, 31], "each card once"
    for channel in (2, 3):
        times = [at for at, card in sent_at if card.task.channel_id == channel]
        assert all(sum(1 for t in times if start <= t < start + 5.0) <= 4 for start in times), channel
    assert [card.task.id for at, card in sent_at if at == 1000.0 and card.task.channel_id == 3] == [
        21,
        22,
        23,
    ]
    later = [card.task.id for at, card in sent_at if at > 1001.0 and card.task.channel_id == 2]
    assert later[:2] == [31, 30], "the final card, then the front of the queue, before the backlog"
    assert updater.pending() == 0


def test_the_channel_budget_is_discords_unless_the_edit_interval_is_shorter() -> None:
    assert (CHANNEL_EDIT_BUDGET.edits, CHANNEL_EDIT_BUDGET.window) == (4, 5.0)
    assert channel_edit_budget(5.0) == channel_edit_budget(60.0) == CHANNEL_EDIT_BUDGET
    assert channel_edit_budget(0.2) == EditBudget(edits=4, window=0.2)  # a bot on a fast clock (tests)


class SharedBucket:
    """A stand-in for ``storage.rates``: says how long to wait a few times, then hands out what
    each take asks for (``most``, up to ``grant``); records the takes and the penalties."""

    def __init__(self, waits: list[float], grant: int | None = None) -> None:
        self.waits = waits
        self.grant = grant
        self.takes: list[int] = []  # ``most`` of each take
        self.blocks: list[tuple[str, float]] = []

    async def take_slot(self, name: str, *, limit: int, window: float, now: float) -> float:
        raise AssertionError("the budget is a bucket, not a window")

    async def take_tokens(
        self, name: str, *, per_second: float, capacity: float, now: float, most: int = 1
    ) -> tuple[int, float]:
        self.takes.append(most)
        if self.waits:
            return 0, self.waits.pop(0)
        return (most if self.grant is None else min(most, self.grant)), 0.0

    async def block(self, name: str, *, until: float, now: float) -> None:
        self.blocks.append((name, until - now))


async def test_a_shared_budget_waits_for_the_shared_bucket_and_shares_its_penalties() -> None:
    clock = Clock()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    bucket = SharedBucket([0.5, 0.25])  # the other processes spent the tokens
    budget = QueryBudget(60, burst=2, clock=clock, sleep=sleep, store=bucket, wall_clock=clock)
    await budget.acquire()
    assert slept == [0.5, 0.25] and budget.spent == 1
    budget.penalize(10)
    await asyncio.sleep(0)  # the penalty is written in the background
    await asyncio.sleep(0)
    assert bucket.blocks == [("query", 10)]


async def test_a_busy_shared_budget_takes_its_tokens_in_blocks() -> None:
    """6,000 queries a minute (100 a second): a block is 25 tokens, so 60 queries cost three writes
    of the shared bucket, not sixty; a bucket with fewer left hands out what it has."""
    clock = Clock()

    async def sleep(seconds: float) -> None:
        clock.now += seconds

    bucket = SharedBucket([])
    budget = QueryBudget(6000, clock=clock, sleep=sleep, store=bucket, wall_clock=clock)
    assert budget.block == 25
    for _ in range(60):
        await budget.acquire()
    assert budget.spent == 60
    assert bucket.takes == [25, 25, 25] and budget.shared_takes == 3

    short = SharedBucket([], grant=2)  # the other processes left two tokens
    budget = QueryBudget(6000, clock=clock, sleep=sleep, store=short, wall_clock=clock)
    for _ in range(5):
        await budget.acquire()
    assert short.takes == [25, 25, 25]  # two tokens each time: each write took what was there


async def test_a_rate_limit_answer_drops_the_block_taken_before_it() -> None:
    clock = Clock()

    async def sleep(seconds: float) -> None:
        clock.now += seconds

    bucket = SharedBucket([])
    budget = QueryBudget(6000, clock=clock, sleep=sleep, store=bucket, wall_clock=clock)
    await budget.acquire()  # a block of 25 taken, 24 held
    budget.penalize(2)
    await budget.acquire()
    assert bucket.takes == [25, 25], "the held tokens were not spent after the penalty"
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert bucket.blocks == [("query", 2)]


def test_a_low_rate_takes_one_token_at_a_time() -> None:
    """The default share (60 a minute): a block would be a quarter token: one per query, as before;
    a small burst caps the block at a quarter of it."""
    assert QueryBudget(60, store=SharedBucket([])).block == 1
    assert QueryBudget(6000, burst=8, store=SharedBucket([])).block == 2
