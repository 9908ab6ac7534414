"""bench/bench_storage.py runs at any size (#16): it prints figures, so these check only that it
finishes and counts what it did, never how fast."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def bench_storage() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_storage", REPO / "bench" / "bench_storage.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_a_reservation_count_not_a_multiple_of_50_reserves_exactly_that_many(tmp_path: Path) -> None:
    """It reserved up to 49 more in the concurrent phase and divided them by the count asked for."""
    assert await bench_storage().bench_reservations(tmp_path, 73) == (73, 73)


@pytest.mark.parametrize("tasks", [100, 3_000])
async def test_fewer_than_3400_tasks_no_longer_crash(tmp_path: Path, tasks: int) -> None:
    """Below ~3,400 tasks fewer than 50 are due, and ``assert len(due) == 50`` crashed."""
    await bench_storage().bench_due_query(tmp_path, tasks, runs=3)
