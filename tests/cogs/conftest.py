"""Fixtures the notifier tests share: a fake bot with its channels and a small file to post (a test
module that needs another kind, such as threads, defines its own of the same name)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cogs.test_notifier import FakeBot


@pytest.fixture
def bot() -> FakeBot:
    return FakeBot()


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "v.mp4"
    path.write_bytes(b"\x00" * 1000)
    return path
