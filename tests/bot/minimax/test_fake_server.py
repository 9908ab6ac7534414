"""The fake MiniMax itself: it must refuse what the real API refuses and keep its clock honest.

Exercised through the real client, so a body the client builds and the fake accepts is one the real
API accepts too (as far as the documented rules go).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from bot.minimax import errors
from bot.minimax.types import TaskStatus
from bot.spec import VideoSpec
from bot.video.probe import NotReadable, probe
from tests.bot.minimax.conftest import MakeClient
from tests.builders import sent_spec
from tests.fakes.fake_minimax import FakeMiniMax, validate_submission, video_bytes
from tests.fakes.mp4 import count_frames

URL = "https://images.example/a.png"
DATA_URL = "data:image/png;base64,iVBORw0KGgo="

VALID = [
    sent_spec("MiniMax-Hailuo-2.3", "text", 6, "1080P"),
    sent_spec("MiniMax-Hailuo-2.3", "text", 10, "768P", fast_pretreatment=True),
    sent_spec("MiniMax-Hailuo-2.3-Fast", "", 6, "768P", first_frame_image=DATA_URL),
    sent_spec("MiniMax-Hailuo-02", "x", 10, "512P", first_frame_image=URL),
    sent_spec("MiniMax-Hailuo-02", "x", 6, "1080P", first_frame_image=URL, last_frame_image=URL),
    sent_spec("T2V-01-Director", "[Pan left] a road", 6),  # the 01 series: duration 6, no resolution
    sent_spec("I2V-01-live", "", 6, first_frame_image=URL),
    sent_spec("S2V-01", "she smiles", subject_image=URL),  # no duration field at all
    sent_spec("S2V-01", "", subject_image=URL),  # the prompt is optional with a subject
    sent_spec("MiniMax-Hailuo-02", "", 6, "768P", first_frame_image=URL, last_frame_image=URL),
    sent_spec("MiniMax-Hailuo-2.3", "x" * 2000, 6),
]


@pytest.mark.parametrize("request_", VALID, ids=lambda r: r.model)
async def test_valid_requests_are_accepted(
    fake_minimax_any: FakeMiniMax, make_client: MakeClient, request_: VideoSpec
) -> None:
    assert await make_client(fake_minimax_any).submit(request_) in fake_minimax_any.tasks


INVALID = [
    (sent_spec("Hailuo-3000", "x"), "model Hailuo-3000 is not supported"),
    (sent_spec("MiniMax-Hailuo-2.3", "x", 10, "1080P"), "1080P at 10 s"),
    (sent_spec("MiniMax-Hailuo-2.3", "x", 6, "512P"), "512P at 6 s"),
    (sent_spec("MiniMax-Hailuo-2.3-Fast", "text only"), "does not support text-to-video"),
    (sent_spec("T2V-01", "x", first_frame_image=URL), "does not support image-to-video"),
    (
        sent_spec("MiniMax-Hailuo-2.3", "x", first_frame_image=URL, last_frame_image=URL),
        "first + last",
    ),
    (sent_spec("MiniMax-Hailuo-2.3", "x", subject_image=URL), "subject reference"),
    (sent_spec("MiniMax-Hailuo-2.3", "x" * 2001), "prompt exceeds 2000"),
    (sent_spec("MiniMax-Hailuo-2.3", "   "), "prompt is required"),
    (sent_spec("MiniMax-Hailuo-2.3", "x", first_frame_image="ftp://a/b.png"), "first_frame_image"),
    (
        sent_spec("MiniMax-Hailuo-2.3", "x", first_frame_image="data:image/gif;base64,R0lG"),
        "first_frame",
    ),
    (sent_spec("MiniMax-Hailuo-02", "x", last_frame_image=URL), "requires first_frame_image"),
    (sent_spec("S2V-01", "x", subject_image="file:///etc/passwd"), "subject_reference image"),
    (sent_spec("T2V-01", "x", fast_pretreatment=True), "fast_pretreatment"),
    (sent_spec("T2V-01", "x", 10), "720P at 10 s"),
    (sent_spec("S2V-01", "x", 6, subject_image=URL), "no duration field"),
    (
        sent_spec(
            "MiniMax-Hailuo-02", "x", 6, first_frame_image=URL, last_frame_image=URL, fast_pretreatment=True
        ),
        "fast_pretreatment is not a field of first + last frame",
    ),
]


@pytest.mark.parametrize(("request_", "words"), INVALID, ids=[w for _, w in INVALID])
async def test_invalid_requests_get_2013_naming_the_problem(
    fake_minimax_any: FakeMiniMax, make_client: MakeClient, request_: VideoSpec, words: str
) -> None:
    with pytest.raises(errors.InvalidParameters) as caught:
        await make_client(fake_minimax_any).submit(request_)
    assert caught.value.code == 2013
    assert words in str(caught.value)
    assert words in caught.value.user_message
    assert fake_minimax_any.tasks == {}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([1, 2], "JSON object"),
        ({"prompt": "x"}, "model is required"),
        ({"model": "MiniMax-Hailuo-2.3", "prompt": "x", "duration": True}, "duration"),
        ({"model": "MiniMax-Hailuo-2.3", "prompt": "x", "resolution": "4K"}, "resolution"),
        ({"model": "MiniMax-Hailuo-2.3", "prompt": "x", "prompt_optimizer": "yes"}, "prompt_optimizer"),
        (
            {"model": "S2V-01", "prompt": "x", "subject_reference": [{"type": "face", "image": [URL]}]},
            "subject",
        ),
        (
            {
                "model": "S2V-01",
                "prompt": "x",
                "subject_reference": [{"type": "character", "image": [URL, URL]}],
            },
            "one",
        ),
    ],
)
def test_raw_body_validation(body: Any, words: str) -> None:
    problem = validate_submission(body)
    assert problem is not None and words in problem


async def test_progress_rises_through_the_states(make_client: MakeClient) -> None:
    async with FakeMiniMax(flavour="reseller") as fake:
        client = make_client(fake)
        fake.next_task(preparing=2, queueing=3, processing=10)
        task_id = await client.submit(sent_spec("MiniMax-Hailuo-2.3", "x"))
        seen = []
        for _ in range(9):
            info = await client.query(task_id)
            seen.append((info.raw_status, info.progress))
            fake.clock.advance(2)
    statuses = [status for status, _ in seen]
    assert statuses[0] == "SUBMITTED"
    assert "QUEUED" in statuses and "IN_PROGRESS" in statuses
    assert statuses[-1] == "SUCCESS"
    progress = [p if p is not None else -1 for _, p in seen]
    assert progress == sorted(progress) and progress[-1] == 100
    assert len({p for s, p in seen if s == "IN_PROGRESS"}) > 1


async def test_input_moderation_fails_early(fake_minimax: FakeMiniMax, make_client: MakeClient) -> None:
    client = make_client(fake_minimax)
    fake_minimax.fail_next_task(1026)
    task_id = await client.submit(sent_spec("MiniMax-Hailuo-2.3", "x"))
    fake_minimax.clock.advance(fake_minimax.plan.preparing)
    info = await client.query(task_id)
    assert (info.status, info.error_code) == (TaskStatus.FAILED, 1026)


async def test_sensitive_rate(fake_minimax: FakeMiniMax, make_client: MakeClient) -> None:
    client = make_client(fake_minimax)
    fake_minimax.sensitive_rate = 1.0
    ids = [await client.submit(sent_spec("MiniMax-Hailuo-2.3", "x")) for _ in range(3)]
    fake_minimax.finish_all()
    codes = {(await client.query(task_id)).error_code for task_id in ids}
    assert codes == {1027}


async def test_retrieve_before_success_or_unknown_file(
    fake_minimax: FakeMiniMax, make_client: MakeClient
) -> None:
    client = make_client(fake_minimax)
    task_id = await client.submit(sent_spec("MiniMax-Hailuo-2.3", "x"))
    with pytest.raises(errors.InvalidParameters):
        await client.retrieve(str(fake_minimax.tasks[task_id].file_id))
    with pytest.raises(errors.InvalidParameters):
        await client.retrieve("42")


async def test_clock_following_real_time(make_client: MakeClient) -> None:
    async with FakeMiniMax(speed=10_000.0) as fake:
        client = make_client(fake)
        task_id = await client.submit(sent_spec("MiniMax-Hailuo-2.3", "x"))
        deadline = time.monotonic() + 10
        while (info := await client.query(task_id)).status is not TaskStatus.SUCCEEDED:
            assert time.monotonic() < deadline, f"still {info.raw_status}"
            await asyncio.sleep(0.005)
    assert info.file_id is not None


async def test_random_faults_are_survivable_with_retries(make_client: MakeClient) -> None:
    async with FakeMiniMax(flavour="reseller") as fake:
        client = make_client(fake, timeout=0.5, max_retries=12)
        task_id = await client.submit(sent_spec("MiniMax-Hailuo-2.3", "x"))
        fake.finish_all()
        fake.random_faults(rate=0.3, seed=7, endpoints=("query", "retrieve"), slow_delay=0.01)
        for _ in range(30):
            info = await client.query(task_id)
            assert info.status is TaskStatus.SUCCEEDED
            assert info.file_id is not None
            await client.retrieve(info.file_id)
        assert fake.counts["query"] + fake.counts["retrieve"] > 60  # some answers really were faults


async def test_wait_for_count(fake_minimax: FakeMiniMax, make_client: MakeClient) -> None:
    client = make_client(fake_minimax)
    job = asyncio.create_task(client.submit(sent_spec("MiniMax-Hailuo-2.3", "x")))
    await fake_minimax.wait_for_count("submit", 1)
    assert fake_minimax.counts["submit"] == 1
    await job


@pytest.mark.parametrize("kind", [0, 99, 700, "explode", True])
def test_unknown_fault_kinds_are_refused(kind: Any) -> None:
    with pytest.raises(ValueError):
        FakeMiniMax().inject("query", kind)


def test_video_bytes_are_deterministic_and_sized() -> None:
    data = video_bytes(176844028768320, 100_000)
    assert len(data) == 100_000
    assert data[4:8] == b"ftyp"
    assert data == video_bytes("176844028768320", 100_000)
    assert data != video_bytes(176844028768321, 100_000)
    assert video_bytes(1, 10) == data[:10]


@pytest.mark.parametrize("size", [64 * 1024, 3 * 1024 * 1024 + 17])
async def test_v1_downloads_are_real_mp4s_of_the_asked_duration_and_size(
    fake_minimax: FakeMiniMax, make_client: MakeClient, tmp_path: Path, size: int
) -> None:
    """#12: the V1 video was a byte pattern behind an ftyp box; now it decodes, at any download size."""
    client = make_client(fake_minimax)
    fake_minimax.download_size = size
    task_id = await client.submit(sent_spec("MiniMax-Hailuo-2.3", "x", duration=10))
    fake_minimax.finish_all()
    file = await client.retrieve(str(fake_minimax.tasks[task_id].file_id))
    path = tmp_path / "v1.mp4"
    assert await client.download(file.download_url, path, max_bytes=size) == size
    assert path.read_bytes() == fake_minimax.file_bytes(fake_minimax.tasks[task_id].file_id)
    frames, sound = count_frames(path)
    assert (frames, sound) == (240, None)  # 10 s at 24 fps, silent like Hailuo's V1 models


@pytest.mark.parametrize("kind", ["corrupt", "not_mp4"])
async def test_the_v1_video_fault_serves_a_file_no_player_can_read(
    fake_minimax: FakeMiniMax, make_client: MakeClient, tmp_path: Path, kind: str
) -> None:
    client = make_client(fake_minimax)
    fake_minimax.v1_video = kind  # type: ignore[assignment]
    task_id = await client.submit(sent_spec("MiniMax-Hailuo-2.3", "x"))
    fake_minimax.finish_all()
    data = fake_minimax.file_bytes(fake_minimax.tasks[task_id].file_id)
    assert len(data) == fake_minimax.download_size
    assert (data[4:8] == b"ftyp") is (kind == "corrupt")  # the corrupt one passes a header sniff
    path = tmp_path / "bad.mp4"
    path.write_bytes(data)
    with pytest.raises(NotReadable):
        probe(path)
