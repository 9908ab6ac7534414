"""The MP4 facts the card shows, read from real files made with PyAV (the fake's own videos)."""

from __future__ import annotations

from pathlib import Path

from bot.lifecycle.mp4_facts import UNKNOWN, read_facts
from tests.fakes.mp4 import make_mp4, probe


def test_a_clip_with_sound(tmp_path: Path) -> None:
    path = tmp_path / "a.mp4"
    path.write_bytes(make_mp4(362))  # 15 s asked: 362 frames at 24 fps on the 17n+5 grid
    facts = read_facts(path)
    assert facts.has_audio is True
    expected, _streams = probe(path.read_bytes())
    assert facts.seconds is not None and abs(facts.seconds - expected) < 0.05
    assert 15.0 < facts.seconds < 15.2


def test_a_silent_clip(tmp_path: Path) -> None:
    path = tmp_path / "b.mp4"
    path.write_bytes(make_mp4(144, audio=False))
    facts = read_facts(path)
    assert facts.has_audio is False and facts.seconds is not None and abs(facts.seconds - 6.0) < 0.05


def test_anything_else_is_unknown_not_an_error(tmp_path: Path) -> None:
    for name, data in (("empty", b""), ("text", b"not a video"), ("cut", make_mp4(48)[:200])):
        path = tmp_path / name
        path.write_bytes(data)
        assert read_facts(path) == UNKNOWN, name
    assert read_facts(tmp_path / "missing.mp4") == UNKNOWN
