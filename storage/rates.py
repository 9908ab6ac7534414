"""The API account's limits as rows, so every process sharing the database spends one allowance.

MiniMax counts per account, not per process: three processes each pacing themselves to
``MINIMAX_RPM`` would send three times too much. Two shapes, each updated in one write transaction
(the single-writer order makes read-then-write atomic across processes):

- a sliding window (:meth:`RateRepository.take_slot`): at most ``limit`` stamps in any ``window``
  seconds, for submissions (how the API counts them);
- a token bucket (:meth:`RateRepository.take_token`, :meth:`RateRepository.take_tokens` for a block
  at once): the poller's share of the query rate.

Both honour a penalty (:meth:`RateRepository.block`): after a rate-limit answer nobody sends until it
ends. Times are wall-clock seconds, the same in every process. Each call answers how long to wait:
``0`` means the slot or token was taken.
"""

from __future__ import annotations

from storage.backend import Backend, Connection, fetch_int, fetch_one
from storage.checks import MAX_NAME_CHARS, count, text


async def _saved(conn: Connection, name: str) -> tuple[float, float, float] | None:
    """``(tokens, stamp, blocked_until)`` of ``name``, or None before its first use."""
    row = await fetch_one(
        conn, "SELECT tokens, stamp, blocked_until FROM rate_limits WHERE name = ?", (name,)
    )
    return None if row is None else (float(row[0]), float(row[1]), float(row[2]))


async def _save(conn: Connection, name: str, tokens: float, stamp: float, blocked_until: float) -> None:
    await conn.execute(
        "INSERT INTO rate_limits (name, tokens, stamp, blocked_until) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET tokens = excluded.tokens, stamp = excluded.stamp, "
        "blocked_until = excluded.blocked_until",
        (name, tokens, stamp, blocked_until),
    )


class RateRepository:
    def __init__(self, db: Backend) -> None:
        self._db = db

    async def take_slot(self, name: str, *, limit: int, window: float, now: float) -> float:
        """Count one use in ``name``'s sliding window if it fits; else the seconds until one does."""
        text("name", name, MAX_NAME_CHARS)
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM rate_stamps WHERE name = ? AND at <= ?", (name, now - window))
            saved = await _saved(conn, name)
            if saved is not None and saved[2] > now:
                return saved[2] - now
            used = await fetch_int(conn, "SELECT COUNT(*) FROM rate_stamps WHERE name = ?", (name,))
            if used >= limit:
                # The stamp that must leave the window before one more fits.
                row = await fetch_one(
                    conn,
                    "SELECT at FROM rate_stamps WHERE name = ? ORDER BY at DESC LIMIT 1 OFFSET ?",
                    (name, limit - 1),
                )
                oldest = now if row is None else float(row[0])
                return max(1e-3, oldest + window - now)
            await conn.execute("INSERT INTO rate_stamps (name, at) VALUES (?, ?)", (name, now))
            return 0.0

    async def take_token(self, name: str, *, per_second: float, capacity: float, now: float) -> float:
        """Spend one token of ``name``'s bucket if it has one; else the seconds until it will."""
        _, wait = await self.take_tokens(name, per_second=per_second, capacity=capacity, now=now)
        return wait

    async def take_tokens(
        self, name: str, *, per_second: float, capacity: float, now: float, most: int = 1
    ) -> tuple[int, float]:
        """Spend up to ``most`` whole tokens of ``name``'s bucket in one write: ``(taken, 0)`` when
        it had at least one, else ``(0, seconds until it will)``. A process taking a block spends
        it locally, so a busy poller writes once per block instead of once per query."""
        text("name", name, MAX_NAME_CHARS)
        count("most", most, minimum=1)
        async with self._db.transaction() as conn:
            saved = await _saved(conn, name)
            tokens, stamp, blocked = (capacity, now, 0.0) if saved is None else saved
            tokens = min(capacity, tokens + max(0.0, now - stamp) * per_second)
            wait = max(0.0, blocked - now)
            if tokens < 1:
                wait = max(wait, (1 - tokens) / per_second)
            taken = 0 if wait > 0 else min(most, int(tokens))
            await _save(conn, name, tokens - taken, now, blocked)
            return taken, wait

    async def block(self, name: str, *, until: float, now: float) -> None:
        """Nobody takes a slot or token of ``name`` before ``until`` (a rate-limit answer's penalty);
        a bucket is emptied too, so it refills from nothing afterwards."""
        text("name", name, MAX_NAME_CHARS)
        async with self._db.transaction() as conn:
            saved = await _saved(conn, name)
            tokens, stamp, blocked = (0.0, now, 0.0) if saved is None else saved
            await _save(conn, name, min(tokens, 0.0), stamp, max(blocked, until))

    async def stamps(self, name: str) -> list[float]:
        """The window's stamps still stored, oldest first (tests and the bench read them)."""
        async with self._db.read() as conn:
            rows = await conn.fetch_all("SELECT at FROM rate_stamps WHERE name = ? ORDER BY at", (name,))
        return [float(r[0]) for r in rows]
