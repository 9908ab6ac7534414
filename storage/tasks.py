"""Tasks: one row per generation request, moved only through the checked state machine.

A state change and its money move together: moving to ``failed``/``cancelled`` writes the refund
and moving to ``delivered`` writes the charge in the same transaction, so no crash can separate a
task's state from its ledger.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable, Mapping
from typing import Any

from storage import audit, ledger
from storage.backend import Backend, Connection, Row, fetch_all, fetch_int, fetch_one
from storage.checks import MAX_NAME_CHARS, count, optional_int, system_text, text
from storage.errors import ConstraintViolated, IllegalTransition, InvalidValue, LeaseLost, UnknownTask
from storage.models import JOIN_STATES, GuildStats, Task
from storage.periods import now_or
from storage.spec_columns import SPEC_COLUMNS, spec_from_row
from storage.states import FINAL_STATES, POLLED_STATES, REFUNDING_STATES, TaskState, can_transition
from storage.stats import guild_stats

# Entering these, the member is owed a notice (``notified_at`` is cleared until it is posted).
NOTICE_STATES = frozenset({TaskState.FAILED, TaskState.UNKNOWN})

_OWN_COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Task) if f.name != "spec")
TASK_COLUMNS: tuple[str, ...] = (*_OWN_COLUMNS, *SPEC_COLUMNS)
_SELECT = f"SELECT {', '.join(TASK_COLUMNS)} FROM tasks"
_BOOL_COLUMNS = frozenset({"deliver_by_dm", "has_audio"})

# Spelled exactly as in the partial indexes' WHERE clauses, or SQLite will not use those indexes.
_FINAL_SQL = "'delivered', 'failed', 'cancelled'"
_POLLED_SQL = "'submitted', 'processing'"
assert {s.value for s in FINAL_STATES} == {"delivered", "failed", "cancelled"}
assert {s.value for s in POLLED_STATES} == {"submitted", "processing"}


def _optional_time(name: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(name, f"must be a time in epoch seconds (got {value!r}).")
    return float(value)


def _optional_id(name: str, value: object) -> int | None:
    return optional_int(name, value, minimum=0)


def _api_id(name: str, value: object) -> str | None:
    return None if value is None else text(name, value, MAX_NAME_CHARS)


# The columns callers may change besides the state, each with its check.
MUTABLE_FIELDS: Mapping[str, Callable[[str, object], object]] = {
    "status_message_id": _optional_id,
    "result_message_id": _optional_id,
    "api_task_id": _api_id,
    "file_id": _api_id,
    "api_status": lambda _n, v: system_text(v),
    "progress": lambda n, v: optional_int(n, v, minimum=0, maximum=100),
    "error_code": lambda _n, v: system_text(v),
    "error_message": lambda _n, v: system_text(v),
    "attempts": lambda n, v: count(n, v),
    "submitted_at": _optional_time,
    "finished_at": _optional_time,
    "next_poll_at": _optional_time,
    "width": _optional_id,
    "height": _optional_id,
    "video_bytes": _optional_id,
    "notified_at": _optional_time,
    "delivered_seconds": lambda n, v: _optional_seconds(n, v),
    "has_audio": lambda n, v: _optional_bool(n, v),
    "thread_id": _optional_id,
    "join_state": lambda n, v: _join_state(n, v),
    "group_posted_at": _optional_time,
}


def _join_state(name: str, value: object) -> str | None:
    if value is not None and value not in JOIN_STATES:
        raise InvalidValue(name, f"must be one of {', '.join(JOIN_STATES)} (got {value!r}).")
    return None if value is None else str(value)


def _optional_seconds(name: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 86_400:
        raise InvalidValue(name, f"must be a number of seconds between 0 and 86400 (got {value!r}).")
    return float(value)


def _optional_bool(name: str, value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise InvalidValue(name, f"must be true or false (got {value!r}).")
    return int(value)


def row_to_task(row: Row) -> Task:
    values: dict[str, Any] = {name: row[name] for name in _OWN_COLUMNS}
    for name in _BOOL_COLUMNS:
        values[name] = None if values[name] is None and name == "has_audio" else bool(values[name])
    values["state"] = TaskState(values["state"])
    return Task(**values, spec=spec_from_row(row))


def check_fields(fields: Mapping[str, object]) -> dict[str, object]:
    checked: dict[str, object] = {}
    for name, value in fields.items():
        check = MUTABLE_FIELDS.get(name)
        if check is None:
            raise InvalidValue(
                name, f"is not a task field that can be changed ({', '.join(MUTABLE_FIELDS)})."
            )
        checked[name] = check(name, value)
    return checked


def to_state(value: TaskState | str) -> TaskState:
    try:
        return TaskState(value)
    except ValueError:
        raise InvalidValue("state", f"must be one of {', '.join(TaskState)} (got {value!r}).") from None


async def load_task(conn: Connection, task_id: int) -> Task:
    row = await fetch_one(conn, f"{_SELECT} WHERE id = ?", (task_id,))
    if row is None:
        raise UnknownTask(task_id)
    return row_to_task(row)


async def _write(conn: Connection, task_id: int, values: Mapping[str, object]) -> Task:
    """Update the given columns and return the task as stored (``RETURNING``: one round trip)."""
    if not values:
        return await load_task(conn, task_id)
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    try:
        row = await fetch_one(
            conn,
            f"UPDATE tasks SET {assignments} WHERE id = :_id RETURNING {', '.join(TASK_COLUMNS)}",
            {**values, "_id": task_id},
        )
    except ConstraintViolated:
        if "api_task_id" in values:
            raise InvalidValue("api_task_id", "is already recorded on another task.") from None
        raise
    if row is None:
        raise UnknownTask(task_id)
    return row_to_task(row)


class TaskRepository:
    def __init__(self, db: Backend) -> None:
        self._db = db

    async def get(self, task_id: int) -> Task:
        async with self._db.read() as conn:
            return await load_task(conn, task_id)

    async def get_by_api_id(self, api_task_id: str) -> Task:
        async with self._db.read() as conn:
            row = await fetch_one(conn, f"{_SELECT} WHERE api_task_id = ?", (api_task_id,))
        if row is None:
            raise UnknownTask(api_task_id)
        return row_to_task(row)

    async def transition(
        self,
        task_id: int,
        to: TaskState | str,
        *,
        now: float | None = None,
        actor_id: int | None = None,
        lease_owner: str | None = None,
        **fields: object,
    ) -> Task:
        """Move a task to ``to`` (checked), changing ``fields`` in the same transaction.

        Entering ``failed``/``cancelled`` refunds and entering ``delivered`` charges, exactly once.
        Entering a polled state without a ``next_poll_at`` makes it due at once, so no task is
        forgotten; entering a final state stamps ``finished_at`` and clears ``next_poll_at``.
        ``actor_id`` marks a moderator's action (resolving a stuck task) and is written to the audit log.
        ``lease_owner``: move only while this process holds the task's lease (:mod:`storage.leases`),
        else :class:`LeaseLost`: a step that must never run twice is checked against the lease in
        the same transaction that records it.
        """
        target = to_state(to)
        values = check_fields(fields)
        moment = now_or(now)
        async with self._db.transaction() as conn:
            return await _transition_in(conn, task_id, target, values, moment, actor_id, lease_owner)

    async def group(self, group_id: int) -> list[Task]:
        """Every take of a group (``variations``), by take number."""
        async with self._db.read() as conn:
            rows = await fetch_all(conn, f"{_SELECT} WHERE group_id = ? ORDER BY take", (group_id,))
        return [row_to_task(r) for r in rows]

    async def deliver_group(
        self, group_id: int, posted: Mapping[int, int], *, now: float | None = None
    ) -> list[Task]:
        """The group's reply is out: each take of ``posted`` (task id → its result message) moves
        ``delivering`` → ``delivered`` (charged), and the first take records the reply as posted,
        all in one transaction, so a restart neither posts it again nor charges a take twice.
        A take no longer ``delivering`` (failed meanwhile) is left as it is. The group as stored."""
        moment = now_or(now)
        async with self._db.transaction() as conn:
            for task_id, message_id in posted.items():
                task = await load_task(conn, task_id)
                if task.group_id != group_id:
                    raise InvalidValue("task", f"#{task_id} is not a take of group {group_id}.")
                if task.state is not TaskState.DELIVERING:
                    continue
                finished = task.finished_at if task.finished_at is not None else moment
                values = check_fields({"result_message_id": message_id, "finished_at": finished})
                await _transition_in(conn, task_id, TaskState.DELIVERED, values, moment, None, None)
            await _write(conn, group_id, {"group_posted_at": moment})
            rows = await fetch_all(conn, f"{_SELECT} WHERE group_id = ? ORDER BY take", (group_id,))
        return [row_to_task(r) for r in rows]

    async def unposted_groups(self, since: float, limit: int = 50) -> list[int]:
        """Groups asked for since ``since`` whose reply is not recorded as posted (a restart looks at
        each: one whose takes are all over posts its reply now)."""
        count("limit", limit, minimum=1, maximum=1000)
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                "SELECT id FROM tasks WHERE group_id = id AND group_posted_at IS NULL "
                "AND created_at >= ? ORDER BY id LIMIT ?",
                (since, limit),
            )
        return [int(r[0]) for r in rows]

    async def update_fields(self, task_id: int, **fields: object) -> Task:
        """Change columns other than the state (message ids, progress, next poll…)."""
        values = check_fields(fields)
        async with self._db.transaction() as conn:
            return await _write(conn, task_id, values)

    async def due_for_poll(
        self, now: float | None = None, limit: int = 50, *, lease_owner: str | None = None
    ) -> list[Task]:
        """Submitted/processing tasks whose next poll is due, the most overdue first (``lease_owner``:
        only those that process holds, :mod:`storage.leases`)."""
        count("limit", limit, minimum=1)
        owned, params = _owned_by(lease_owner)
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                f"{_SELECT} WHERE state IN ({_POLLED_SQL}) AND next_poll_at <= ?{owned} "
                "ORDER BY next_poll_at LIMIT ?",
                (now_or(now), *params, limit),
            )
        return [row_to_task(r) for r in rows]

    async def next_poll_time(self, *, lease_owner: str | None = None) -> float | None:
        """When the earliest polled task falls due, so the poller can sleep until then."""
        owned, params = _owned_by(lease_owner)
        async with self._db.read() as conn:
            row = await fetch_one(
                conn, f"SELECT MIN(next_poll_at) FROM tasks WHERE state IN ({_POLLED_SQL}){owned}", params
            )
        return None if row is None or row[0] is None else float(row[0])

    async def unfinished(self) -> list[Task]:
        """Every task not in a final state, oldest first: what a restart must resume."""
        async with self._db.read() as conn:
            # No ORDER BY: it would make SQLite scan the whole table in id order instead of
            # reading the small partial index; the unfinished few are sorted here.
            rows = await fetch_all(conn, f"{_SELECT} WHERE state NOT IN ({_FINAL_SQL})")
        return sorted((row_to_task(r) for r in rows), key=lambda t: t.id)

    async def unnotified(self, since: float, limit: int = 50) -> list[Task]:
        """Failed or ``unknown`` tasks since ``since`` whose member was not told yet, newest first (a
        crash came between saving the failure and posting its notice, or Discord took it nowhere).
        The window keeps a member who can never be reached from being retried forever."""
        count("limit", limit, minimum=1, maximum=1000)
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                f"{_SELECT} WHERE notified_at IS NULL AND state IN ('failed', 'unknown') "
                "AND COALESCE(finished_at, created_at) >= ? ORDER BY id DESC LIMIT ?",
                (since, limit),
            )
        return [row_to_task(r) for r in rows]

    async def recently_finished(self, since: float, limit: int = 50) -> list[Task]:
        """Final tasks that finished at or after ``since``, newest first (a restart re-renders their
        cards, in case the last edit was lost)."""
        count("limit", limit, minimum=1, maximum=1000)
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                f"{_SELECT} WHERE state IN ({_FINAL_SQL}) AND finished_at >= ? "
                "ORDER BY finished_at DESC LIMIT ?",
                (since, limit),
            )
        return [row_to_task(r) for r in rows]

    async def recent_for_user(
        self, guild_id: int | None, user_id: int, limit: int = 10, offset: int = 0
    ) -> list[Task]:
        """A member's tasks in one guild (``None``: in direct messages), newest first."""
        return await self.list_for_guild(guild_id, user_id=user_id, limit=limit, offset=offset)

    async def count_for_user(
        self, guild_id: int | None, user_id: int, *, state: TaskState | str | None = None
    ) -> int:
        return await self.count_for_guild(guild_id, user_id=user_id, state=state)

    async def list_for_guild(
        self,
        guild_id: int | None,
        *,
        user_id: int | None = None,
        state: TaskState | str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[Task]:
        count("limit", limit, minimum=1, maximum=1000)
        count("offset", offset)
        where, params = _filters(guild_id, user_id, state)
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn, f"{_SELECT} WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?", (*params, limit, offset)
            )
        return [row_to_task(r) for r in rows]

    async def count_for_guild(
        self, guild_id: int | None, *, user_id: int | None = None, state: TaskState | str | None = None
    ) -> int:
        where, params = _filters(guild_id, user_id, state)
        async with self._db.read() as conn:
            return await fetch_int(conn, f"SELECT COUNT(*) FROM tasks WHERE {where}", params)

    async def count_by_state(self) -> dict[TaskState, int]:
        """How many tasks are in each state (states with none left out): the metrics' tasks gauge.

        One pass over the table; the metrics server runs it at most once per scrape interval.
        """
        async with self._db.read() as conn:
            rows = await fetch_all(conn, "SELECT state, COUNT(*) FROM tasks GROUP BY state")
        return {TaskState(str(r[0])): int(r[1]) for r in rows}

    async def median_generation_seconds(
        self,
        model: str,
        resolution: str | None,
        duration: int | None,
        *,
        sample: int = 50,
        any_combination: bool = False,
    ) -> float | None:
        """Median of submit → finish over the latest ``sample`` deliveries of this combination.

        ``any_combination``: of this model at any resolution and duration, a rougher guess for a
        combination that has not been delivered yet.
        """
        count("sample", sample, minimum=1)
        combo = "" if any_combination else "AND resolution IS ? AND duration IS ? "
        params: tuple[object, ...] = (
            (model, sample) if any_combination else (model, resolution, duration, sample)
        )
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                "SELECT finished_at - submitted_at FROM tasks "
                f"WHERE state = 'delivered' AND model = ? {combo}"
                "AND submitted_at IS NOT NULL AND finished_at IS NOT NULL "
                "ORDER BY finished_at DESC LIMIT ?",
                params,
            )
        return float(statistics.median(float(r[0]) for r in rows)) if rows else None

    async def generation_history(
        self, model: str, *, sample: int = 50
    ) -> list[tuple[str, str | None, int | None, float]]:
        """(mode, resolution, duration, submit → finish seconds) of the model's latest ``sample``
        deliveries, newest first: what the generation-time estimate learns from."""
        count("sample", sample, minimum=1)
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                "SELECT mode, resolution, duration, finished_at - submitted_at FROM tasks "
                "WHERE state = 'delivered' AND model = ? "
                "AND submitted_at IS NOT NULL AND finished_at IS NOT NULL "
                "ORDER BY finished_at DESC LIMIT ?",
                (model, sample),
            )
        return [(str(r[0]), r[1], r[2], float(r[3])) for r in rows]

    async def stats(self, guild_id: int, since: float, until: float, *, top: int = 10) -> GuildStats:
        """Counts, success rate, credits, generation time, per model, per day and top members for
        tasks requested in ``[since, until)`` (see :func:`storage.periods.period_bounds`)."""
        async with self._db.snapshot() as conn:
            return await guild_stats(conn, guild_id, since, until, top=top)


async def _transition_in(
    conn: Connection,
    task_id: int,
    target: TaskState,
    values: dict[str, object],
    moment: float,
    actor_id: int | None,
    lease_owner: str | None,
) -> Task:
    """:meth:`TaskRepository.transition` inside the caller's transaction."""
    task = await load_task(conn, task_id)
    if not can_transition(task.state, target):
        raise IllegalTransition(task_id, task.state, target)
    if lease_owner is not None:
        holder = await fetch_one(conn, "SELECT lease_owner FROM tasks WHERE id = ?", (task_id,))
        if holder is None or holder[0] != lease_owner:
            raise LeaseLost(task_id, task.state, target, None if holder is None else holder[0])
    values["state"] = target.value
    if target is TaskState.SUBMITTED and task.submitted_at is None:
        values.setdefault("submitted_at", moment)
    if target in POLLED_STATES and values.get("next_poll_at", task.next_poll_at) is None:
        values["next_poll_at"] = moment
    if target.final:
        values.setdefault("finished_at", moment)
        values["next_poll_at"] = None
    if target in NOTICE_STATES:
        values.setdefault("notified_at", None)  # owed until the notice is out
    moved = await _write(conn, task_id, values)
    if target in REFUNDING_STATES:
        await ledger.add_refund(conn, task_id, moment)
    elif target is TaskState.DELIVERED:
        await ledger.add_charge(conn, task_id, moment)
    if actor_id is not None and task.guild_id is not None:
        await audit.record(
            conn,
            guild_id=task.guild_id,
            actor_id=actor_id,
            action=f"task.{target.value}",
            target=f"task:{task_id}",
            target_user_id=task.user_id,
            before={"state": task.state.value},
            after={k: v for k, v in values.items() if k not in ("finished_at", "next_poll_at")},
            now=moment,
        )
    return moved


def _owned_by(lease_owner: str | None) -> tuple[str, tuple[object, ...]]:
    return ("", ()) if lease_owner is None else (" AND lease_owner = ?", (lease_owner,))


def _filters(
    guild_id: int | None, user_id: int | None, state: TaskState | str | None
) -> tuple[str, tuple[object, ...]]:
    clauses: list[str] = ["guild_id IS ?"]
    params: list[object] = [guild_id]
    if user_id is not None:
        clauses.append("user_id = ?")
        params.append(user_id)
    if state is not None:
        clauses.append("state = ?")
        params.append(to_state(state).value)
    return " AND ".join(clauses), tuple(params)
