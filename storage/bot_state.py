"""A tiny key-value store for the bot's own state that must outlive the process.

For facts that belong to no task, guild or member: the API account's pause (until when, and why)
is the first. Values are short text, usually JSON, that their owner parses and checks; storage only
bounds their size. A missing key reads as ``None``, never as an error.
"""

from __future__ import annotations

import time

from storage.backend import Backend, fetch_one
from storage.checks import MAX_NAME_CHARS, text

MAX_VALUE_CHARS = 10_000


class StateRepository:
    def __init__(self, db: Backend) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        """The value stored under ``key``, or None when it was never set (or was deleted)."""
        text("key", key, MAX_NAME_CHARS)
        async with self._db.read() as conn:
            row = await fetch_one(conn, "SELECT value FROM bot_state WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    async def set(self, key: str, value: str, *, now: float | None = None) -> None:
        """Store ``value`` under ``key``, replacing what was there."""
        text("key", key, MAX_NAME_CHARS)
        text("value", value, MAX_VALUE_CHARS, allow_empty=True)
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO bot_state (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (key, value, time.time() if now is None else now),
            )

    async def delete(self, key: str) -> bool:
        """Forget ``key``; True if it was there."""
        text("key", key, MAX_NAME_CHARS)
        async with self._db.transaction() as conn:
            return await conn.execute("DELETE FROM bot_state WHERE key = ?", (key,)) > 0
