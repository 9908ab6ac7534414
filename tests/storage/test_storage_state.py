"""The bot_state key-value store: missing keys, overwrites, deletes, bounds, and surviving a re-open."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import InvalidValue, Storage
from storage.bot_state import MAX_VALUE_CHARS


async def test_missing_key_reads_none_and_set_overwrites(store: Storage) -> None:
    assert await store.state.get("account_pause") is None
    await store.state.set("account_pause", '{"until": 10}')
    await store.state.set("other", "x")
    await store.state.set("account_pause", '{"until": 20}')
    assert await store.state.get("account_pause") == '{"until": 20}'
    assert await store.state.get("other") == "x"


async def test_delete_reports_whether_the_key_was_there(store: Storage) -> None:
    await store.state.set("k", "v")
    assert await store.state.delete("k") is True
    assert await store.state.get("k") is None
    assert await store.state.delete("k") is False


async def test_values_survive_closing_and_reopening(db_path: Path) -> None:
    first = await Storage.open(db_path)
    await first.state.set("account_pause", "kept")
    await first.close()
    second = await Storage.open(db_path)
    try:
        assert await second.state.get("account_pause") == "kept"
    finally:
        await second.close()


async def test_keys_and_values_are_bounded(store: Storage) -> None:
    with pytest.raises(InvalidValue, match="key"):
        await store.state.set("", "v")
    with pytest.raises(InvalidValue, match="key"):
        await store.state.get("k" * 101)
    with pytest.raises(InvalidValue, match="value"):
        await store.state.set("k", "v" * (MAX_VALUE_CHARS + 1))
    assert await store.state.get("k") is None
