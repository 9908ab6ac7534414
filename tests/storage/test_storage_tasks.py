"""The task state machine and the queries the lifecycle needs."""

from __future__ import annotations

import contextlib
import itertools

import pytest

from storage import (
    TRANSITIONS,
    IllegalTransition,
    InvalidValue,
    Storage,
    Task,
    TaskState,
    UnknownTask,
)
from storage.backend import fetch_all

T0 = 1_715_774_400.0
GUILD, USER, OTHER, MOD = 1000, 3000, 3001, 99


@pytest.fixture
async def store(backend):
    """Generous default quota: these tests are about states, not limits."""
    storage = await Storage.open(backend, default_limit_tenths=1_000_000)
    try:
        yield storage
    finally:
        await storage.close()


# A path from queued to every state, so any state can be set up through legal transitions only.
PATH_TO = {
    TaskState.QUEUED: [],
    TaskState.SUBMITTING: ["submitting"],
    TaskState.SUBMITTED: ["submitting", "submitted"],
    TaskState.PROCESSING: ["submitting", "submitted", "processing"],
    TaskState.DOWNLOADING: ["submitting", "submitted", "downloading"],
    TaskState.DELIVERING: ["submitting", "submitted", "downloading", "delivering"],
    TaskState.DELIVERED: ["submitting", "submitted", "downloading", "delivering", "delivered"],
    TaskState.FAILED: ["failed"],
    TaskState.CANCELLED: ["cancelled"],
    TaskState.UNKNOWN: ["submitting", "unknown"],
}


async def task_in(store: Storage, make_task, state: TaskState, **overrides) -> Task:
    task = await store.quota.reserve(make_task(**overrides), now=T0)
    for step in PATH_TO[state]:
        task = await store.tasks.transition(task.id, step, now=T0)
    assert task.state is state
    return task


ILLEGAL = [(a, b) for a, b in itertools.product(TaskState, TaskState) if b not in TRANSITIONS[a]]
LEGAL = [(a, b) for a in TaskState for b in TRANSITIONS[a]]


@pytest.mark.parametrize(("source", "target"), ILLEGAL, ids=[f"{a}->{b}" for a, b in ILLEGAL])
async def test_illegal_transitions_raise_and_write_nothing(store: Storage, make_task, source, target) -> None:
    task = await task_in(store, make_task, source)
    ledger_before = await store.quota.entries_for_task(task.id)
    with pytest.raises(IllegalTransition) as caught:
        await store.tasks.transition(task.id, target, now=T0 + 5, progress=50, api_status="Processing")
    assert (caught.value.from_state, caught.value.to_state) == (source, target)
    assert await store.tasks.get(task.id) == task
    assert await store.quota.entries_for_task(task.id) == ledger_before


@pytest.mark.parametrize(("source", "target"), LEGAL, ids=[f"{a}->{b}" for a, b in LEGAL])
async def test_legal_transitions_settle_the_ledger(store: Storage, make_task, source, target) -> None:
    task = await task_in(store, make_task, source)
    moved = await store.tasks.transition(task.id, target, now=T0 + 5)
    assert moved.state is target
    kinds = [e.kind for e in await store.quota.entries_for_task(task.id)]
    expected = {
        "failed": ["reserve", "refund"],
        "cancelled": ["reserve", "refund"],
        "delivered": ["reserve", "charge"],
    }
    assert kinds == expected.get(target.value, ["reserve"])
    if target.final:
        assert (moved.finished_at, moved.next_poll_at) == (T0 + 5, None)


def test_the_transition_table_covers_every_state_and_finals_are_dead_ends() -> None:
    assert set(TRANSITIONS) == set(TaskState)
    for state in (TaskState.DELIVERED, TaskState.FAILED, TaskState.CANCELLED):
        assert state.final and TRANSITIONS[state] == frozenset()
    assert TaskState.CANCELLED in TRANSITIONS[TaskState.QUEUED]
    assert TaskState.CANCELLED not in TRANSITIONS[TaskState.SUBMITTED]  # only before submitting


async def test_full_lifecycle_records_fields_and_times(store: Storage, make_task) -> None:
    task = await store.quota.reserve(make_task(), now=T0)
    task = await store.tasks.update_fields(task.id, status_message_id=777)
    task = await store.tasks.transition(task.id, "submitting", now=T0 + 1, attempts=1)
    task = await store.tasks.transition(
        task.id, TaskState.SUBMITTED, now=T0 + 2, api_task_id="106916112212032", next_poll_at=T0 + 60
    )
    assert (task.submitted_at, task.next_poll_at, task.attempts) == (T0 + 2, T0 + 60, 1)
    task = await store.tasks.transition(
        task.id, "processing", now=T0 + 60, progress=40, api_status="Processing"
    )
    task = await store.tasks.transition(task.id, "processing", now=T0 + 70, progress=80)
    task = await store.tasks.transition(
        task.id, "downloading", now=T0 + 80, file_id="176844028768320", width=1366, height=768
    )
    task = await store.tasks.transition(task.id, "delivering", now=T0 + 85, video_bytes=5_000_000)
    task = await store.tasks.update_fields(task.id, result_message_id=888)
    task = await store.tasks.transition(task.id, "delivered", now=T0 + 90)
    assert task.state is TaskState.DELIVERED
    assert (task.status_message_id, task.result_message_id, task.api_task_id) == (777, 888, "106916112212032")
    assert (task.progress, task.api_status, task.file_id, task.width, task.height) == (
        80,
        "Processing",
        "176844028768320",
        1366,
        768,
    )
    assert (task.created_at, task.submitted_at, task.finished_at, task.next_poll_at) == (
        T0,
        T0 + 2,
        T0 + 90,
        None,
    )
    assert await store.tasks.get_by_api_id("106916112212032") == task


async def test_entering_a_polled_state_without_a_poll_time_is_due_at_once(store: Storage, make_task) -> None:
    task = await task_in(store, make_task, TaskState.SUBMITTING)
    task = await store.tasks.transition(task.id, "submitted", now=T0 + 3, api_task_id="1")
    assert task.next_poll_at == T0 + 3
    assert [t.id for t in await store.tasks.due_for_poll(T0 + 3)] == [task.id]


async def test_unknown_outcome_is_resolved_by_a_moderator_and_audited(store: Storage, make_task) -> None:
    lost = await task_in(store, make_task, TaskState.UNKNOWN)
    found = await task_in(store, make_task, TaskState.UNKNOWN)
    await store.tasks.transition(lost.id, "failed", now=T0, actor_id=MOD, error_code="unknown_outcome")
    resumed = await store.tasks.transition(found.id, "submitted", now=T0, actor_id=MOD, api_task_id="42")
    assert resumed.api_task_id == "42"
    entries = await store.audit.list(GUILD, actor=MOD)
    assert [(e.action, e.target, e.target_user_id) for e in entries] == [
        ("task.submitted", f"task:{found.id}", USER),
        ("task.failed", f"task:{lost.id}", USER),
    ]
    assert entries[0].before == {"state": "unknown"}
    assert entries[0].after == {"state": "submitted", "api_task_id": "42", "submitted_at": T0}
    assert [e.kind for e in await store.quota.entries_for_task(lost.id)] == ["reserve", "refund"]


async def test_unknown_task_and_bad_fields_are_refused(store: Storage, make_task) -> None:
    with pytest.raises(UnknownTask):
        await store.tasks.get(404)
    with pytest.raises(UnknownTask):
        await store.tasks.get_by_api_id("nope")
    with pytest.raises(UnknownTask):
        await store.tasks.transition(404, "submitting")
    with pytest.raises(UnknownTask):
        await store.tasks.update_fields(404, progress=1)
    task = await store.quota.reserve(make_task(), now=T0)
    with pytest.raises(InvalidValue, match="state"):
        await store.tasks.transition(task.id, "exploded")
    with pytest.raises(InvalidValue, match="cost_tenths"):
        await store.tasks.update_fields(task.id, cost_tenths=0)
    with pytest.raises(InvalidValue, match="state"):
        await store.tasks.update_fields(task.id, state="delivered")
    with pytest.raises(InvalidValue, match="progress"):
        await store.tasks.update_fields(task.id, progress=101)
    with pytest.raises(InvalidValue, match="attempts"):
        await store.tasks.update_fields(task.id, attempts=-1)
    with pytest.raises(InvalidValue, match="next_poll_at"):
        await store.tasks.update_fields(task.id, next_poll_at="soon")
    assert await store.tasks.get(task.id) == task


async def test_api_task_id_is_unique(store: Storage, make_task) -> None:
    first = await task_in(store, make_task, TaskState.SUBMITTING)
    second = await task_in(store, make_task, TaskState.SUBMITTING)
    await store.tasks.transition(first.id, "submitted", api_task_id="7")
    with pytest.raises(InvalidValue, match="api_task_id"):
        await store.tasks.transition(second.id, "submitted", api_task_id="7")
    assert (await store.tasks.get(second.id)).state is TaskState.SUBMITTING


async def test_long_api_texts_are_truncated_not_refused(store: Storage, make_task) -> None:
    task = await task_in(store, make_task, TaskState.SUBMITTING)
    failed = await store.tasks.transition(task.id, "failed", error_message="x" * 5000, api_status="y" * 5000)
    assert len(failed.error_message or "") == 1000 and failed.error_message.endswith("…")
    assert len(failed.api_status or "") == 1000


async def test_due_for_poll_orders_by_due_time_and_skips_others(store: Storage, make_task) -> None:
    due = {}
    for offset in (30, 10, 20, 500):
        task = await task_in(store, make_task, TaskState.SUBMITTED)
        due[offset] = await store.tasks.update_fields(task.id, next_poll_at=T0 + offset)
    processing = await task_in(store, make_task, TaskState.PROCESSING)
    processing = await store.tasks.update_fields(processing.id, next_poll_at=T0 + 15)
    downloading = await task_in(store, make_task, TaskState.DOWNLOADING)
    await store.tasks.update_fields(downloading.id, next_poll_at=T0)  # not polled in this state
    await task_in(store, make_task, TaskState.QUEUED)
    finished = await task_in(store, make_task, TaskState.FAILED)
    await store.tasks.update_fields(finished.id, next_poll_at=T0)

    result = await store.tasks.due_for_poll(T0 + 30, limit=50)
    assert [t.id for t in result] == [due[10].id, processing.id, due[20].id, due[30].id]
    assert [t.id for t in await store.tasks.due_for_poll(T0 + 30, limit=2)] == [due[10].id, processing.id]
    assert await store.tasks.due_for_poll(T0 + 5) == []
    assert await store.tasks.next_poll_time() == T0 + 10
    with pytest.raises(InvalidValue):
        await store.tasks.due_for_poll(T0, limit=-1)


async def test_unfinished_lists_every_non_final_task(store: Storage, make_task) -> None:
    tasks = {state: await task_in(store, make_task, state) for state in TaskState}
    unfinished = await store.tasks.unfinished()
    assert [t.id for t in unfinished] == sorted(t.id for s, t in tasks.items() if not s.final)
    assert {t.state for t in unfinished} == {s for s in TaskState if not s.final}


async def test_user_and_guild_listings_paginate_newest_first(store: Storage, make_task) -> None:
    mine = [await store.quota.reserve(make_task(cost_tenths=1), now=T0 + i) for i in range(7)]
    theirs = await store.quota.reserve(make_task(user_id=OTHER, cost_tenths=1), now=T0)
    elsewhere = await store.quota.reserve(make_task(guild_id=GUILD + 1, cost_tenths=1), now=T0)
    await store.tasks.transition(mine[2].id, "cancelled")

    newest_first = [t.id for t in reversed(mine)]
    assert [t.id for t in await store.tasks.recent_for_user(GUILD, USER, limit=3)] == newest_first[:3]
    assert [t.id for t in await store.tasks.recent_for_user(GUILD, USER, limit=3, offset=3)] == newest_first[
        3:6
    ]
    assert [t.id for t in await store.tasks.recent_for_user(GUILD, USER, limit=3, offset=6)] == newest_first[
        6:
    ]
    assert await store.tasks.count_for_user(GUILD, USER) == 7
    assert await store.tasks.count_for_user(GUILD, USER, state="cancelled") == 1
    assert [t.id for t in await store.tasks.recent_for_user(GUILD + 1, USER)] == [elsewhere.id]

    assert await store.tasks.count_for_guild(GUILD) == 8
    everyone = await store.tasks.list_for_guild(GUILD, limit=100)
    assert everyone[0].id == theirs.id and len(everyone) == 8
    assert [t.id for t in await store.tasks.list_for_guild(GUILD, user_id=OTHER)] == [theirs.id]
    cancelled = await store.tasks.list_for_guild(GUILD, state=TaskState.CANCELLED)
    assert [t.id for t in cancelled] == [mine[2].id]
    with pytest.raises(InvalidValue):
        await store.tasks.list_for_guild(GUILD, state="bogus")


async def test_median_generation_time_uses_the_latest_deliveries_of_the_combination(
    store: Storage, make_task
) -> None:
    assert await store.tasks.median_generation_seconds("MiniMax-Hailuo-2.3", "768P", 6) is None
    for i, seconds in enumerate([100, 300, 200, 1000, 400]):
        task = await task_in(store, make_task, TaskState.DOWNLOADING)
        await store.tasks.update_fields(task.id, submitted_at=T0)
        await store.tasks.transition(task.id, "delivering")
        await store.tasks.transition(task.id, "delivered", finished_at=T0 + seconds, now=T0 + i)
    # Other combinations and failures are ignored.
    other = await task_in(store, make_task, TaskState.DOWNLOADING, resolution="1080P")
    await store.tasks.transition(other.id, "delivering")
    await store.tasks.transition(other.id, "delivered", now=T0 + 9999)
    await task_in(store, make_task, TaskState.FAILED)

    assert await store.tasks.median_generation_seconds("MiniMax-Hailuo-2.3", "768P", 6) == 300
    # The three latest by finish time are 300, 400 and 1000 seconds.
    assert await store.tasks.median_generation_seconds("MiniMax-Hailuo-2.3", "768P", 6, sample=3) == 400
    assert await store.tasks.median_generation_seconds("MiniMax-Hailuo-2.3", "768P", 10) is None
    # A combination not delivered yet can borrow the model's other combinations.
    any_combo = await store.tasks.median_generation_seconds(
        "MiniMax-Hailuo-2.3", "768P", 10, any_combination=True
    )
    assert any_combo == 350  # the five 768P 6 s deliveries plus the 1080P one (9999 s)
    assert await store.tasks.median_generation_seconds("T2V-01", None, None, any_combination=True) is None


async def test_generation_history_lists_the_models_latest_deliveries(store: Storage, make_task) -> None:
    """What the generation-time estimate learns from: every combination of the model, newest first."""
    assert await store.tasks.generation_history("MiniMax-Hailuo-2.3") == []
    for i, (resolution, seconds) in enumerate([("768P", 100.0), ("1080P", 250.0), ("768P", 120.0)]):
        task = await task_in(store, make_task, TaskState.DOWNLOADING, resolution=resolution)
        await store.tasks.update_fields(task.id, submitted_at=T0 + i)
        await store.tasks.transition(task.id, "delivering")
        await store.tasks.transition(task.id, "delivered", finished_at=T0 + i + seconds, now=T0 + i)
    await task_in(store, make_task, TaskState.FAILED)
    history = await store.tasks.generation_history("MiniMax-Hailuo-2.3")
    assert [(r, s) for _, r, _, s in history] == [("1080P", 250.0), ("768P", 120.0), ("768P", 100.0)]
    assert {m for m, _, _, _ in history} == {"text"}
    assert len(await store.tasks.generation_history("MiniMax-Hailuo-2.3", sample=2)) == 2
    assert await store.tasks.generation_history("T2V-01") == []


async def test_fixed_output_models_match_on_missing_resolution_and_duration(
    store: Storage, make_task
) -> None:
    task = await task_in(
        store, make_task, TaskState.DOWNLOADING, model="T2V-01", resolution=None, duration=None
    )
    await store.tasks.update_fields(task.id, submitted_at=T0)
    await store.tasks.transition(task.id, "delivering")
    await store.tasks.transition(task.id, "delivered", finished_at=T0 + 120)
    assert await store.tasks.median_generation_seconds("T2V-01", None, None) == 120


async def plans_of(store: Storage, call) -> list[str]:
    """Run a repository call, capture the SQL it really ran, and return SQLite's plan for each."""
    statements: list[str] = []
    await store.db.set_trace_callback(statements.append)
    try:
        await call()
    finally:
        await store.db.set_trace_callback(None)
    queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    plans = []
    async with store.db.read() as conn:
        for sql in queries:
            plans.append(" ".join(str(row[3]) for row in await fetch_all(conn, f"EXPLAIN QUERY PLAN {sql}")))
    return plans


@pytest.mark.parametrize(
    ("call", "index"),
    [
        (lambda s: s.tasks.due_for_poll(T0, limit=10), "tasks_due"),
        (lambda s: s.tasks.next_poll_time(), "tasks_due"),
        (lambda s: s.tasks.unfinished(), "tasks_unfinished"),
        (lambda s: s.tasks.recently_finished(T0 - 600), "tasks_finished"),
        (lambda s: s.tasks.recent_for_user(GUILD, USER, limit=10), "tasks_user"),
        (lambda s: s.tasks.recent_for_user(None, USER, limit=10), "tasks_user"),
        (lambda s: s.tasks.list_for_guild(GUILD, state="unknown"), "tasks_guild"),
        (lambda s: s.tasks.count_for_guild(GUILD), "tasks_guild"),
        (lambda s: s.tasks.get_by_api_id("1"), "tasks_api_task_id"),
        (lambda s: s.tasks.median_generation_seconds("T2V-01", None, None), "tasks_generation_time"),
        (
            lambda s: s.tasks.median_generation_seconds("MiniMax-Hailuo-02", "768P", 6),
            "tasks_generation_time",
        ),
        (lambda s: s.tasks.generation_history("MiniMax-Hailuo-2.3"), "tasks_generation_time"),
    ],
    ids=[
        "due",
        "next_poll",
        "unfinished",
        "recently_finished",
        "recent",
        "recent_dm",
        "guild_state",
        "guild_count",
        "api_id",
        "median_fixed",
        "median",
        "history",
    ],
)
@pytest.mark.sqlite_only  # SQLite's query plans / trace callback
async def test_bot_queries_use_their_indexes(store: Storage, call, index: str) -> None:
    async def run() -> None:
        with contextlib.suppress(UnknownTask):
            await call(store)

    plans = await plans_of(store, run)
    assert plans and all(index in plan for plan in plans), plans
    assert not any("SCAN tasks" in plan and "INDEX" not in plan for plan in plans), plans


@pytest.mark.sqlite_only  # SQLite's query plans / trace callback
async def test_usage_and_stats_queries_avoid_full_scans(store: Storage, make_task) -> None:
    async def run() -> None:
        await store.quota.usage(GUILD, USER, now=T0)
        await store.quota.guild_usage(GUILD, now=T0)
        await store.tasks.stats(GUILD, T0 - 86400, T0)

    plans = await plans_of(store, run)
    assert len(plans) >= 8
    for plan in plans:
        assert "SEARCH" in plan and "SCAN" not in plan, plan


async def test_an_extend_records_how_it_was_joined_and_survives_a_reopen(store: Storage, make_task) -> None:
    task = await store.quota.reserve(make_task(), now=T0)
    assert task.join_state is None
    joined = await store.tasks.update_fields(task.id, join_state="joined", delivered_seconds=11.9)
    assert (joined.join_state, joined.delivered_seconds) == ("joined", 11.9)
    assert (await store.tasks.get(task.id)).join_state == "joined"
    with pytest.raises(InvalidValue, match="join_state"):
        await store.tasks.update_fields(task.id, join_state="half")
    assert (await store.tasks.update_fields(task.id, join_state="alone")).join_state == "alone"
