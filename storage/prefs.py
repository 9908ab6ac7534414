"""A member's own defaults for ``/video``; not a moderator change, so not audited."""

from __future__ import annotations

from storage.db import Database, fetch_one
from storage.errors import InvalidValue
from storage.models import UserPrefs
from storage.validation import MAX_NAME_CHARS, optional_int, optional_text


def _check(prefs: UserPrefs) -> UserPrefs:
    optional_text("model", prefs.model, MAX_NAME_CHARS)
    optional_text("resolution", prefs.resolution, MAX_NAME_CHARS)
    optional_int("duration", prefs.duration, minimum=1, maximum=3600)
    for name in ("prompt_optimizer", "dm_results"):
        value = getattr(prefs, name)
        if value is not None and not isinstance(value, bool):
            raise InvalidValue(name, f"must be true or false (got {value!r}).")
    return prefs


class PrefsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> UserPrefs:
        """The member's defaults, or all-``None`` (the bot chooses) when never set."""
        async with self._db.read() as conn:
            row = await fetch_one(
                conn,
                "SELECT model, resolution, duration, prompt_optimizer, dm_results FROM user_prefs "
                "WHERE user_id = ?",
                (user_id,),
            )
        if row is None:
            return UserPrefs()
        optimizer = row["prompt_optimizer"]
        return UserPrefs(
            model=row["model"],
            resolution=row["resolution"],
            duration=row["duration"],
            prompt_optimizer=None if optimizer is None else bool(optimizer),
            dm_results=bool(row["dm_results"]),
        )

    async def set(self, user_id: int, prefs: UserPrefs) -> UserPrefs:
        _check(prefs)
        optimizer = None if prefs.prompt_optimizer is None else int(prefs.prompt_optimizer)
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT OR REPLACE INTO user_prefs "
                "(user_id, model, resolution, duration, prompt_optimizer, dm_results) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (user_id, prefs.model, prefs.resolution, prefs.duration, optimizer, int(prefs.dm_results)),
            )
        return prefs
