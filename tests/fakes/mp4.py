"""Real MP4 files for the fakes: H.264 video with an AAC stereo track, as MiniMax-H3 delivers.

Made with PyAV (a dev dependency) at a tiny frame size so a 15 s clip is a few tens of kilobytes and
takes a fraction of a second to encode; cached per (frames, audio) so a test run makes each once.
"""

from __future__ import annotations

import functools
import io

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
