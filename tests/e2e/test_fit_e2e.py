"""A result that fits, end to end: the real bot re-encodes a video over the upload limit and uploads it.

The fake Discord takes 200 kB per file (and says so as the interaction's attachment_size_limit); the
fake MiniMax serves a real 4 s MP4 of about 550 kB made here. What was uploaded is decoded back.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import BotHarness
from tests.e2e.video_flow import generate, video_env, video_of, wait_delivered
from tests.fakes.fake_minimax import FakeMiniMax
from tests.fakes.mp4 import count_frames, write_clip

pytestmark = pytest.mark.e2e

LIMIT = 200_000


async def test_a_video_over_the_upload_limit_is_re_encoded_and_uploaded(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", 96, width=640, height=360, grain=True, crf=12)
    assert clip.stat().st_size > LIMIT
    async with (
        FakeMiniMax(speed=400.0) as minimax,
        BotHarness(
            tmp_path,
            minimax=minimax,
            env=video_env(DEFAULT_QUOTA_CREDITS="20"),
            expect_commands=("video", "videoadmin"),
        ) as h,
    ):
        minimax.v2_content = clip.read_bytes()
        h.fake.upload_limit = LIMIT
        outcome = await generate(
            h, h.member, prompt="a lighthouse in a storm", model="MiniMax-H3", duration=6, resolution="768P"
        )
        assert outcome.accepted, outcome.text
        assert outcome.task_id is not None
        result = await wait_delivered(h, outcome.task_id, timeout=60)
        video = video_of(result)
        assert len(video.data) <= LIMIT
        posted = tmp_path / "posted.mp4"
        posted.write_bytes(video.data)
        frames, sound = count_frames(posted)
        assert frames == 96 and sound is not None and abs(sound - 4.0) < 0.05
        assert "Re-encoded to fit; full quality: Details." in result.content
        assert not any("upload" in v for v in h.fake.violations)
        assert await h.stop() == 0
        h.assert_clean()
