"""A member's own defaults for ``/video``; not a moderator change, so not audited.

The saved options are :data:`bot.spec.SAVED_OPTIONS`, each in the ``user_prefs`` column of its name, so
an option becomes savable by naming it there and adding its column; nothing here names one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.spec import NO_DEFAULTS, SAVED_OPTIONS
from storage.backend import Backend, fetch_one, upsert_sql
from storage.checks import MAX_NAME_CHARS, optional_int, optional_text
from storage.errors import InvalidValue
from storage.models import UserPrefs
from storage.spec_columns import from_column, kind_of, to_column

_COLUMNS = (*SAVED_OPTIONS, "dm_results")


def _check_option(name: str, value: object) -> None:
    kind = kind_of(name)
    if kind == "bool":
        if value is not None and not isinstance(value, bool):
            raise InvalidValue(name, f"must be true or false (got {value!r}).")
    elif kind == "int":
        optional_int(name, value, minimum=1, maximum=3600)
    else:
        optional_text(name, value, MAX_NAME_CHARS)


def _check(prefs: UserPrefs) -> UserPrefs:
    for name in SAVED_OPTIONS:
        _check_option(name, getattr(prefs.defaults, name))
    if not isinstance(prefs.dm_results, bool):
        raise InvalidValue("dm_results", f"must be true or false (got {prefs.dm_results!r}).")
    return prefs


class PrefsRepository:
    def __init__(self, db: Backend) -> None:
        self._db = db

    async def get(self, user_id: int) -> UserPrefs:
        """The member's defaults, or all-``None`` (the bot chooses) when never set."""
        async with self._db.read() as conn:
            row = await fetch_one(
                conn, f"SELECT {', '.join(_COLUMNS)} FROM user_prefs WHERE user_id = ?", (user_id,)
            )
        if row is None:
            return UserPrefs()
        saved: dict[str, Any] = {name: from_column(name, row[name]) for name in SAVED_OPTIONS}
        return UserPrefs(defaults=replace(NO_DEFAULTS, **saved), dm_results=bool(row["dm_results"]))

    async def set(self, user_id: int, prefs: UserPrefs) -> UserPrefs:
        _check(prefs)
        values = [to_column(name, getattr(prefs.defaults, name)) for name in SAVED_OPTIONS]
        async with self._db.transaction() as conn:
            await conn.execute(
                upsert_sql("user_prefs", ("user_id",), _COLUMNS),
                (user_id, *values, int(prefs.dm_results)),
            )
        return prefs
