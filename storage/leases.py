"""Leases: which process works on a task now, so several processes on one database never both do.

A lease is an owner (a process's random id) and an expiry on the task's row. The owner renews all
of its leases in one statement while it lives; once one has expired, any process may take the task
over. A queued task carries no lease while it waits in the shared queue: the process that pops it
takes one first, and the move to ``submitting`` (the one step that must never happen twice) checks
it in the same transaction (:meth:`storage.tasks.TaskRepository.transition`'s ``lease_owner``).

On PostgreSQL the statements pick their rows with ``FOR UPDATE SKIP LOCKED`` outside the single
writer order (:meth:`storage.backend.Backend.row_locked`): a row another process is changing this
instant is skipped rather than waited for. On SQLite the one process trivially wins every lease,
through the same statements.

A named job lease (``job_leases``) does the same for work that is not a task's: one process at a
time repairs the failure notices a crash kept back.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.backend import Backend, Connection, fetch_all, fetch_one
from storage.checks import MAX_NAME_CHARS, count, text
from storage.models import Task
from storage.tasks import TASK_COLUMNS, row_to_task

_FINAL_SQL = "'delivered', 'failed', 'cancelled'"
# States whose next step some process must take even when nobody leased them (a task from before
# leases, or one a moderator moved on): queued tasks wait in the shared queue, unknown ones for a
# moderator, unless a lease says someone is working on them.
# (An unknown task is in this set: after a restart, the task list may still settle a V2 one.)
_WORKING_SQL = "'submitting', 'submitted', 'processing', 'downloading', 'delivering', 'unknown'"
# Far past any expiry: "every lease counts as expired" (the one SQLite process, at start).
EVERY_LEASE = 1e300


@dataclass(frozen=True)
class QueuedTask:
    task_id: int
    guild_id: int | None
    user_id: int


@dataclass(frozen=True)
class OpenQueue:
    """The queued tasks free for ``owner`` to submit, and the highest task id when it was read
    (a task above it was created after the read, so its absence means nothing)."""

    tasks: list[QueuedTask]
    max_task_id: int
    mine: tuple[int, ...] = ()  # queued tasks ``owner`` holds (popped, or waiting to retry)


def _skip_locked(conn: Connection) -> str:
    return " FOR UPDATE SKIP LOCKED" if conn.dialect == "postgresql" else ""


def _owner(owner: str) -> str:
    return text("owner", owner, MAX_NAME_CHARS)


class LeaseRepository:
    def __init__(self, db: Backend) -> None:
        self._db = db

    async def claim(
        self, task_id: int, owner: str, *, now: float, until: float, state: str | None = None
    ) -> bool:
        """Take (or renew) the lease of one unfinished task; False when another owner holds it
        unexpired, or the task is final (or not in ``state``, when given). Two owners racing for
        it: exactly one gets True."""
        _owner(owner)
        in_state = "" if state is None else " AND state = :state"
        async with self._db.row_locked() as conn:
            changed = await conn.execute(
                "UPDATE tasks SET lease_owner = :owner, lease_until = :until "
                f"WHERE id = :id AND state NOT IN ({_FINAL_SQL}){in_state} "
                "AND (lease_owner IS NULL OR lease_owner = :owner OR lease_until < :now)",
                {"owner": owner, "until": until, "id": task_id, "now": now, "state": state}
                if state is not None
                else {"owner": owner, "until": until, "id": task_id, "now": now},
            )
        return changed == 1

    async def renew(self, owner: str, *, until: float) -> int:
        """Extend every lease ``owner`` holds on an unfinished task; how many were extended.

        A row being changed this instant is skipped (PostgreSQL): the next renewal gets it, well
        before it expires.
        """
        _owner(owner)
        async with self._db.row_locked() as conn:
            return await conn.execute(
                "UPDATE tasks SET lease_until = ? WHERE id IN ("
                f"SELECT id FROM tasks WHERE lease_owner = ? AND state NOT IN ({_FINAL_SQL})"
                f"{_skip_locked(conn)})",
                (until, owner),
            )

    async def release(self, task_id: int, owner: str) -> bool:
        """Give one task's lease back (another process may take it at once)."""
        _owner(owner)
        async with self._db.row_locked() as conn:
            changed = await conn.execute(
                "UPDATE tasks SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?",
                (task_id, owner),
            )
        return changed == 1

    async def release_all(self, owner: str) -> int:
        """Give back every lease ``owner`` holds (a process stopping cleanly)."""
        _owner(owner)
        async with self._db.row_locked() as conn:
            return await conn.execute(
                "UPDATE tasks SET lease_owner = NULL, lease_until = NULL WHERE id IN ("
                f"SELECT id FROM tasks WHERE lease_owner = ? AND state NOT IN ({_FINAL_SQL}))",
                (owner,),
            )

    async def claim_orphans(
        self, owner: str, *, now: float, until: float, limit: int = 100, everything: bool = False
    ) -> list[Task]:
        """Take over tasks nobody works on: leases that expired (their owner died or stalled), and
        tasks in a working state with no lease at all. Returns them, oldest first, to be resumed.

        ``everything``: every unfinished task not already ``owner``'s, queued ones included (the one
        SQLite process at start: whoever held them is gone; pass ``now=EVERY_LEASE``).
        """
        _owner(owner)
        count("limit", limit, minimum=1, maximum=10_000)
        unleased = (
            "lease_owner IS NULL" if everything else f"lease_owner IS NULL AND state IN ({_WORKING_SQL})"
        )
        async with self._db.row_locked() as conn:
            rows = await fetch_all(
                conn,
                f"UPDATE tasks SET lease_owner = ?, lease_until = ? WHERE id IN ("
                f"SELECT id FROM tasks WHERE state NOT IN ({_FINAL_SQL}) AND (({unleased}) "
                "OR (lease_owner IS NOT NULL AND lease_owner <> ? AND lease_until < ?)) "
                f"ORDER BY id LIMIT ?{_skip_locked(conn)}) RETURNING {', '.join(TASK_COLUMNS)}",
                (owner, until, owner, now, limit),
            )
        return sorted((row_to_task(r) for r in rows), key=lambda t: t.id)

    async def release_queued(self, owner: str) -> int:
        """Give back ``owner``'s leases on queued tasks: they rejoin the shared queue."""
        _owner(owner)
        async with self._db.row_locked() as conn:
            return await conn.execute(
                "UPDATE tasks SET lease_owner = NULL, lease_until = NULL WHERE id IN ("
                f"SELECT id FROM tasks WHERE lease_owner = ? AND state = 'queued'{_skip_locked(conn)})",
                (owner,),
            )

    async def held_by(self, owner: str) -> list[int]:
        """The unfinished tasks ``owner`` holds, by id."""
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                f"SELECT id FROM tasks WHERE lease_owner = ? AND state NOT IN ({_FINAL_SQL}) ORDER BY id",
                (owner,),
            )
        return [int(r[0]) for r in rows]

    async def holder(self, task_id: int) -> tuple[str | None, float | None]:
        """Who holds the task's lease and until when (``(None, None)``: nobody)."""
        async with self._db.read() as conn:
            row = await fetch_one(conn, "SELECT lease_owner, lease_until FROM tasks WHERE id = ?", (task_id,))
        if row is None:
            return None, None
        return row[0], None if row[1] is None else float(row[1])

    async def open_queue(self, owner: str, *, now: float) -> OpenQueue:
        """The shared queue: queued tasks nobody holds (or whose lease expired), and apart from them
        the ids of those ``owner`` holds itself."""
        async with self._db.snapshot() as conn:
            rows = await fetch_all(
                conn,
                "SELECT id, guild_id, user_id, lease_owner FROM tasks WHERE state = 'queued' "
                "AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?) ORDER BY id",
                (owner, now),
            )
            top = await fetch_one(conn, "SELECT MAX(id) FROM tasks")
        max_id = 0 if top is None or top[0] is None else int(top[0])
        free = [QueuedTask(int(r[0]), r[1], int(r[2])) for r in rows if r[3] != owner]
        mine = tuple(int(r[0]) for r in rows if r[3] == owner)
        return OpenQueue(free, max_id, mine)

    # ------------------------------------------------------------------------------ named jobs

    async def claim_job(self, name: str, owner: str, *, now: float, until: float) -> bool:
        """Take (or renew) the lease of a named job; False while another owner holds it unexpired."""
        text("name", name, MAX_NAME_CHARS)
        _owner(owner)
        async with self._db.transaction() as conn:
            changed = await conn.execute(
                "INSERT INTO job_leases (name, owner, until) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until "
                "WHERE job_leases.owner = excluded.owner OR job_leases.until < ?",
                (name, owner, until, now),
            )
        return changed == 1

    async def release_job(self, name: str, owner: str) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM job_leases WHERE name = ? AND owner = ?", (name, owner))
