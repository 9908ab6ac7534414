"""A re-encode of a video that fits a byte limit (Discord's upload limit), or a clear "cannot".

The bitrate is the budget spread over the duration: ``limit × 8 × HEADROOM / seconds``, less the
sound's share. The picture keeps its size unless that bitrate would spread too thin over it (below
``MIN_BITS_PER_PIXEL`` per pixel per frame): then it is scaled down, keeping its shape, as far as
``MIN_HEIGHT`` (and not at all when it would shrink by less than a tenth). A budget below
``MIN_VIDEO_BITRATE`` cannot make a watchable video: :class:`CannotFit`, and the caller posts a link
instead. x264's average bitrate can overshoot a little, so a result over the limit is made once more
at ``RETRY_SHARE`` of the bitrate before giving up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import av
import av.error
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from bot.video.encode import Writer
from bot.video.probe import NotReadable, VideoInfo, probe

HEADROOM = 0.92  # the container's own bytes, and x264's drift from the average
RETRY_SHARE = 0.8
MIN_BITS_PER_PIXEL = 0.05
NO_SCALE_ABOVE = 0.9  # a few percent smaller saves little and softens every frame: keep the size
MIN_HEIGHT = 240
MIN_VIDEO_BITRATE = 100_000
AUDIO_BITRATE = 96_000  # speech and music survive it; its share matters on a small budget
ATTEMPTS = 2


class CannotFit(Exception):
    """Even the smallest acceptable re-encode would be over the limit."""


@dataclass(frozen=True)
class Plan:
    width: int
    height: int
    video_bitrate: int


@dataclass(frozen=True)
class Fitted:
    path: Path
    size_bytes: int
    info: VideoInfo
    plan: Plan


def plan_for(info: VideoInfo, limit_bytes: int, *, share: float = 1.0) -> Plan:
    """The size and bitrate that make ``info``'s video about ``limit_bytes`` (× ``share``)."""
    total = limit_bytes * 8 * HEADROOM * share / max(info.seconds, 0.1)
    video_bitrate = int(total - (AUDIO_BITRATE if info.has_audio else 0))
    if video_bitrate < MIN_VIDEO_BITRATE:
        raise CannotFit(f"{video_bitrate} b/s for {info.seconds:.1f} s in {limit_bytes} bytes")
    fps = float(info.fps) or 24.0
    pixels = video_bitrate / (fps * MIN_BITS_PER_PIXEL)
    scale = min(1.0, math.sqrt(pixels / (info.width * info.height)))
    if scale >= NO_SCALE_ABOVE:
        scale = 1.0
    scale = max(scale, min(1.0, MIN_HEIGHT / info.height))
    return Plan(_even(info.width * scale), _even(info.height * scale), video_bitrate)


def fit(src: Path, dest: Path, limit_bytes: int) -> Fitted:
    """``src`` re-encoded (H.264 + AAC) into ``dest`` within ``limit_bytes``; :class:`CannotFit`."""
    info = probe(src)
    share = 1.0
    for _ in range(ATTEMPTS):
        plan = plan_for(info, limit_bytes, share=share)
        try:
            _encode(src, dest, info, plan)
        except av.error.FFmpegError as exc:
            raise NotReadable(f"re-encoding {src.name}: {exc}") from exc
        size = dest.stat().st_size
        if size <= limit_bytes:
            return Fitted(dest, size, probe(dest), plan)
        share *= RETRY_SHARE
    raise CannotFit(f"{src.name}: still {size} bytes over a {limit_bytes}-byte limit")


def _encode(src: Path, dest: Path, info: VideoInfo, plan: Plan) -> None:
    writer = Writer(
        dest,
        width=plan.width,
        height=plan.height,
        fps=info.fps,
        audio=info.has_audio,
        video_bitrate=plan.video_bitrate,
        audio_bitrate=AUDIO_BITRATE,
    )
    with writer, av.open(str(src)) as container:
        streams: list[VideoStream | AudioStream] = [container.streams.video[0]]
        if container.streams.audio:
            streams.append(container.streams.audio[0])
        for frame in container.decode(*streams):
            if isinstance(frame, VideoFrame):
                writer.video(frame)
            elif isinstance(frame, AudioFrame):
                writer.audio(frame)


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)
