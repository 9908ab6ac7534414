"""A frame out of a video, as an image file: the first (a poster), the last (the next clip's start).

The last frame is found by seeking to the last keyframe a little before the end and decoding from
there, not by decoding the whole clip. Images are encoded with PyAV's own PNG and JPEG encoders, so
no imaging library is needed.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import av.error
from av.video.frame import VideoFrame

from bot.video.probe import NotReadable

# How far before the end the last-frame seek lands; the decoder then walks from the keyframe before.
TAIL_SECONDS = 1.0
POSTER_MAX_SIDE = 320


def first_frame(path: Path) -> VideoFrame:
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise NotReadable(f"{path.name}: no video track")
            for frame in container.decode(container.streams.video[0]):
                return frame
    except av.error.FFmpegError as exc:
        raise NotReadable(f"{path.name}: {exc}") from exc
    raise NotReadable(f"{path.name}: no frame")


def last_frame(path: Path) -> VideoFrame:
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise NotReadable(f"{path.name}: no video track")
            video = container.streams.video[0]
            last: VideoFrame | None = None
            if video.duration and video.time_base:
                target = video.duration - int(TAIL_SECONDS / video.time_base)
                if target > 0:
                    container.seek((video.start_time or 0) + target, stream=video, backward=True)
                    for frame in container.decode(video):
                        last = frame
            if last is None:  # no index to seek with, or the seek found nothing: walk it all
                container.seek(0, stream=video, backward=True)
                for frame in container.decode(video):
                    last = frame
    except av.error.FFmpegError as exc:
        raise NotReadable(f"{path.name}: {exc}") from exc
    if last is None:
        raise NotReadable(f"{path.name}: no frame")
    return last


def encode_image(frame: VideoFrame, dest: Path, *, max_side: int | None = None, jpeg: bool = False) -> Path:
    """Write ``frame`` to ``dest`` as a PNG (lossless, the API's first frame) or a JPEG (a poster),
    scaled down to ``max_side`` pixels on its longer side when given."""
    width, height = _fit_within(frame.width, frame.height, max_side)
    codec = av.CodecContext.create("mjpeg" if jpeg else "png", "w")
    assert isinstance(codec, av.VideoCodecContext)
    pix_fmt = "yuvj420p" if jpeg else "rgb24"
    codec.width, codec.height, codec.pix_fmt = width, height, pix_fmt
    codec.time_base = Fraction(1, 25)  # one still image: any time base will do
    image = frame.reformat(width=width, height=height, format=pix_fmt)
    image.pts = 0
    packets = [*codec.encode(image), *codec.encode(None)]
    dest.write_bytes(b"".join(bytes(packet) for packet in packets))
    return dest


def last_frame_png(src: Path, dest: Path) -> Path:
    return encode_image(last_frame(src), dest)


def first_frame_png(src: Path, dest: Path) -> Path:
    return encode_image(first_frame(src), dest)


def poster(src: Path, dest: Path, *, max_side: int = POSTER_MAX_SIDE) -> Path:
    """The first frame as a small JPEG: what a card shows even when the video will not play."""
    return encode_image(first_frame(src), dest, max_side=max_side, jpeg=True)


def _fit_within(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    if max_side is None or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)
