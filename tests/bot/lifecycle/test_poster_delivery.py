"""#12 at the service level: every result carries a poster frame (the file's first frame, also on a
link-only result), and a file that starts like an MP4 but is not a readable video fails and is
refunded, once, with nothing posted.

The fake MiniMax serves real (tiny, padded) H.264 MP4s for V1 and its ``v1_video`` fault serves a
corrupt one (an ``ftyp`` box, then no movie) or one that is not an MP4 at all.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import av
import pytest

from bot.lifecycle import delivery
from bot.minimax.errors import NotAVideo, UnreadableVideo
from bot.video.frames import POSTER_MAX_SIDE
from storage import TaskState
from tests.fakes.lifecycle_harness import Harness, lifecycle_harness


def _jpeg_size(data: bytes) -> tuple[int, int]:
    assert data[:2] == b"\xff\xd8", "a JPEG"
    with av.open(io.BytesIO(data)) as container:
        frame = next(container.decode(video=0))
        return frame.width, frame.height


async def _deliver(harness: Harness) -> int:
    service = await harness.start()
    task = await service.request(harness.request())
    await harness.wait_final(task.id)
    return task.id


def _leftovers(harness: Harness) -> list[Path]:
    return list(harness.settings.download_dir.iterdir())  # type: ignore[union-attr]


async def test_a_delivered_video_carries_its_first_frame_as_a_poster(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        task_id = await _deliver(harness)
        done = await harness.storage.tasks.get(task_id)
        assert done.state is TaskState.DELIVERED
        (posted,) = harness.notifier.results_for(task_id)
        assert posted.data is not None and posted.poster is not None
        width, height = _jpeg_size(posted.poster)
        assert max(width, height) <= POSTER_MAX_SIDE
        assert await harness.ledger(task_id) == ["reserve", "charge"]
        assert _leftovers(harness) == []  # the poster is removed with the video


async def test_a_link_only_result_still_shows_the_poster(tmp_path: Path) -> None:
    """No re-encode fits 10 kB: the link is posted, with the poster made from the downloaded file."""
    async with lifecycle_harness(tmp_path) as harness:
        harness.notifier.default_upload_limit = 10_000
        task_id = await _deliver(harness)
        (posted,) = harness.notifier.results_for(task_id)
        assert posted.data is None and posted.link is not None
        assert posted.poster is not None and _jpeg_size(posted.poster)
        assert await harness.ledger(task_id) == ["reserve", "charge"]


async def test_a_poster_that_cannot_be_made_never_fails_the_delivery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(src: Path, dest: Path) -> Path:
        dest.write_bytes(b"half")
        raise RuntimeError("the decoder gave up")

    monkeypatch.setattr(delivery, "poster", broken)
    async with lifecycle_harness(tmp_path) as harness:
        with caplog.at_level(logging.WARNING):
            task_id = await _deliver(harness)
        (posted,) = harness.notifier.results_for(task_id)
        assert posted.data is not None and posted.poster is None
        assert (await harness.storage.tasks.get(task_id)).state is TaskState.DELIVERED
        assert await harness.ledger(task_id) == ["reserve", "charge"]
        assert f"Task {task_id}: no poster frame" in caplog.text
        assert _leftovers(harness) == []


async def test_a_poster_that_would_push_the_upload_over_the_limit_is_left_out(tmp_path: Path) -> None:
    """The video fits alone, not with the poster beside it: the video matters, it goes alone."""
    async with lifecycle_harness(tmp_path) as harness:
        harness.fake.download_size = 20_000
        harness.notifier.default_upload_limit = 20_000
        task_id = await _deliver(harness)
        (posted,) = harness.notifier.results_for(task_id)
        assert posted.data is not None and len(posted.data) == 20_000
        assert posted.poster is None


@pytest.mark.parametrize(
    ("fault", "message"), [("corrupt", UnreadableVideo.user_message), ("not_mp4", NotAVideo.user_message)]
)
async def test_a_corrupt_or_non_mp4_file_fails_and_is_refunded_once_with_nothing_posted(
    tmp_path: Path, fault: str, message: str
) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        harness.fake.v1_video = fault  # type: ignore[assignment]
        task_id = await _deliver(harness)
        done = await harness.storage.tasks.get(task_id)
        assert done.state is TaskState.FAILED
        assert await harness.ledger(task_id) == ["reserve", "refund"]
        assert harness.notifier.results_for(task_id) == []
        assert harness.notifier.failures_for(task_id) == [message]
        assert harness.fake.counts["download"] == 1, "a refused file is not fetched again"
        assert _leftovers(harness) == []
