"""What a video file is, read with PyAV from its headers (and its packets when they do not say).

Demuxing only, never decoding: counting packets of a 15 s clip is milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error


class NotReadable(Exception):
    """The file is not a video we can read (not an MP4, truncated, no video track)."""


@dataclass(frozen=True)
class VideoInfo:
    seconds: float  # from the video track (frames × frame duration), not the container's header
    frames: int
    width: int
    height: int
    fps: Fraction
    codec: str
    has_audio: bool

    @property
    def frame_seconds(self) -> float:
        return float(1 / self.fps) if self.fps else 0.0


def probe(path: Path) -> VideoInfo:
    """The facts of the video at ``path``; :class:`NotReadable` when it is not one."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise NotReadable(f"{path.name}: no video track")
            video = container.streams.video[0]
            has_audio = bool(container.streams.audio)
            fps = video.average_rate or video.guessed_rate or Fraction(24)
            frames = video.frames
            if frames <= 0:
                frames = sum(1 for packet in container.demux(video) if packet.size)
            width, height = video.codec_context.width, video.codec_context.height
            codec = video.codec_context.name
    except av.error.FFmpegError as exc:
        raise NotReadable(f"{path.name}: {exc}") from exc
    if frames <= 0 or width <= 0 or height <= 0:
        raise NotReadable(f"{path.name}: an empty video track")
    return VideoInfo(
        seconds=float(frames / fps),
        frames=frames,
        width=width,
        height=height,
        fps=Fraction(fps),
        codec=codec,
        has_audio=has_audio,
    )
