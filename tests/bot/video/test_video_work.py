"""bot.video on real MP4s made here with PyAV: frames, joins, fits, and files that are not videos.

Durations and frame counts are read back by decoding the output (``count_frames``), not from the
code's own report.
"""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from bot.video.fit import CannotFit, fit, plan_for
from bot.video.frames import first_frame_png, last_frame, last_frame_png, poster
from bot.video.join import join
from bot.video.probe import NotReadable, probe
from tests.fakes.mp4 import count_frames, write_clip

FPS = 24


def _clip(tmp_path: Path, name: str, frames: int, **kwargs: object) -> Path:
    return write_clip(tmp_path / f"{name}.mp4", frames, **kwargs)  # type: ignore[arg-type]


def _image_size(path: Path) -> tuple[int, int]:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return frame.width, frame.height


def test_probe_reads_duration_frames_and_sound(tmp_path: Path) -> None:
    with_sound = probe(_clip(tmp_path, "a", 48, width=64, height=36))
    assert (with_sound.frames, with_sound.width, with_sound.height) == (48, 64, 36)
    assert with_sound.seconds == pytest.approx(2.0)
    assert with_sound.has_audio
    assert not probe(_clip(tmp_path, "b", 24, audio=False)).has_audio


@pytest.mark.parametrize("bframes", [0, 2])
def test_last_frame_is_the_last_one_shown(tmp_path: Path, bframes: int) -> None:
    src = _clip(tmp_path, "a", 5 * FPS, width=64, height=36, bframes=bframes)
    frame = last_frame(src)
    with av.open(str(src)) as container:
        frames = list(container.decode(video=0))
    assert frame.pts == frames[-1].pts
    assert bytes(frame.planes[0]) == bytes(frames[-1].planes[0])


def test_frames_as_png_and_a_small_poster(tmp_path: Path) -> None:
    src = _clip(tmp_path, "a", 30, width=640, height=360)
    png = last_frame_png(src, tmp_path / "last.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _image_size(png) == (640, 360)
    assert _image_size(first_frame_png(src, tmp_path / "first.png")) == (640, 360)
    small = poster(src, tmp_path / "poster.jpg")
    assert small.read_bytes()[:2] == b"\xff\xd8"
    assert _image_size(small) == (320, 180)


@pytest.mark.parametrize(("audio_a", "audio_b"), [(True, True), (False, False)])
def test_join_of_matching_clips_is_a_stream_copy_without_the_shared_frame(
    tmp_path: Path, audio_a: bool, audio_b: bool
) -> None:
    first = _clip(tmp_path, "a", 48, width=64, height=36, audio=audio_a)
    second = _clip(tmp_path, "b", 72, width=64, height=36, audio=audio_b)
    joined = join(first, second, tmp_path / "j.mp4")
    assert joined.copied
    frames, sound = count_frames(joined.path)
    assert frames == 48 - 1 + 72
    assert probe(joined.path).seconds == pytest.approx(119 / FPS)
    if audio_a:
        assert sound == pytest.approx(119 / FPS, abs=0.05)
    else:
        assert sound is None


@pytest.mark.parametrize(
    ("first_kwargs", "second_kwargs"),
    [
        ({"bframes": 2}, {"bframes": 2}),  # reordered frames: the last one shown is not the last stored
        ({}, {"width": 96, "height": 54}),  # another size: scaled to the first clip's
        ({"audio": True}, {"audio": False}),  # sound, then none: silence keeps them in step
        ({"audio": False}, {"audio": True}),
    ],
)
def test_join_re_encodes_when_a_copy_cannot_drop_the_frame(
    tmp_path: Path, first_kwargs: dict[str, object], second_kwargs: dict[str, object]
) -> None:
    base: dict[str, object] = {"width": 64, "height": 36}
    first = _clip(tmp_path, "a", 48, **{**base, **first_kwargs})
    second = _clip(tmp_path, "b", 60, **{**base, **second_kwargs})
    joined = join(first, second, tmp_path / "j.mp4")
    assert not joined.copied
    frames, sound = count_frames(joined.path)
    assert frames == 48 - 1 + 60
    assert (joined.info.width, joined.info.height) == (64, 36)
    assert sound == pytest.approx(107 / FPS, abs=0.05)  # either clip had sound: the whole has


def test_a_joined_clip_joins_again(tmp_path: Path) -> None:
    """Extending an extended video extends the whole."""
    first = _clip(tmp_path, "a", 24, width=64, height=36)
    once = join(first, _clip(tmp_path, "b", 24, width=64, height=36), tmp_path / "once.mp4").path
    twice = join(once, _clip(tmp_path, "c", 24, width=64, height=36), tmp_path / "twice.mp4")
    assert count_frames(twice.path)[0] == 24 - 1 + 24 - 1 + 24


@pytest.mark.parametrize(
    ("second_kwargs", "copied"),
    [({}, True), ({"audio": False}, False), ({"width": 96, "height": 54}, False)],
)
def test_a_loop_drops_the_frame_it_shares_at_each_end(
    tmp_path: Path, second_kwargs: dict[str, object], copied: bool
) -> None:
    """The loop's clip starts on the video's last frame and ends on its first: neither shows twice."""
    base: dict[str, object] = {"width": 64, "height": 36}
    first = _clip(tmp_path, "a", 48, **base)
    second = _clip(tmp_path, "b", 60, **{**base, **second_kwargs})
    looped = join(first, second, tmp_path / "loop.mp4", loop=True)
    assert looped.copied is copied
    frames, sound = count_frames(looped.path)
    assert frames == 48 - 1 + 60 - 1
    assert sound == pytest.approx(106 / FPS, abs=0.05)
    with av.open(str(looped.path)) as container:
        shown = list(container.decode(video=0))
    with av.open(str(second)) as container:
        made = list(container.decode(video=0))
    if copied:  # the clip's last kept frame is its one before last, bit for bit
        assert bytes(shown[-1].planes[0]) == bytes(made[-2].planes[0])


@pytest.mark.parametrize("audio", [True, False])
def test_fit_re_encodes_under_the_limit_keeping_length_and_sound(tmp_path: Path, audio: bool) -> None:
    src = _clip(tmp_path, "a", 4 * FPS, width=640, height=360, audio=audio, crf=0)
    limit = 200_000
    assert src.stat().st_size > limit
    fitted = fit(src, tmp_path / "fit.mp4", limit)
    assert fitted.size_bytes == fitted.path.stat().st_size <= limit
    frames, sound = count_frames(fitted.path)
    assert frames == 4 * FPS
    assert (sound is not None) is audio
    assert fitted.info.codec == "h264"


def test_fit_scales_down_only_when_the_bitrate_is_too_thin() -> None:
    from fractions import Fraction

    from bot.video.probe import VideoInfo

    big = VideoInfo(seconds=6.0, frames=144, width=1920, height=1080, fps=Fraction(24), codec="h264",
                    has_audio=True)  # fmt: skip
    roomy = plan_for(big, 50 * 1024 * 1024)
    assert (roomy.width, roomy.height) == (1920, 1080)
    tight = plan_for(big, 1024 * 1024)
    assert tight.height < 1080
    assert tight.width / tight.height == pytest.approx(16 / 9, rel=0.02)
    with pytest.raises(CannotFit):
        plan_for(VideoInfo(60.0, 1440, 1920, 1080, Fraction(24), "h264", True), 500_000)


@pytest.mark.parametrize(
    "content", [b"", b"not a video at all" * 100, b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64]
)
def test_not_a_video_is_not_readable(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    good = _clip(tmp_path, "good", 24)
    for call in (lambda: probe(bad), lambda: last_frame(bad), lambda: join(good, bad, tmp_path / "j.mp4"),
                 lambda: fit(bad, tmp_path / "f.mp4", 1_000_000)):  # fmt: skip
        with pytest.raises(NotReadable):
            call()


def test_a_truncated_video_is_not_readable_or_still_decodes(tmp_path: Path) -> None:
    src = _clip(tmp_path, "a", 48, width=64, height=36)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    with pytest.raises(NotReadable):
        probe(cut)


async def test_the_worker_runs_off_the_loop_one_at_a_time(tmp_path: Path) -> None:
    import asyncio
    import threading

    from bot.video.worker import VideoWorker

    worker = VideoWorker(slots=1)
    inside = 0
    most = 0
    loop_thread = threading.get_ident()
    gate = threading.Event()

    def work(name: str) -> str:
        nonlocal inside, most
        assert threading.get_ident() != loop_thread
        inside += 1
        most = max(most, inside)
        gate.wait(timeout=30)
        inside -= 1
        return name

    started = threading.Event()

    def first(name: str) -> str:
        started.set()
        return work(name)

    runs = [asyncio.create_task(worker.run(first, "0"))]
    assert await asyncio.to_thread(started.wait, 30)
    runs += [asyncio.create_task(worker.run(work, str(index))) for index in (1, 2)]
    await asyncio.sleep(0)  # both reach the semaphore; neither can pass it while the first runs
    assert worker.waiting() == 2
    gate.set()
    assert await asyncio.gather(*runs) == ["0", "1", "2"]
    assert most == 1


def test_a_truncated_mp4_is_not_readable_and_has_no_poster(tmp_path: Path) -> None:
    """#12: it starts with an ftyp box (it passes the download's sniff) but its movie is cut off."""
    whole = _clip(tmp_path, "a", 48, width=64, height=36)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert cut.read_bytes()[4:8] == b"ftyp"
    with pytest.raises(NotReadable):
        probe(cut)
    with pytest.raises(NotReadable):
        poster(cut, tmp_path / "poster.jpg")


def test_the_poster_is_the_first_frame_and_keeps_a_portrait_shape(tmp_path: Path) -> None:
    src = _clip(tmp_path, "a", 24, width=360, height=640)
    small = poster(src, tmp_path / "poster.jpg")
    assert _image_size(small) == (180, 320)
    with av.open(str(src)) as container:
        first = next(container.decode(video=0)).reformat(width=180, height=320, format="gray")
    with av.open(str(small)) as container:
        shown = next(container.decode(video=0)).reformat(format="gray")
    # The pixels, not the plane's bytes: a plane's rows are padded to its stride with filler.
    a, b = first.to_ndarray().astype(int), shown.to_ndarray().astype(int)
    # JPEG is lossy: the same picture within a few grey levels on average, not the same bytes.
    assert a.shape == b.shape == (320, 180) and abs(a - b).mean() < 8
