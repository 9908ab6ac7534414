"""bench/bench_leases.py runs in a tiny configuration and prints each of its figures (#14). It
prints numbers, so these check only that every run finishes and says what it measured, never how fast."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def bench_leases() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_leases", REPO / "bench" / "bench_leases.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_one_process_on_sqlite_counts_the_tasks_it_ran(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rate = await bench_leases().throughput(str(tmp_path / "bench.sqlite3"), 1, 4, "SQLite, 1 process")
    assert rate > 0
    assert re.search(
        r"end to end, SQLite, 1 process: 4 tasks in +[\d.]+ s = +\d+ tasks/min", capsys.readouterr().out
    )


async def test_every_figure_is_printed_with_a_server_of_ones_own(
    pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--url``: each run creates its own database on that server (one database for all clashed:
    the fake API's task ids repeat, and the second run's tasks could not be recorded as sent)."""
    await bench_leases().main(["--url", pg_url, "--tasks", "6", "--lease", "2"])
    out = capsys.readouterr().out
    takeover = re.search(
        r"lease take-over after a SIGKILL \(LEASE_SECONDS=2\): (\d+) tasks, all held by the survivor +"
        r"[\d.]+ s after the kill \((\d+)/(\d+) with it or already done\)",
        out,
    )
    assert takeover is not None, out
    held, moved, of = map(int, takeover.groups())
    assert held > 0 and moved == of == held
    for label, tasks in (
        ("SQLite, 1 process", 6),
        ("PostgreSQL, 1 process", 6),
        ("PostgreSQL, 3 processes", 6),
    ):
        assert re.search(rf"end to end, {re.escape(label)} *: {tasks} tasks in +[\d.]+ s", out), out
