"""Extend and Loop end to end: the real bot fetches its posted video back from Discord's CDN, sends
its last frame as the new clip's first, joins the two and uploads the whole.

The fake MiniMax serves real MP4s made here (640×360, with and without sound); what was posted is
decoded back with PyAV: its frame count says the shared frames were dropped, its sound that the
audio was kept. A restart between the original and the clicks shows the buttons survive one.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import BotHarness
from tests.e2e.video_flow import card_of, generate, read_db, video_env, video_of, wait_answer, wait_delivered
from tests.fakes.fake_discord import FakeMessage
from tests.fakes.fake_minimax import FakeMiniMax
from tests.fakes.mp4 import count_frames, write_clip

pytestmark = pytest.mark.e2e


def _text_inputs(component: Any) -> list[dict[str, Any]]:
    if isinstance(component, dict):
        if component.get("type") == 4:
            return [component]
        return [found for value in component.values() for found in _text_inputs(value)]
    if isinstance(component, list):
        return [found for value in component for found in _text_inputs(value)]
    return []


def _posted(message: FakeMessage, path: Path) -> tuple[int, float | None]:
    video = video_of(message)
    path.write_bytes(video.data)
    return count_frames(path)


def _roles_sent(body: dict[str, Any]) -> list[str]:
    images = [item for item in body["content"] if item.get("type") == "image_url"]
    for item in images:
        data = base64.b64decode(item["image_url"]["url"].partition(",")[2])
        assert data[:8] == b"\x89PNG\r\n\x1a\n", "the frame goes inline, as a PNG"
    return [item["role"] for item in images]


async def _click_and_submit(
    h: BotHarness, message: FakeMessage, custom_id: str, member: Any, prompt: str
) -> int:
    opened = await h.click(message, custom_id, member)
    await opened.wait_response()
    assert opened.response_type == 9 and opened.modal is not None, "a modal is the first answer"
    [field] = _text_inputs(opened.modal)
    submitted = await h.submit_modal(opened, {field["custom_id"]: prompt}, member)
    outcome = await wait_answer(submitted, timeout=30)
    assert outcome.accepted and outcome.task_id is not None, outcome.text
    return outcome.task_id


async def test_extend_then_loop_the_whole_through_discord(tmp_path: Path) -> None:
    with_sound = write_clip(tmp_path / "a.mp4", 48, width=640, height=360).read_bytes()
    more_sound = write_clip(tmp_path / "b.mp4", 72, width=640, height=360).read_bytes()
    silent = write_clip(tmp_path / "c.mp4", 36, width=640, height=360, audio=False).read_bytes()
    async with (
        FakeMiniMax(speed=400.0) as minimax,
        BotHarness(
            tmp_path,
            minimax=minimax,
            env=video_env(DEFAULT_QUOTA_CREDITS="50"),
            expect_commands=("video", "videoadmin"),
        ) as h,
    ):
        minimax.v2_content = with_sound
        outcome = await generate(
            h, h.member, prompt="a kite over the dunes", model="MiniMax-H3", duration=6, resolution="768P"
        )
        assert outcome.accepted and outcome.task_id is not None, outcome.text
        original = await wait_delivered(h, outcome.task_id, timeout=60)
        assert f"video:extend:{outcome.task_id}" in original.custom_ids
        assert f"video:loop:{outcome.task_id}" in original.custom_ids
        await h.restart()  # the buttons are persistent: they work on results posted before

        # Another member extends it (a stream copy: the same encoding, both with sound).
        other = h.fake.add_member("rosa")
        minimax.v2_content = more_sound
        extend_id = await _click_and_submit(
            h, original, f"video:extend:{outcome.task_id}", other, "the kite climbs into the clouds"
        )
        extended = await wait_delivered(h, extend_id, timeout=60)
        assert _roles_sent(minimax.submissions[-1]) == ["first_frame"]
        frames, sound = _posted(extended, tmp_path / "extended.mp4")
        assert frames == 48 - 1 + 72
        assert sound == pytest.approx(119 / 24, abs=0.05)
        assert f"Video #{outcome.task_id} extended" in extended.text
        card = card_of(h, extend_id)
        assert card is not None and "Extends" in card.text

        # The owner loops the whole extended video with a silent clip (a re-encode; sound kept).
        minimax.v2_content = silent
        loop_id = await _click_and_submit(h, extended, f"video:loop:{extend_id}", h.member, "and back")
        looped = await wait_delivered(h, loop_id, timeout=90)
        assert _roles_sent(minimax.submissions[-1]) == ["first_frame", "last_frame"]
        frames, sound = _posted(looped, tmp_path / "looped.mp4")
        assert frames == 119 - 1 + 36 - 1
        assert sound == pytest.approx(153 / 24, abs=0.05)
        assert "seamless loop" in looped.text

        assert await h.stop() == 0
        tasks, ledger, _integrity = read_db(h.database_path)
        assert tasks[extend_id].user_id == other.id, "the clicker pays"
        assert sorted(ledger.charged) == sorted({outcome.task_id, extend_id, loop_id})
        h.assert_clean()


async def test_extend_of_a_deleted_result_is_refused_with_nothing_reserved(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "a.mp4", 48, width=640, height=360, audio=False).read_bytes()
    async with (
        FakeMiniMax(speed=400.0) as minimax,
        BotHarness(tmp_path, minimax=minimax, env=video_env(), expect_commands=("video", "videoadmin")) as h,
    ):
        minimax.v2_content = clip
        outcome = await generate(
            h, h.member, prompt="a kite over the dunes", model="MiniMax-H3", duration=6, resolution="768P"
        )
        assert outcome.task_id is not None, outcome.text
        original = await wait_delivered(h, outcome.task_id, timeout=60)
        opened = await h.click(original, f"video:extend:{outcome.task_id}", h.member)
        await opened.wait_response()
        [field] = _text_inputs(opened.modal)
        original.deleted = True  # the member deletes the result while the modal is open
        minimax.expire_urls()
        minimax.inject("query", 2013, times=20)  # and the API no longer names the file
        refused = await wait_answer(await h.submit_modal(opened, {field["custom_id"]: "more"}), timeout=30)
        assert not refused.accepted and "is gone" in refused.text, refused.text
        assert await h.stop() == 0
        tasks, _ledger, _integrity = read_db(h.database_path)
        assert list(tasks) == [outcome.task_id], "nothing reserved"
        h.assert_clean()
