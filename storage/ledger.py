"""The quota ledger's SQL, used inside other repositories' transactions.

Rows are only ever inserted. A member's usage is derived: reserves minus their refunds, counted in
the period of the reservation (a task reserved at 23:59 and refunded at 00:01 gives the credits back
to the day it was taken from). A ``grant`` row is a moderator's reset: reservations before it, in
the same period, stop counting. Charges mark a reservation final without changing usage. The unique
index on ``(task_id, kind)`` makes a second refund or charge impossible, not merely unlikely.

A reservation from a team pool carries its ``pool_id``; it counts against the pool, not the member
(the guild cap and the bot-wide ceiling count every reservation alike). Its charge or refund copies
the reserve row, pool and all, so settling never has to be told who paid.
"""

from __future__ import annotations

from storage.backend import Connection, fetch_all, fetch_one, insert
from storage.models import LedgerEntry


async def add_reserve(
    conn: Connection,
    *,
    task_id: int,
    guild_id: int | None,
    user_id: int,
    tenths: int,
    now: float,
    pool_id: int | None = None,
) -> int:
    return await insert(
        conn,
        "INSERT INTO ledger (kind, guild_id, user_id, task_id, tenths, created_at, pool_id) "
        "VALUES ('reserve', ?, ?, ?, ?, ?, ?)",
        (guild_id, user_id, task_id, tenths, now, pool_id),
    )


async def _settle(conn: Connection, kind: str, task_id: int, now: float) -> bool:
    """Write the task's refund or charge, copying its reserve, unless it is already settled."""
    written = await conn.execute(
        "INSERT INTO ledger (kind, guild_id, user_id, task_id, tenths, created_at, pool_id) "
        "SELECT ?, guild_id, user_id, task_id, tenths, ?, pool_id FROM ledger r "
        "WHERE r.task_id = ? AND r.kind = 'reserve' AND NOT EXISTS ("
        "  SELECT 1 FROM ledger s WHERE s.task_id = r.task_id AND s.kind IN ('refund', 'charge'))",
        (kind, now, task_id),
    )
    return written == 1


async def add_refund(conn: Connection, task_id: int, now: float) -> bool:
    """``True`` when this call wrote the refund; ``False`` when it already existed (or was charged)."""
    return await _settle(conn, "refund", task_id, now)


async def add_charge(conn: Connection, task_id: int, now: float) -> bool:
    return await _settle(conn, "charge", task_id, now)


async def add_grant(
    conn: Connection, *, guild_id: int, user_id: int, forgiven_tenths: int, now: float
) -> int:
    return await insert(
        conn,
        "INSERT INTO ledger (kind, guild_id, user_id, task_id, tenths, created_at) "
        "VALUES ('grant', ?, ?, NULL, ?, ?)",
        (guild_id, user_id, forgiven_tenths, now),
    )


async def user_usage(
    conn: Connection, guild_id: int | None, user_id: int, start: float, end: float
) -> tuple[int, int]:
    """``(used, pending)`` in tenths for the member's own reservations (not a pool's) in
    ``[start, end)`` after the last grant there."""
    row = await fetch_one(
        conn,
        """
        SELECT COALESCE(SUM(r.tenths - COALESCE(f.tenths, 0)), 0),
               COALESCE(SUM(CASE WHEN f.id IS NULL AND c.id IS NULL THEN r.tenths ELSE 0 END), 0)
        FROM ledger r
        LEFT JOIN ledger f ON f.task_id = r.task_id AND f.kind = 'refund'
        LEFT JOIN ledger c ON c.task_id = r.task_id AND c.kind = 'charge'
        WHERE r.kind = 'reserve' AND r.user_id = :user AND r.guild_id IS :guild AND r.pool_id IS NULL
          AND r.created_at >= :start AND r.created_at < :end
          AND r.id > (SELECT COALESCE(MAX(g.id), 0) FROM ledger g
                      WHERE g.kind = 'grant' AND g.user_id = :user AND g.guild_id IS :guild
                        AND g.created_at >= :start AND g.created_at < :end)
        """,
        {"user": user_id, "guild": guild_id, "start": start, "end": end},
    )
    assert row is not None  # aggregates always return a row
    return int(row[0]), int(row[1])


async def pool_usage(conn: Connection, pool_id: int, start: float, end: float) -> tuple[int, int]:
    """``(used, pending)`` in tenths for the pool's reservations in ``[start, end)`` (index ledger_pool)."""
    row = await fetch_one(
        conn,
        """
        SELECT COALESCE(SUM(r.tenths - COALESCE(f.tenths, 0)), 0),
               COALESCE(SUM(CASE WHEN f.id IS NULL AND c.id IS NULL THEN r.tenths ELSE 0 END), 0)
        FROM ledger r
        LEFT JOIN ledger f ON f.task_id = r.task_id AND f.kind = 'refund'
        LEFT JOIN ledger c ON c.task_id = r.task_id AND c.kind = 'charge'
        WHERE r.kind = 'reserve' AND r.pool_id = ? AND r.created_at >= ? AND r.created_at < ?
        """,
        (pool_id, start, end),
    )
    assert row is not None  # aggregates always return a row
    return int(row[0]), int(row[1])


async def guild_usage(conn: Connection, guild_id: int, start: float, end: float) -> int:
    """Credits reserved in the guild in ``[start, end)`` and not refunded; grants do not lower it."""
    row = await fetch_one(
        conn,
        """
        SELECT COALESCE(SUM(r.tenths - COALESCE(f.tenths, 0)), 0)
        FROM ledger r
        LEFT JOIN ledger f ON f.task_id = r.task_id AND f.kind = 'refund'
        WHERE r.kind = 'reserve' AND r.guild_id = ? AND r.created_at >= ? AND r.created_at < ?
        """,
        (guild_id, start, end),
    )
    assert row is not None
    return int(row[0])


async def bot_usage(conn: Connection, start: float, end: float) -> int:
    """Credits reserved over every guild (and DMs) in ``[start, end)`` and not refunded.

    Reserved-but-undelivered tasks count (they may still be billed); grants do not lower it, since a
    moderator's reset forgives a member's usage, not the operator's spending. Index: ledger_reserve_created.
    """
    row = await fetch_one(
        conn,
        """
        SELECT COALESCE(SUM(r.tenths - COALESCE(f.tenths, 0)), 0)
        FROM ledger r
        LEFT JOIN ledger f ON f.task_id = r.task_id AND f.kind = 'refund'
        WHERE r.kind = 'reserve' AND r.created_at >= ? AND r.created_at < ?
        """,
        (start, end),
    )
    assert row is not None
    return int(row[0])


async def entries_for_task(conn: Connection, task_id: int) -> list[LedgerEntry]:
    rows = await fetch_all(
        conn,
        "SELECT id, kind, guild_id, user_id, task_id, tenths, created_at, pool_id FROM ledger "
        "WHERE task_id = ? ORDER BY id",
        (task_id,),
    )
    return [
        LedgerEntry(
            id=r["id"],
            kind=r["kind"],
            guild_id=r["guild_id"],
            user_id=r["user_id"],
            task_id=r["task_id"],
            tenths=r["tenths"],
            created_at=r["created_at"],
            pool_id=r["pool_id"],
        )
        for r in rows
    ]
