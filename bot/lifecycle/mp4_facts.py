"""What a delivered MP4 really is: how long it runs and whether it has a sound track.

MiniMax-H3 clips run a little longer than asked (its frames follow a 17n+5 grid) and carry stereo
audio; the card shows both as delivered, not as requested. Reading them needs only the ``moov`` box
(the movie header's timescale and duration, each track's handler type), so this is a small box walker
with no dependency rather than a media library in the bot. Blocking file I/O: call it through
``asyncio.to_thread``. Anything unreadable yields ``None`` facts, never an error: the facts are shown,
not relied on.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MAX_MOOV_BYTES = 16 * 1024 * 1024  # a movie header is kilobytes; more is not an MP4 we made sense of
_CONTAINERS = frozenset({b"moov", b"trak", b"mdia"})


@dataclass(frozen=True)
class VideoFacts:
    seconds: float | None = None
    has_audio: bool | None = None


UNKNOWN = VideoFacts()


def read_facts(path: Path) -> VideoFacts:
    """The facts of the MP4 at ``path``; :data:`UNKNOWN` when it cannot be read as one."""
    try:
        with path.open("rb") as handle:
            moov = _find_moov(handle)
    except OSError:
        return UNKNOWN
    if moov is None:
        return UNKNOWN
    try:
        return _facts_of(moov)
    except (struct.error, ValueError):
        return UNKNOWN


def _find_moov(handle: BinaryIO) -> bytes | None:
    while True:
        header = handle.read(8)
        if len(header) < 8:
            return None
        size, kind = struct.unpack(">I4s", header)
        body_start = 8
        if size == 1:
            large = handle.read(8)
            if len(large) < 8:
                return None
            size = struct.unpack(">Q", large)[0]
            body_start = 16
        if kind == b"moov":
            length = (size - body_start) if size else MAX_MOOV_BYTES
            if length > MAX_MOOV_BYTES or length < 0:
                return None
            return handle.read(length)
        if size == 0 or size < body_start:
            return None  # "to the end of the file" before any moov, or a broken size
        handle.seek(size - body_start, 1)


def _boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    found: list[tuple[bytes, bytes]] = []
    at = 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        start = at + 8
        if size == 1:
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
            start = at + 16
        elif size == 0:
            size = len(data) - at
        if size < start - at or at + size > len(data):
            raise ValueError("box overruns its parent")
        found.append((kind, data[start : at + size]))
        at += size
    return found


def _facts_of(moov: bytes) -> VideoFacts:
    seconds: float | None = None
    handlers: list[bytes] = []
    for kind, body in _boxes(moov):
        if kind == b"mvhd":
            seconds = _movie_seconds(body)
        elif kind == b"trak":
            handlers.extend(_handlers(body))
    return VideoFacts(seconds=seconds, has_audio=(b"soun" in handlers) if handlers else None)


def _movie_seconds(mvhd: bytes) -> float | None:
    version = mvhd[0]
    if version == 1:
        timescale, duration = struct.unpack(">IQ", mvhd[20:32])
    else:
        timescale, duration = struct.unpack(">II", mvhd[12:20])
    return duration / timescale if timescale and duration else None


def _handlers(container: bytes) -> list[bytes]:
    found: list[bytes] = []
    for kind, body in _boxes(container):
        if kind == b"hdlr" and len(body) >= 12:
            found.append(body[8:12])
        elif kind in _CONTAINERS:
            found.extend(_handlers(body))
    return found
