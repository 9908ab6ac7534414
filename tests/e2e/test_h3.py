"""MiniMax-H3 end to end through the real bot process and discord.py: a 15 s 2K video with sound.

The bot runs unmodified (``python -m bot``) against the fake Discord and the fake MiniMax, which
answers the V2 API from its own rules and serves a real MP4 with an AAC track.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import BotHarness
from tests.e2e.video_flow import card_of, generate, video_env, wait_delivered
from tests.fakes.fake_minimax import FakeMiniMax
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
        [video] = result.attachments
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
        [video] = result.attachments
        assert probe(video.data)[1] == ["video", "audio"]
        assert minimax.counts["submit"] == 1 and minimax.counts["list"] >= 1
        assert await h.stop() == 0
