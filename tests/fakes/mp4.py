"""Real MP4 files for the fakes: H.264 video with an AAC stereo track, as MiniMax-H3 delivers.

Made with PyAV (the bot's own dependency, for bot/video/) at a tiny frame size so a 15 s clip is a
few tens of kilobytes and takes a fraction of a second to encode; cached per (frames, audio) so a test
run makes each once. :func:`write_clip` makes a clip of any size to a file (bot/video's tests, the
benchmark).
"""

from __future__ import annotations

import functools
import io
import random
from pathlib import Path

import av

FPS = 24
SAMPLE_RATE = 48_000
WIDTH, HEIGHT = 32, 18


@functools.lru_cache(maxsize=32)
def make_mp4(frames: int, *, audio: bool = True) -> bytes:
    """``frames`` frames at 24 fps (so ``frames / 24`` seconds), with a silent stereo track if asked."""
    out_buffer = io.BytesIO()
    with av.open(out_buffer, "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        sound = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo") if audio else None
        for index in range(frames):
            frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([16 + index % 200]) * plane.buffer_size)
            frame.pts = index
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if sound is not None:
            total = SAMPLE_RATE * frames // FPS
            at = 0
            while at < total:
                count = min(1024, total - at)
                chunk = av.AudioFrame(format="fltp", layout="stereo", samples=count)
                for plane in chunk.planes:
                    plane.update(bytes(plane.buffer_size))
                chunk.sample_rate, chunk.pts = SAMPLE_RATE, at
                at += count
                for packet in sound.encode(chunk):
                    container.mux(packet)
            for packet in sound.encode():
                container.mux(packet)
    return out_buffer.getvalue()


def probe(data: bytes) -> tuple[float, list[str]]:
    """(duration in seconds, stream types) of an MP4, read by PyAV: what tests check files with."""
    with av.open(io.BytesIO(data)) as container:
        duration = (container.duration or 0) / 1_000_000
        return duration, [stream.type for stream in container.streams]


def write_clip(
    path: Path,
    frames: int,
    *,
    width: int = WIDTH,
    height: int = HEIGHT,
    fps: int = FPS,
    audio: bool = True,
    bframes: int = 0,
    crf: int = 23,
    grain: bool = False,
) -> Path:
    """A clip at any size to a file, streamed frame by frame (a 2K clip never sits in memory).

    The picture is a diagonal pattern moving a few pixels a frame, so the encoder has real work and
    every frame differs; ``grain`` makes it fine noise moving the same way, which compresses about as
    badly as a real scene (the benchmark's clips). ``bframes`` > 0 forces B-frames (frames stored out
    of display order).
    """
    params = f"bframes={bframes}:b-adapt=0" if bframes else "bframes=0"
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream(
            "libx264", rate=fps, options={"preset": "ultrafast", "crf": str(crf), "x264-params": params}
        )
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo") if audio else None
        template = av.VideoFrame(width, height, "yuv420p")
        luma_size = template.planes[0].buffer_size
        length = luma_size + 4 * frames + 4096
        if grain:
            pattern = bytes(64 + byte // 2 for byte in random.Random(frames).randbytes(length))
        else:
            pattern = bytes((i * 7 // 3) % 256 for i in range(length))
        samples_done = 0
        for index in range(frames):
            frame = av.VideoFrame(width, height, "yuv420p")
            frame.planes[0].update(pattern[4 * index : 4 * index + luma_size])
            for plane in frame.planes[1:]:
                plane.update(bytes([128]) * plane.buffer_size)
            frame.pts = index
            for packet in video.encode(frame):
                container.mux(packet)
            if sound is not None:
                until = SAMPLE_RATE * (index + 1) // fps
                while samples_done < until:
                    count = min(1024, until - samples_done)
                    chunk = av.AudioFrame(format="fltp", layout="stereo", samples=count)
                    for plane in chunk.planes:
                        plane.update(bytes(plane.buffer_size))
                    chunk.sample_rate, chunk.pts = SAMPLE_RATE, samples_done
                    samples_done += count
                    for packet in sound.encode(chunk):
                        container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if sound is not None:
            for packet in sound.encode():
                container.mux(packet)
    return path


def count_frames(path: Path) -> tuple[int, float | None]:
    """(video frames decoded, audio seconds decoded or None without sound): what a player would see."""
    with av.open(str(path)) as container:
        frames = sum(1 for _ in container.decode(container.streams.video[0]))
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return frames, None
        samples = 0
        rate = container.streams.audio[0].rate or SAMPLE_RATE
        for chunk in container.decode(container.streams.audio[0]):
            samples += chunk.samples
        return frames, samples / rate
