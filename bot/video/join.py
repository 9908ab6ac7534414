"""Two clips as one, without the frame they share.

The second clip of an Extend (or a Loop) was made *from* the first's last frame, so that picture is
in both: the join drops the first clip's last frame (and cuts its sound there), then plays the second.

Two ways, chosen per pair:

- **stream copy** (no decoding, milliseconds): when both clips have the same encoding (codec, size,
  pixel format, frame rate, the same H.264 parameter sets) and the same kind of sound, and neither
  reorders frames (no B-frames). Only then is the first clip's last frame also its last packet, which
  no other frame refers to, so it can be left out without touching the rest.
- **re-encode** (H.264 + AAC, :mod:`bot.video.encode`) otherwise, at the first clip's size and frame
  rate; a clip without sound gets silence so the sound stays in step with the picture.

A Loop's clip also *ends* on the first clip's first frame (``loop=True``): its last frame is dropped
as well, so the picture wraps around without showing that frame twice.

Either way the work streams: packets (or frames) go from the inputs to the output one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import av.error
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from bot.video.encode import Writer
from bot.video.probe import NotReadable, VideoInfo, probe


@dataclass(frozen=True)
class Joined:
    path: Path
    copied: bool  # stream copy (True) or re-encoded
    info: VideoInfo


def join(first: Path, second: Path, dest: Path, *, loop: bool = False) -> Joined:
    """``first`` without its last frame, then ``second`` (without its last frame too when ``loop``),
    written to ``dest``."""
    head, tail = probe(first), probe(second)
    try:
        if _copyable(first, second):
            _copy(first, second, dest, head, tail if loop else None)
            return Joined(dest, True, probe(dest))
        _reencode(first, second, dest, head, tail, loop=loop)
    except av.error.FFmpegError as exc:
        raise NotReadable(f"joining {first.name} and {second.name}: {exc}") from exc
    return Joined(dest, False, probe(dest))


# ---------------------------------------------------------------------------------------- copy


def _copyable(first: Path, second: Path) -> bool:
    with av.open(str(first)) as a, av.open(str(second)) as b:
        if not (a.streams.video and b.streams.video):
            return False
        va, vb = a.streams.video[0], b.streams.video[0]
        if _video_key(va) != _video_key(vb):
            return False
        if bool(a.streams.audio) != bool(b.streams.audio):
            return False
        if a.streams.audio and _audio_key(a.streams.audio[0]) != _audio_key(b.streams.audio[0]):
            return False
        return _in_order(a, va) and _in_order(b, vb)


def _video_key(stream: VideoStream) -> tuple[object, ...]:
    ctx = stream.codec_context
    return (ctx.name, ctx.width, ctx.height, ctx.format.name if ctx.format else None,
            stream.average_rate, stream.time_base, bytes(ctx.extradata or b""))  # fmt: skip


def _audio_key(stream: AudioStream) -> tuple[object, ...]:
    ctx = stream.codec_context
    return (ctx.name, ctx.sample_rate, ctx.layout.name, stream.time_base, bytes(ctx.extradata or b""))


def _in_order(container: InputContainer, stream: VideoStream) -> bool:
    """Decode order is display order (each packet's pts above the one before): no B-frames."""
    last: int | None = None
    for packet in container.demux(stream):
        if packet.pts is None:
            if packet.size:
                return False
            continue
        if last is not None and packet.pts <= last:
            return False
        last = packet.pts
    return last is not None


def _copy(first: Path, second: Path, dest: Path, head: VideoInfo, tail: VideoInfo | None) -> None:
    """Stream copy; ``tail`` given (a loop): the second clip's last frame is left out as well."""
    with av.open(str(first)) as a, av.open(str(second)) as b, av.open(str(dest), "w", format="mp4") as out:
        va = a.streams.video[0]
        out_video = out.add_stream_from_template(va)
        out_audio = out.add_stream_from_template(a.streams.audio[0]) if a.streams.audio else None
        # The first clip's last frame starts at the cut; everything of the second clip moves there.
        assert va.time_base is not None
        cut_pts = (va.start_time or 0) + round((head.frames - 1) / head.fps / va.time_base)
        cut_seconds = float((cut_pts - (va.start_time or 0)) * va.time_base)
        audio_end = 0  # where the first clip's kept sound ends, in the audio time base
        for packet in a.demux():
            if packet.dts is None or packet.pts is None:
                continue
            if packet.stream.type == "video":
                if packet.pts >= cut_pts:
                    continue  # the shared frame (the last one: no B-frames, see _copyable)
                packet.stream = out_video
            elif packet.stream.type == "audio" and out_audio is not None:
                tb = packet.stream.time_base
                assert tb is not None
                if (packet.pts - (packet.stream.start_time or 0)) * tb >= cut_seconds:
                    continue
                audio_end = max(audio_end, packet.pts + (packet.duration or 0))
                packet.stream = out_audio
            else:
                continue
            out.mux(packet)
        vb = b.streams.video[0]
        assert vb.time_base is not None
        video_shift = cut_pts - (vb.start_time or 0)
        tail_cut: int | None = None  # where the second clip's kept picture ends (a loop), its time base
        tail_seconds: float | None = None
        if tail is not None:
            tail_cut = (vb.start_time or 0) + round((tail.frames - 1) / tail.fps / vb.time_base)
            tail_seconds = float((tail_cut - (vb.start_time or 0)) * vb.time_base)
        audio_shift: int | None = None
        for packet in b.demux():
            if packet.dts is None or packet.pts is None:
                continue
            if packet.stream.type == "video":
                if tail_cut is not None and packet.pts >= tail_cut:
                    continue  # the loop's closing frame: the first clip's first, shown at the wrap
                packet.pts += video_shift
                packet.dts += video_shift
                packet.stream = out_video
            elif packet.stream.type == "audio" and out_audio is not None:
                tb = packet.stream.time_base
                assert tb is not None
                if (
                    tail_seconds is not None
                    and (packet.pts - (packet.stream.start_time or 0)) * tb >= tail_seconds
                ):
                    continue
                if audio_shift is None:
                    # Right after the first clip's sound (never overlapping it: timestamps must rise).
                    audio_shift = audio_end - packet.dts
                packet.pts += audio_shift
                packet.dts += audio_shift
                packet.stream = out_audio
            else:
                continue
            out.mux(packet)


# ------------------------------------------------------------------------------------ re-encode


def _reencode(first: Path, second: Path, dest: Path, head: VideoInfo, tail: VideoInfo, *, loop: bool) -> None:
    audio = head.has_audio or tail.has_audio
    with Writer(dest, width=head.width, height=head.height, fps=head.fps, audio=audio) as writer:
        _append(writer, first, head, drop_last=True)
        _append(writer, second, tail, drop_last=loop)


def _append(writer: Writer, src: Path, info: VideoInfo, *, drop_last: bool) -> None:
    """Decode ``src`` into ``writer``, its sound cut where its picture ends (one frame early when the
    last frame is dropped) or padded with silence to there.

    The dropped frame is found by holding each frame back until the next one arrives.
    """
    audio_end = writer.samples_at(writer.frames + info.frames - (1 if drop_last else 0))
    with av.open(str(src)) as container:
        streams: list[VideoStream | AudioStream] = [container.streams.video[0]]
        if writer.has_audio and container.streams.audio:
            streams.append(container.streams.audio[0])
        held: VideoFrame | None = None
        for frame in container.decode(*streams):
            if isinstance(frame, VideoFrame):
                if held is not None:
                    writer.video(held)
                held = frame
            elif isinstance(frame, AudioFrame):
                writer.audio(frame, until=audio_end)
        if held is not None and not drop_last:
            writer.video(held)
    writer.silence(writer.samples_at(writer.frames))
