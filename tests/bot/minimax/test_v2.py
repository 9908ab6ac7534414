"""The V2 family (MiniMax-H3): its body, its answers in every shape, and the client against the fake.

The same client and the same calls as V1 (``submit``, ``query``, ``download``): the spec's model
picks the family, and a V2 answer carries the video URL, so nothing calls ``retrieve``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.minimax import errors
from bot.minimax.types import TaskStatus
from bot.minimax.v2 import build_v2_body, parse_v2_query
from bot.spec import MediaKind, MediaRef, MediaRole, VideoSpec
from tests.bot.minimax.conftest import MakeClient
from tests.fakes.fake_minimax import FakeMiniMax, validate_v2_submission
from tests.fakes.mp4 import probe

H3 = VideoSpec("a lighthouse at dusk", model="MiniMax-H3", duration=15, resolution="2K", ratio="16:9")
URL = "https://cdn.example/out.mp4"
DONE = {"status": "succeeded", "content": {"url": URL}, "usage": {"output_seconds": 15.08}}


def test_the_body_has_one_text_item_then_each_medium_with_its_role() -> None:
    spec = VideoSpec(
        "a dancer",
        model="MiniMax-H3",
        duration=8,
        resolution="768P",
        media=(
            MediaRef("https://cdn.example/a.png", MediaRole.REFERENCE_IMAGE),
            MediaRef("https://cdn.example/b.mp3", MediaRole.REFERENCE_AUDIO, MediaKind.AUDIO),
        ),
    )
    assert build_v2_body(spec) == {
        "model": "MiniMax-H3",
        "content": [
            {"type": "text", "text": "a dancer"},
            {
                "type": "image_url",
                "image_url": {"url": "https://cdn.example/a.png"},
                "role": "reference_image",
            },
            {
                "type": "audio_url",
                "audio_url": {"url": "https://cdn.example/b.mp3"},
                "role": "reference_audio",
            },
        ],
        "resolution": "768P",
        "duration": 8,
    }
    assert validate_v2_submission(build_v2_body(spec)) is None


@pytest.mark.parametrize(
    "payload",
    [
        {"task": DONE, "base_resp": {"status_code": 0, "status_msg": "success"}},
        DONE,
        {"code": 0, "message": "success", "request_id": "r1", "data": {"task": DONE}},
    ],
    ids=["official", "top-level status", "reseller envelope"],
)  # fmt: skip
def test_a_success_in_every_shape_names_the_url(payload: dict[str, Any]) -> None:
    info = parse_v2_query(payload, task_id="7")
    assert (info.status, info.download_url, info.output_seconds, info.file_id) == (
        TaskStatus.SUCCEEDED, URL, 15.08, None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "expected"),
    [("queued", TaskStatus.QUEUED), ("running", TaskStatus.PROCESSING), ("RUNNING", TaskStatus.PROCESSING),
     ("brewing", TaskStatus.PROCESSING)],
)  # fmt: skip
def test_unfinished_statuses(status: str, expected: TaskStatus) -> None:
    assert parse_v2_query({"task": {"status": status}}, task_id="7").status is expected


def test_a_failed_or_cancelled_task_is_an_answer_not_an_error() -> None:
    failed = parse_v2_query(
        {"task": {"status": "failed", "error": {"code": 1026, "message": "sensitive input"}}}, task_id="7"
    )
    assert (failed.status, failed.error_code, failed.error_message) == (
        TaskStatus.FAILED, 1026, "sensitive input",
    )  # fmt: skip
    top = parse_v2_query({"status": "failed", "error": {"code": 1027, "message": "x"}}, task_id="7")
    assert (top.status, top.error_code) == (TaskStatus.FAILED, 1027)
    cancelled = parse_v2_query({"task": {"status": "cancelled"}}, task_id="7")
    assert cancelled.status is TaskStatus.FAILED and "cancelled" in (cancelled.error_message or "")


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"code": 1004, "message": "login fail", "request_id": "r", "data": None}, errors.AuthFailed),
        ({"base_resp": {"status_code": 2013, "status_msg": "invalid params, task not found"}},
         errors.InvalidParameters),
        ({"task": {"status": "succeeded", "content": {}}}, errors.MalformedResponse),
        ({"base_resp": {"status_code": 0, "status_msg": "success"}}, errors.MalformedResponse),
    ],
)  # fmt: skip
def test_a_failed_call_raises(payload: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_v2_query(payload, task_id="7")


async def test_the_client_speaks_v2_for_h3_in_both_flavours(
    fake_minimax_any: FakeMiniMax, make_client: MakeClient, tmp_path: Path
) -> None:
    fake = fake_minimax_any
    client = make_client(fake)
    task_id = await client.submit(H3)
    prefix = "/minimax" if fake.flavour == "reseller" else ""
    assert [r.path for r in fake.requests] == [f"{prefix}/v2/video_generation"]
    assert (await client.query(task_id, model="MiniMax-H3")).status is TaskStatus.QUEUED
    fake.finish_all()
    info = await client.query(task_id, model="MiniMax-H3")
    assert fake.requests[-1].path == f"{prefix}/v2/query/video_generation/{task_id}"
    assert info.status is TaskStatus.SUCCEEDED and info.download_url is not None
    assert info.output_seconds is not None and 15.0 <= info.output_seconds <= 15.5
    dest = tmp_path / "h3.mp4"
    size = await client.download(info.download_url, dest, max_bytes=10**7)
    seconds, streams = probe(dest.read_bytes())
    assert size == dest.stat().st_size and streams == ["video", "audio"] and 15.0 <= seconds <= 15.5
    assert fake.counts["retrieve"] == 0


async def test_the_fake_refuses_a_v2_body_the_docs_refuse(
    fake_minimax_any: FakeMiniMax, make_client: MakeClient
) -> None:
    client = make_client(fake_minimax_any)
    with pytest.raises(errors.InvalidParameters, match="concrete ratio"):
        await client.submit(VideoSpec("a fox", model="MiniMax-H3", duration=6, resolution="768P"))
    with pytest.raises(errors.InvalidParameters, match="resolution must be one of 768P, 2K"):
        await client.submit(
            VideoSpec("a fox", model="MiniMax-H3", duration=6, resolution="1080P", ratio="1:1")
        )


async def test_the_client_lists_and_cancels_v2_tasks_in_both_flavours(
    fake_minimax_any: FakeMiniMax, make_client: MakeClient
) -> None:
    fake = fake_minimax_any
    client = make_client(fake)
    older = await client.submit(H3)
    newer = await client.submit(H3)
    listed = await client.list_v2_tasks(page_num=1, page_size=1)
    prefix = "/minimax" if fake.flavour == "reseller" else ""
    assert fake.requests[-1].path == f"{prefix}/v2/query/video_generation"
    assert fake.requests[-1].query == {"page_num": "1", "page_size": "1"}
    assert [t.task_id for t in listed] == [newer]
    assert listed[0].prompt == H3.prompt and listed[0].model == "MiniMax-H3" and listed[0].created_at
    assert [t.task_id for t in await client.list_v2_tasks(page_num=2, page_size=1)] == [older]
    await client.cancel_v2(newer)  # still queued: cancelled, and it ends "cancelled"
    assert fake.requests[-1].method == "DELETE"
    assert fake.requests[-1].path == f"{prefix}/v2/video_generation/{newer}"
    info = await client.query(newer, model="MiniMax-H3")
    assert info.status is TaskStatus.FAILED and info.raw_status == "cancelled"
    fake.finish_all()
    with pytest.raises(errors.MiniMaxError):
        await client.cancel_v2("no-such-task")
