"""A result that fits: over the upload limit, the video is re-encoded to fit and posted as a file.

The fake MiniMax serves a real 4 s MP4 made here (640×360, with sound unless asked otherwise); what
was posted is decoded back to check its length, its sound and its size against the limit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.lifecycle import VideoRequest
from bot.lifecycle.upload_limits import MIB, UploadLimits
from bot.spec import VideoSpec
from storage import TaskState
from tests.builders import task_of
from tests.fakes.lifecycle_harness import CHANNEL, GUILD, USER, Harness
from tests.fakes.mp4 import count_frames, write_clip

FRAMES = 96  # 4 s at 24 fps
LIMIT = 200_000  # the clip is about 550 kB


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, bytes]:
    folder = tmp_path_factory.mktemp("clips")
    return {
        audio: write_clip(
            folder / f"{audio}.mp4", FRAMES, width=640, height=360, audio=audio, grain=True, crf=12
        ).read_bytes()
        for audio in (True, False)
    }


def h3_request(**overrides: object) -> VideoRequest:
    spec = VideoSpec("a lighthouse in a storm", model="MiniMax-H3", duration=6, resolution="768P")
    fields: dict[str, object] = {"guild_id": GUILD, "channel_id": CHANNEL, "user_id": USER, "spec": spec}
    fields.update(overrides)
    return VideoRequest(**fields)  # type: ignore[arg-type]


async def _roomy(harness: Harness) -> None:
    await harness.storage.limits.set_guild_default(GUILD, 500, "day", actor_id=1)


def _check_posted(data: bytes | None, tmp_path: Path, *, limit: int, audio: bool) -> None:
    assert data is not None, "posted as a file, not a link"
    assert len(data) <= limit
    path = tmp_path / "posted.mp4"
    path.write_bytes(data)
    frames, sound = count_frames(path)
    assert frames == FRAMES
    assert (sound is not None) is audio
    if sound is not None:
        assert sound == pytest.approx(FRAMES / 24, abs=0.05)


@pytest.mark.parametrize("audio", [True, False])
async def test_a_video_over_the_limit_is_re_encoded_to_fit_and_posted_as_a_file(
    harness: Harness, tmp_path: Path, clips: dict[bool, bytes], audio: bool
) -> None:
    await _roomy(harness)
    harness.fake.v2_content = clips[audio]
    harness.notifier.default_upload_limit = LIMIT
    service = await harness.start()
    task = await service.request(h3_request())
    done = await harness.wait_final(task.id, within=60)
    assert done.state is TaskState.DELIVERED, done.error_message
    (posted,) = harness.notifier.results_for(task.id)
    _check_posted(posted.data, tmp_path, limit=LIMIT, audio=audio)
    assert posted.refitted, "the card says it was re-encoded (full quality: Details)"
    assert done.video_bytes == len(clips[audio]), "the stored size is the video the API made"
    assert await harness.ledger(task.id) == ["reserve", "charge"]
    assert list(harness.settings.download_dir.iterdir()) == []  # type: ignore[union-attr]


async def test_the_interactions_limit_stored_with_the_task_is_the_one_fitted(
    harness: Harness, tmp_path: Path, clips: dict[bool, bytes]
) -> None:
    """The guild reports 10 MiB, but the interaction said 200 kB: the task keeps that and fits it."""
    await _roomy(harness)
    harness.fake.v2_content = clips[True]
    service = await harness.start()
    task = await service.request(h3_request(upload_limit=LIMIT))
    assert task.upload_limit == LIMIT
    done = await harness.wait_final(task.id, within=60)
    assert done.state is TaskState.DELIVERED, done.error_message
    (posted,) = harness.notifier.results_for(task.id)
    _check_posted(posted.data, tmp_path, limit=LIMIT, audio=True)


async def test_a_file_refused_as_too_large_lowers_the_limit_and_a_smaller_one_is_posted(
    harness: Harness, tmp_path: Path, clips: dict[bool, bytes]
) -> None:
    """Discord really takes 150 kB (a lost boost): the 550 kB file is refused, the limit there is
    lowered (step by step below the known tiers) until a re-encode fits; the next video there fits
    at once."""
    await _roomy(harness)
    harness.fake.v2_content = clips[True]
    harness.notifier.accepts_bytes = 150_000
    service = await harness.start()
    first = await service.request(h3_request())
    done = await harness.wait_final(first.id, within=60)
    assert done.state is TaskState.DELIVERED, done.error_message
    (posted,) = harness.notifier.results_for(first.id)
    _check_posted(posted.data, tmp_path, limit=150_000, audio=True)
    refused = harness.notifier.too_large
    assert refused[0] == len(clips[True]) and refused == sorted(refused, reverse=True)
    assert await harness.ledger(first.id) == ["reserve", "charge"]

    second = await service.request(h3_request())
    assert (await harness.wait_final(second.id, within=60)).state is TaskState.DELIVERED
    (again,) = harness.notifier.results_for(second.id)
    _check_posted(again.data, tmp_path, limit=150_000, audio=True)
    assert harness.notifier.too_large == refused, "the lowered limit is remembered for the server"


async def test_when_no_re_encode_can_fit_the_link_is_posted(
    harness: Harness, clips: dict[bool, bytes]
) -> None:
    await _roomy(harness)
    harness.fake.v2_content = clips[True]
    harness.notifier.default_upload_limit = 20_000  # 4 s in 20 kB: below any watchable bitrate
    service = await harness.start()
    task = await service.request(h3_request())
    done = await harness.wait_final(task.id, within=60)
    assert done.state is TaskState.DELIVERED
    (posted,) = harness.notifier.results_for(task.id)
    assert posted.data is None and posted.link is not None and not posted.refitted
    assert await harness.ledger(task.id) == ["reserve", "charge"]


def test_a_refusal_steps_down_to_the_next_known_limit() -> None:
    limits = UploadLimits()
    task = task_of(prompt="p", guild_id=GUILD, upload_limit=50 * MIB)
    assert limits.limit(task, 100 * MIB) == 50 * MIB  # the smaller of stored and reported
    assert limits.lower(task, 30 * MIB, 50 * MIB) == 25 * MIB
    assert limits.limit(task, 100 * MIB) == 25 * MIB
    assert limits.lower(task, 9 * MIB, 25 * MIB) == 8 * MIB
    assert limits.lower(task, 4 * MIB, 8 * MIB) == 3 * MIB
    other = task_of(prompt="p", guild_id=GUILD + 1, upload_limit=None)
    assert limits.limit(other, 10 * MIB) == 10 * MIB, "another server keeps its own limit"
    by_dm = task_of(prompt="p", guild_id=GUILD, upload_limit=50 * MIB, deliver_by_dm=True)
    assert limits.limit(by_dm, 10 * MIB) == 10 * MIB, "a DM goes by the DM's limit"
