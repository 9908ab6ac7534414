"""MiniMax-H3 end to end through the real bot process and discord.py: a 15 s 2K video with sound.

The bot runs unmodified (``python -m bot``) against the fake Discord and the fake MiniMax, which
answers the V2 API from its own rules and serves a real MP4 with an AAC track.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import BotHarness
from tests.e2e.video_flow import card_of, generate, video_env, video_of, wait_answer, wait_delivered
from tests.fakes.fake_minimax import EXPANSION_SUFFIX, FakeMiniMax
from tests.fakes.mp4 import probe

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("flavour", ["official", "reseller"])
async def test_h3_text_to_video_15_s_2k_arrives_with_sound(tmp_path: Path, flavour: str) -> None:
    async with (
        FakeMiniMax(flavour=flavour, speed=400.0) as minimax,
        BotHarness(
            tmp_path,
            minimax=minimax,
            env=video_env(DEFAULT_QUOTA_CREDITS="20"),
            expect_commands=("video", "videoadmin"),
        ) as h,
    ):
        outcome = await generate(
            h, h.member, prompt="a lighthouse in a storm, thunder", model="MiniMax-H3", duration=15,
            resolution="2K",
        )  # fmt: skip
        assert outcome.accepted, outcome.text
        assert "7 credits" in outcome.text
        assert outcome.task_id is not None
        result = await wait_delivered(h, outcome.task_id)
        video = video_of(result)
        seconds, streams = probe(video.data)
        assert streams == ["video", "audio"] and 15.0 < seconds < 15.5
        [body] = minimax.submissions
        assert (body["model"], body["duration"], body["resolution"], body["ratio"]) == (
            "MiniMax-H3", 15, "2K", "16:9",
        )  # fmt: skip
        assert minimax.counts["retrieve"] == 0
        card = card_of(h, outcome.task_id)
        assert card is not None and "(asked 15 s) · with sound" in card.text
        assert await h.stop() == 0
        h.assert_clean()


async def test_a_lost_h3_submit_answer_is_reconciled_from_the_list_without_a_moderator(
    tmp_path: Path,
) -> None:
    async with (
        FakeMiniMax(flavour="official", speed=400.0) as minimax,
        BotHarness(
            tmp_path,
            minimax=minimax,
            env=video_env(DEFAULT_QUOTA_CREDITS="20"),
            expect_commands=("video", "videoadmin"),
        ) as h,
    ):
        minimax.inject("submit", "drop")  # the task is made, the answer never comes back
        outcome = await generate(h, h.member, prompt="a red kite over hills", model="MiniMax-H3", duration=4)
        assert outcome.accepted, outcome.text
        assert outcome.task_id is not None
        result = await wait_delivered(h, outcome.task_id)
        video = video_of(result)
        assert probe(video.data)[1] == ["video", "audio"]
        assert minimax.counts["submit"] == 1 and minimax.counts["list"] >= 1
        assert await h.stop() == 0


async def test_upscale_to_2k_from_the_result_button(tmp_path: Path) -> None:
    async with (
        FakeMiniMax(flavour="official", speed=400.0) as minimax,
        BotHarness(
            tmp_path,
            minimax=minimax,
            env=video_env(DEFAULT_QUOTA_CREDITS="20"),
            expect_commands=("video", "videoadmin"),
        ) as h,
    ):
        first = await generate(h, h.member, prompt="a paper plane at dawn", model="MiniMax-H3", duration=4)
        assert first.accepted and first.task_id is not None
        result = await wait_delivered(h, first.task_id)
        click = await h.click(result, f"video:upscale:{first.task_id}", h.moderator)
        answer = await wait_answer(click)
        assert answer.accepted and answer.task_id is not None, answer.text
        assert "1.9 credits" in answer.text
        upscaled = await wait_delivered(h, answer.task_id)
        video = video_of(upscaled)
        assert probe(video.data)[1] == ["video", "audio"]
        [_, body] = minimax.submissions
        assert [item.get("role") for item in body["content"]] == [None, "base_video"]
        assert await h.stop() == 0


async def test_cancel_after_submit_while_queued_at_the_api(tmp_path: Path) -> None:
    async with (
        FakeMiniMax(flavour="official", speed=400.0) as minimax,
        BotHarness(
            tmp_path,
            minimax=minimax,
            env=video_env(DEFAULT_QUOTA_CREDITS="20"),
            expect_commands=("video", "videoadmin"),
        ) as h,
    ):
        minimax.next_task(queueing=10_000_000.0)  # queued at the API for the whole test
        sent = await generate(h, h.member, prompt="a slow tide", model="MiniMax-H3", duration=4)
        assert sent.accepted and sent.task_id is not None
        await minimax.wait_for_count("query", 1, within=15)  # recorded as submitted, then polled
        cancel = await wait_answer(
            await h.invoke("video cancel", member=h.member, options={"task": sent.task_id})
        )
        assert "was cancelled" in cancel.text and "credits given back" in cancel.text, cancel.text
        [task] = [t for t in minimax.tasks.values()]
        assert minimax.task_status(task.task_id) == "Cancelled"
        assert any(r.method == "DELETE" for r in minimax.requests)
        assert await h.stop() == 0


async def test_preview_then_use_it_makes_the_video_from_the_expanded_prompt(tmp_path: Path) -> None:
    async with (
        FakeMiniMax(flavour="official", speed=400.0) as minimax,
        BotHarness(
            tmp_path,
            minimax=minimax,
            env=video_env(DEFAULT_QUOTA_CREDITS="20"),
            expect_commands=("video", "videoadmin"),
        ) as h,
    ):
        call = await h.invoke(
            "video generate",
            member=h.member,
            options={"prompt": "a fox", "model": "MiniMax-H3", "duration": 4, "preview": True},
        )
        shown = await wait_answer(call)
        assert "Expanded prompt" in shown.text and EXPANSION_SUFFIX in shown.text, shown.text
        assert minimax.submissions == [], "nothing made, nothing reserved"
        [preview] = [m for m in call.messages if m.custom_ids]
        use = next(c["custom_id"] for c in preview.iter_components() if c.get("label") == "Use it")
        made = await wait_answer(await h.click(preview, use, h.member))
        assert made.accepted and made.task_id is not None, made.text
        await wait_delivered(h, made.task_id)
        [body] = minimax.submissions
        assert (
            body["content"][0]["text"].startswith("a fox") and EXPANSION_SUFFIX in body["content"][0]["text"]
        )
        assert await h.stop() == 0
