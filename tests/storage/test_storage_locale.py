"""The requester's Discord locale kept on each task (migration 17), on both engines: what reaches
the member alone later (a DM) is in the language they asked in; old rows have none (English)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage import InvalidValue, Storage
from storage.migrations import LATEST_VERSION
from tests.storage.conftest import T0, new_task


async def test_a_task_keeps_the_locale_it_was_asked_in(store: Storage) -> None:
    asked = await store.quota.reserve(new_task(locale="ja"), now=T0)
    assert asked.locale == "ja"
    assert (await store.tasks.get(asked.id)).locale == "ja"
    takes = await store.quota.reserve_group(new_task(locale="pt-BR"), takes=2, now=T0)
    assert [t.locale for t in takes] == ["pt-BR", "pt-BR"]
    unknown = await store.quota.reserve(new_task(), now=T0)
    assert (await store.tasks.get(unknown.id)).locale is None


async def test_a_locale_is_checked_like_any_stored_text(store: Storage) -> None:
    with pytest.raises(InvalidValue):
        await store.quota.reserve(new_task(locale="x" * 500), now=T0)


@pytest.mark.sqlite_only
async def test_a_version_16_file_gains_the_column_and_its_rows_have_no_locale(db_path: Path) -> None:
    store = await Storage.open(db_path, default_limit_tenths=50, default_period="day")
    old = await store.quota.reserve(new_task(), now=T0)
    await store.close()
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:  # the file as version 16 left it
        conn.execute("ALTER TABLE tasks DROP COLUMN locale")
        conn.execute("PRAGMA user_version = 16")
    finally:
        conn.close()
    store = await Storage.open(db_path, default_limit_tenths=50, default_period="day")
    try:
        assert LATEST_VERSION == 17 and await store.db.schema_version() == LATEST_VERSION
        assert (await store.tasks.get(old.id)).locale is None
        assert (await store.quota.reserve(new_task(locale="de"), now=T0)).locale == "de"
    finally:
        await store.close()
