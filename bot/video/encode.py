"""The one H.264 + AAC output both the join and the fit write: encoder settings, audio, silence.

A :class:`Writer` takes decoded frames in display order and muxes as it goes (nothing is held but the
encoders' own lookahead). Video frames are re-timed to the output's frame rate by index; audio is
resampled to 48 kHz stereo and cut to a sample count, and a stretch without sound is filled with
silence so the picture and the sound stay together across a join.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.video.frame import VideoFrame

SAMPLE_RATE = 48_000
AUDIO_LAYOUT = "stereo"
AUDIO_FORMAT = "fltp"  # planar float: 4 bytes per sample per channel plane
AUDIO_BITRATE = 128_000
PRESET = "veryfast"  # two shared cores: speed over the last few percent of size
QUALITY_CRF = "18"  # a join of a clip made at the API: visually the same
_SILENCE_CHUNK = 1024


class Writer:
    """An MP4 being written: H.264 at ``fps``, ``width``×``height``, and AAC when ``audio``."""

    def __init__(
        self,
        dest: Path,
        *,
        width: int,
        height: int,
        fps: Fraction,
        audio: bool,
        video_bitrate: int | None = None,
        audio_bitrate: int = AUDIO_BITRATE,
    ) -> None:
        self._container = av.open(str(dest), "w", format="mp4")
        options = {"preset": PRESET}
        if video_bitrate is None:
            options["crf"] = QUALITY_CRF
        else:
            # Average bitrate with a ceiling, so a busy scene cannot blow the byte budget.
            options["maxrate"] = str(int(video_bitrate * 1.2))
            options["bufsize"] = str(int(video_bitrate * 2))
        self._video = self._container.add_stream("libx264", rate=fps, options=options)
        self._video.width, self._video.height, self._video.pix_fmt = width, height, "yuv420p"
        if video_bitrate is not None:
            self._video.bit_rate = video_bitrate
        self._fps = fps
        self._frames = 0
        self._audio: AudioStream | None = None
        self._resampler: AudioResampler | None = None
        self._samples = 0
        if audio:
            self._audio = self._container.add_stream("aac", rate=SAMPLE_RATE, layout=AUDIO_LAYOUT)
            self._audio.bit_rate = audio_bitrate
            self._resampler = AudioResampler(format=AUDIO_FORMAT, layout=AUDIO_LAYOUT, rate=SAMPLE_RATE)

    @property
    def frames(self) -> int:
        return self._frames

    @property
    def samples(self) -> int:
        return self._samples

    @property
    def has_audio(self) -> bool:
        return self._audio is not None

    def samples_at(self, frames: int) -> int:
        """The audio sample that plays with video frame number ``frames``."""
        return round(frames * SAMPLE_RATE / self._fps)

    def video(self, frame: VideoFrame) -> None:
        video = self._video
        if (frame.width, frame.height) != (video.width, video.height) or frame.format.name != "yuv420p":
            frame = frame.reformat(width=video.width, height=video.height, format="yuv420p")
        frame.pts = self._frames
        frame.time_base = 1 / self._fps
        self._frames += 1
        for packet in video.encode(frame):
            self._container.mux(packet)

    def audio(self, frame: AudioFrame, *, until: int | None = None) -> None:
        """Append ``frame``'s sound, cut so the track ends at sample ``until`` at the latest."""
        if self._audio is None or self._resampler is None:
            return
        for chunk in self._resampler.resample(frame):
            self._append(chunk, until)

    def silence(self, until: int) -> None:
        """Fill the sound track with silence up to sample ``until`` (a stretch of a clip without)."""
        while self._audio is not None and self._samples < until:
            count = min(_SILENCE_CHUNK, until - self._samples)
            chunk = AudioFrame(format=AUDIO_FORMAT, layout=AUDIO_LAYOUT, samples=count)
            for plane in chunk.planes:
                plane.update(bytes(plane.buffer_size))
            chunk.sample_rate = SAMPLE_RATE
            self._append(chunk, until)

    def _append(self, chunk: AudioFrame, until: int | None) -> None:
        assert self._audio is not None
        count = chunk.samples
        if until is not None:
            count = min(count, until - self._samples)
        if count <= 0:
            return
        if count < chunk.samples:
            chunk = _head(chunk, count)
        chunk.pts = self._samples
        chunk.time_base = Fraction(1, SAMPLE_RATE)
        self._samples += count
        for packet in self._audio.encode(chunk):
            self._container.mux(packet)

    def close(self) -> None:
        for packet in self._video.encode(None):
            self._container.mux(packet)
        if self._audio is not None:
            if self._resampler is not None:
                for chunk in self._resampler.resample(None):
                    self._append(chunk, None)
            for packet in self._audio.encode(None):
                self._container.mux(packet)
        self._container.close()

    def abort(self) -> None:
        self._container.close()

    def __enter__(self) -> Writer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def _head(chunk: AudioFrame, count: int) -> AudioFrame:
    """The first ``count`` samples of a planar float frame."""
    head = AudioFrame(format=AUDIO_FORMAT, layout=AUDIO_LAYOUT, samples=count)
    for source, plane in zip(chunk.planes, head.planes, strict=True):
        data = bytes(source)[: count * 4]
        plane.update(data + bytes(plane.buffer_size - len(data)))
    head.sample_rate = chunk.sample_rate
    return head
