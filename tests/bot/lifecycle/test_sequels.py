"""Extend and Loop at the service level: real MP4s made here, served by the fake MiniMax and by a
stand-in of Discord's CDN (the posted file, as the notifier's ``result_video_url`` points to it).

What was posted is decoded back: its frame count says whether the shared frame was dropped, its
sound whether the audio was kept; the ledger says each task was charged once.
"""

from __future__ import annotations

import asyncio
import base64
import io
from pathlib import Path

import av
import pytest

from bot.i18n import translate
from bot.lifecycle import Actor, RequestRefused, VideoRequest
from bot.lifecycle.images import ImageUnavailable
from bot.spec import VideoSpec
from storage import Task, TaskState
from tests.fakes.lifecycle_harness import CHANNEL, GUILD, OTHER_USER, USER, Harness
from tests.fakes.mp4 import count_frames, write_clip
from tests.fakes.recording_notifier import PostedResult

OWNER = Actor(USER, GUILD)
OTHER = Actor(OTHER_USER, GUILD)
W, H = 640, 360  # the API wants a first frame's short side over 300 px


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("clips")

    def clip(name: str, frames: int, **kwargs: object) -> bytes:
        path = write_clip(folder / f"{name}.mp4", frames, width=W, height=H, **kwargs)  # type: ignore[arg-type]
        return path.read_bytes()

    return {
        "a": clip("a", 48),  # 2 s with sound: the original
        "b": clip("b", 72),  # 3 s with sound: the same encoding (a stream copy)
        "silent": clip("silent", 36, audio=False),  # 1.5 s without sound (a re-encode)
        "c": clip("c", 24),
    }


async def _roomy(harness: Harness) -> None:
    await harness.storage.limits.set_guild_default(GUILD, 5000, "day", actor_id=1)


async def _delivered(harness: Harness, content: bytes, *, user: int = USER, private: bool = False) -> Task:
    """An H3 text-to-video result, posted and re-fetchable as Discord would keep it."""
    harness.fake.v2_content = content
    assert harness.service is not None
    spec = VideoSpec("a lighthouse in a storm", model="MiniMax-H3", duration=6, resolution="768P")
    task = await harness.service.request(
        VideoRequest(guild_id=GUILD, channel_id=CHANNEL, user_id=user, spec=spec, private=private)
    )
    done = await harness.wait_final(task.id, within=60)
    assert done.state is TaskState.DELIVERED, done.error_message
    _serve_posted(harness, done)
    return done


def _serve_posted(harness: Harness, task: Task) -> None:
    (posted,) = harness.notifier.results_for(task.id)
    assert posted.data is not None
    harness.notifier.video_urls[task.id] = harness.images.add(f"{task.id}.mp4", posted.data, "video/mp4")


def _posted_facts(harness: Harness, task_id: int, tmp_path: Path) -> tuple[int, float | None]:
    (posted,) = harness.notifier.results_for(task_id)
    assert posted.data is not None, "posted as a file"
    path = tmp_path / f"posted-{task_id}.mp4"
    assert posted.data[4:8] == b"ftyp"
    path.write_bytes(posted.data)
    return count_frames(path)


def _sent_images(harness: Harness) -> dict[str, bytes]:
    """The images of the last submission, by role, decoded from their data URLs."""
    body = harness.fake.submissions[-1]
    found = {}
    for item in body["content"]:
        if item.get("type") == "image_url":
            url = item["image_url"]["url"]
            assert url.startswith("data:image/png;base64,")
            found[item["role"]] = base64.b64decode(url.partition(",")[2])
    return found


def _nearest_frame(png: bytes, video: bytes) -> int:
    """Which frame of ``video`` the image shows (the nearest in grey levels; colour conversion
    makes them differ by a level or two, other frames by far more)."""
    with av.open(io.BytesIO(png)) as container:
        image = next(container.decode(video=0)).to_ndarray(format="gray").astype(int)
    with av.open(io.BytesIO(video)) as container:
        frames = [f.to_ndarray(format="gray").astype(int) for f in container.decode(video=0)]
    distances = [abs(frame - image).mean() for frame in frames]
    return min(range(len(frames)), key=distances.__getitem__) - len(frames)


async def test_extend_continues_from_the_last_frame_and_posts_the_whole(
    harness: Harness, tmp_path: Path, clips: dict[str, bytes]
) -> None:
    await _roomy(harness)
    service = await harness.start()
    original = await _delivered(harness, clips["a"])
    offer = await service.sequel_offer(original.id, OTHER, "extend")
    assert (offer.spec.model, offer.spec.resolution, offer.spec.duration) == ("MiniMax-H3", "768P", 6)
    assert offer.price_tenths > 0 and offer.total_seconds == pytest.approx(2 + 6)

    harness.fake.v2_content = clips["b"]
    extend = await service.sequel(original.id, OTHER, "extend", "the storm clears")
    assert extend.user_id == OTHER_USER, "the clicker pays"
    assert extend.edit is not None and (extend.edit.of, extend.edit.kind) == (original.id, "extend")
    done = await harness.wait_final(extend.id, within=60)
    assert done.state is TaskState.DELIVERED, done.error_message
    images = _sent_images(harness)
    assert set(images) == {"first_frame"}
    assert _nearest_frame(images["first_frame"], clips["a"]) == -1
    frames, sound = _posted_facts(harness, extend.id, tmp_path)
    assert frames == 48 - 1 + 72
    assert sound == pytest.approx(119 / 24, abs=0.05)
    assert done.join_state == "joined" and done.delivered_seconds == pytest.approx(119 / 24, abs=0.01)
    assert await harness.ledger(extend.id) == ["reserve", "charge"]
    assert await harness.ledger(original.id) == ["reserve", "charge"]
    assert list(harness.settings.download_dir.iterdir()) == []  # type: ignore[union-attr]

    # Extending the extended video extends the whole: its source is the posted, joined file.
    _serve_posted(harness, done)
    harness.fake.v2_content = clips["c"]
    again = await service.sequel(extend.id, OWNER, "extend", "night falls")
    done_again = await harness.wait_final(again.id, within=60)
    assert done_again.state is TaskState.DELIVERED, done_again.error_message
    assert _posted_facts(harness, again.id, tmp_path)[0] == 119 - 1 + 24


async def test_a_clip_without_sound_is_re_encoded_onto_the_video_with_sound(
    harness: Harness, tmp_path: Path, clips: dict[str, bytes]
) -> None:
    await _roomy(harness)
    service = await harness.start()
    original = await _delivered(harness, clips["a"])
    harness.fake.v2_content = clips["silent"]
    extend = await service.sequel(original.id, OWNER, "extend", "quiet now")
    done = await harness.wait_final(extend.id, within=60)
    assert done.state is TaskState.DELIVERED, done.error_message
    frames, sound = _posted_facts(harness, extend.id, tmp_path)
    assert frames == 48 - 1 + 36
    assert sound == pytest.approx(83 / 24, abs=0.05), "the sound is kept, silence where the clip had none"


async def test_loop_goes_from_the_last_frame_back_to_the_first(
    harness: Harness, tmp_path: Path, clips: dict[str, bytes]
) -> None:
    await _roomy(harness)
    service = await harness.start()
    original = await _delivered(harness, clips["a"])
    harness.fake.v2_content = clips["b"]
    loop = await service.sequel(original.id, OWNER, "loop", "and back again")
    done = await harness.wait_final(loop.id, within=60)
    assert done.state is TaskState.DELIVERED, done.error_message
    images = _sent_images(harness)
    assert set(images) == {"first_frame", "last_frame"}
    assert _nearest_frame(images["first_frame"], clips["a"]) == -1
    assert _nearest_frame(images["last_frame"], clips["a"]) == -48
    frames, _ = _posted_facts(harness, loop.id, tmp_path)
    assert frames == 48 - 1 + 72 - 1, "neither shared frame shows twice when it wraps around"
    assert done.join_state == "joined" and done.edit_kind == "loop"


async def test_the_total_length_is_capped_and_beyond_it_nothing_is_reserved(
    harness: Harness, clips: dict[str, bytes]
) -> None:
    await _roomy(harness)
    service = await harness.start(max_extended_seconds=8)
    original = await _delivered(harness, clips["a"])  # 2 s: 6 s more fit exactly
    offer = await service.sequel_offer(original.id, OWNER, "extend")
    assert offer.spec.duration == 6
    tight = await harness.start(max_extended_seconds=7)  # 5 s fit: the segment is shortened
    assert (await tight.sequel_offer(original.id, OWNER, "extend")).spec.duration == 5
    short = await harness.start(max_extended_seconds=5)  # 3 s of room: H3 makes 4 s at least
    with pytest.raises(RequestRefused, match="at most 5 s"):
        await short.sequel_offer(original.id, OWNER, "extend")
    with pytest.raises(RequestRefused, match="at most 5 s") as refused:
        await short.sequel(original.id, OWNER, "loop", "again")
    assert "au plus 5 s" in refused.value.text("fr")
    assert await harness.storage.tasks.count_for_user(GUILD, USER) == 1
    assert f"result_video_url:{original.id}" not in harness.notifier.calls, "refused before fetching"


async def test_a_whole_that_no_re_encode_could_fit_the_upload_limit_is_refused(
    harness: Harness, clips: dict[str, bytes]
) -> None:
    await _roomy(harness)
    service = await harness.start()
    original = await _delivered(harness, clips["a"])
    with pytest.raises(RequestRefused, match="upload limit"):
        await service.sequel_offer(original.id, OWNER, "extend", upload_limit=50_000)
    assert await harness.storage.tasks.count_for_user(GUILD, USER) == 1


async def test_a_private_result_is_extended_only_by_its_owner(
    harness: Harness, clips: dict[str, bytes]
) -> None:
    await _roomy(harness)
    service = await harness.start()
    original = await _delivered(harness, clips["a"], private=True)
    with pytest.raises(RequestRefused, match="private"):
        await service.sequel_offer(original.id, OTHER, "extend")
    with pytest.raises(RequestRefused, match="private"):
        await service.sequel(original.id, OTHER, "loop", "mine now")
    assert (await service.sequel_offer(original.id, OWNER, "extend")).original.id == original.id


async def test_a_video_gone_everywhere_is_refused_with_nothing_reserved(
    harness: Harness, clips: dict[str, bytes]
) -> None:
    await _roomy(harness)
    service = await harness.start()
    original = await _delivered(harness, clips["a"])
    del harness.notifier.video_urls[original.id]  # the message was deleted
    harness.fake.inject("query", 2013, times=10)  # and the API will not name the file again
    before = await harness.storage.quota.usage(GUILD, USER)
    with pytest.raises(RequestRefused, match="is gone") as refused:
        await service.sequel(original.id, OWNER, "extend", "more")
    assert refused.value.text("de") == translate("de", "sequel.refused.gone", task_id=original.id)
    assert refused.value.text("de").startswith(f"Video #{original.id} ist nicht mehr da")
    assert await harness.storage.tasks.count_for_user(GUILD, USER) == 1
    assert (await harness.storage.quota.usage(GUILD, USER)).used_tenths == before.used_tenths


async def test_a_joined_video_whose_message_is_gone_is_refused(
    harness: Harness, clips: dict[str, bytes]
) -> None:
    """The API has only the last segment of a joined video: without Discord's copy it is gone."""
    await _roomy(harness)
    service = await harness.start()
    original = await _delivered(harness, clips["a"])
    harness.fake.v2_content = clips["b"]
    extend = await service.sequel(original.id, OWNER, "extend", "more")
    assert (await harness.wait_final(extend.id, within=60)).join_state == "joined"
    downloads = harness.fake.counts["download"]
    with pytest.raises(RequestRefused, match="is gone"):
        await service.sequel(extend.id, OWNER, "extend", "even more")
    assert harness.fake.counts["download"] == downloads
    assert await harness.storage.tasks.count_for_user(GUILD, USER) == 2


async def test_the_api_link_stands_in_for_a_deleted_message_of_a_plain_result(
    harness: Harness, tmp_path: Path, clips: dict[str, bytes]
) -> None:
    await _roomy(harness)
    service = await harness.start()
    original = await _delivered(harness, clips["a"])
    del harness.notifier.video_urls[original.id]
    harness.fake.v2_content = clips["b"]
    extend = await service.sequel(original.id, OWNER, "extend", "more")
    done = await harness.wait_final(extend.id, within=60)
    assert done.join_state == "joined"
    assert _posted_facts(harness, extend.id, tmp_path)[0] == 48 - 1 + 72


async def test_a_failed_join_delivers_the_clip_alone_and_says_so(
    harness: Harness, tmp_path: Path, clips: dict[str, bytes]
) -> None:
    await _roomy(harness)
    service = await harness.start()
    original = await _delivered(harness, clips["a"])
    harness.fake.v2_content = clips["b"]
    extend = await service.sequel(original.id, OWNER, "extend", "more")
    # Between the request and the join, Discord's copy turns into something that is not a video.
    name = f"{original.id}.mp4"
    harness.images.files[name] = (clips["a"][:64] + b"\x00" * 4096, "video/mp4")
    done = await harness.wait_final(extend.id, within=60)
    assert done.state is TaskState.DELIVERED, done.error_message
    assert done.join_state == "alone"
    assert _posted_facts(harness, extend.id, tmp_path)[0] == 72, "the new clip, alone"
    assert await harness.ledger(extend.id) == ["reserve", "charge"]


async def test_a_crash_before_the_joined_video_is_posted_posts_it_once_after_restart(
    harness: Harness, tmp_path: Path, clips: dict[str, bytes]
) -> None:
    await _roomy(harness)
    service = await harness.start()
    original = await _delivered(harness, clips["a"])
    harness.fake.v2_content = clips["b"]
    harness.notifier.post_gate = asyncio.Event()  # the post waits: the process dies there
    extend = await service.sequel(original.id, OWNER, "extend", "more")
    await harness.notifier.wait_for(lambda: f"post_result:{extend.id}" in harness.notifier.calls, within=60)
    await harness.stop()
    stuck = await harness.storage.tasks.get(extend.id)
    assert stuck.state is TaskState.DELIVERING and stuck.join_state == "joined"
    assert harness.notifier.results_for(extend.id) == []

    harness.notifier.post_gate = None
    await harness.start()
    done = await harness.wait_final(extend.id, within=60)
    assert done.state is TaskState.DELIVERED, done.error_message
    assert _posted_facts(harness, extend.id, tmp_path)[0] == 48 - 1 + 72
    assert await harness.ledger(extend.id) == ["reserve", "charge"]
    submits = harness.fake.counts["submit"]
    await harness.stop()
    await harness.start()  # and once more: nothing is joined, posted or charged again
    await harness.stop()
    assert len(harness.notifier.results_for(extend.id)) == 1
    assert harness.fake.counts["submit"] == submits
    assert await harness.ledger(extend.id) == ["reserve", "charge"]


async def test_a_result_never_delivered_cannot_be_extended(harness: Harness) -> None:
    await _roomy(harness)
    service = await harness.start()
    harness.fake.never_finish_next_task()
    task = await service.request(harness.request())
    with pytest.raises(RequestRefused, match="not delivered"):
        await service.sequel_offer(task.id, OWNER, "extend")


async def test_after_a_restart_the_submit_takes_the_frame_again_from_the_video(
    harness: Harness, clips: dict[str, bytes]
) -> None:
    """The frames taken at request time are kept in memory only: a restarted bot (or another
    process) takes them again when it submits, and a video gone by then fails that task cleanly."""
    await _roomy(harness)
    await harness.start()
    original = await _delivered(harness, clips["a"])
    restarted = await harness.start()
    data_url = await restarted.sequels.frame_data_url(f"videoframe:{original.id}:last")
    assert _nearest_frame(base64.b64decode(data_url.partition(",")[2]), clips["a"]) == -1
    first = await restarted.sequels.frame_data_url(f"videoframe:{original.id}:first")
    assert _nearest_frame(base64.b64decode(first.partition(",")[2]), clips["a"]) == -48

    del harness.notifier.video_urls[original.id]
    harness.fake.inject("query", 2013, times=10)
    again = await harness.start()
    with pytest.raises(ImageUnavailable, match="is gone"):
        await again.sequels.frame_data_url(f"videoframe:{original.id}:last")
    with pytest.raises(ImageUnavailable):
        await again.sequels.frame_data_url("videoframe:nope:last")


async def test_a_crash_after_the_joined_video_was_posted_records_it_without_joining_again(
    harness: Harness, clips: dict[str, bytes]
) -> None:
    """Discord took the joined video, then the process died before "delivered" was written: the
    restart finds the post, records it (charged once) and neither fetches, joins nor posts again."""
    await _roomy(harness)
    service = await harness.start()
    original = await _delivered(harness, clips["a"])
    harness.fake.v2_content = clips["b"]
    harness.notifier.post_gate = asyncio.Event()
    extend = await service.sequel(original.id, OWNER, "extend", "more")
    await harness.notifier.wait_for(lambda: f"post_result:{extend.id}" in harness.notifier.calls, within=60)
    await harness.stop()
    harness.notifier.post_gate = None
    harness.notifier.results.append(PostedResult(4242, extend.id, False, b"joined", None, None, "v.mp4"))
    fetches = harness.notifier.calls.count(f"result_video_url:{original.id}")
    downloads = harness.fake.counts["download"]

    await harness.start()
    done = await harness.wait_final(extend.id, within=60)
    assert done.state is TaskState.DELIVERED and done.result_message_id == 4242
    assert done.join_state == "joined", "the card still says it is the whole"
    assert len(harness.notifier.results_for(extend.id)) == 1
    assert harness.notifier.calls.count(f"result_video_url:{original.id}") == fetches
    assert harness.fake.counts["download"] == downloads
    assert await harness.ledger(extend.id) == ["reserve", "charge"]


async def test_a_video_too_small_for_a_first_frame_is_refused_with_nothing_reserved(
    harness: Harness, tmp_path: Path
) -> None:
    """A copy re-encoded to fit can be scaled down below what the API takes as an image."""
    small = write_clip(tmp_path / "small.mp4", 24, width=426, height=240).read_bytes()
    await _roomy(harness)
    service = await harness.start()
    original = await _delivered(harness, small)
    with pytest.raises(RequestRefused, match="426×240: too small") as refused:
        await service.sequel(original.id, OWNER, "extend", "more")
    assert "426×240" in refused.value.text("ja") and "小さすぎます" in refused.value.text("ja")
    assert await harness.storage.tasks.count_for_user(GUILD, USER) == 1
    assert list(harness.settings.download_dir.iterdir()) == []  # type: ignore[union-attr]
