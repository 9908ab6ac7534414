"""#12 end to end: the real bot (discord.py against the fake Discord) posts each result with its
poster frame, ``poster.jpg``, as the embed's image, also beside a link; and a download that starts
like an MP4 but is corrupt fails with a refund and uploads nothing.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import av
import pytest

from bot.minimax.errors import UnreadableVideo
from tests.e2e.harness import BotHarness
from tests.e2e.video_flow import (
    POSTER,
    bot_messages,
    download_link,
    embed_image,
    failure_task,
    failures_by_task,
    generate,
    poster_of,
    read_db,
    results_by_task,
    video_env,
    video_of,
    wait_db,
    wait_delivered,
)
from tests.fakes.fake_minimax import FakeMiniMax

pytestmark = pytest.mark.e2e


@pytest.fixture
async def minimax() -> AsyncIterator[FakeMiniMax]:
    async with FakeMiniMax(flavour="official", speed=400.0) as fake:
        yield fake


def harness(tmp_path: Path, minimax: FakeMiniMax) -> BotHarness:
    return BotHarness(tmp_path, minimax=minimax, env=video_env(), expect_commands=("video", "videoadmin"))


def _decodes_as_an_image(data: bytes) -> tuple[int, int]:
    assert data[:2] == b"\xff\xd8"
    with av.open(io.BytesIO(data)) as container:
        frame = next(container.decode(video=0))
        return frame.width, frame.height


async def test_a_result_carries_its_poster_frame_as_the_embed_image(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    async with harness(tmp_path, minimax) as h:
        outcome = await generate(h, h.member, prompt="a paper boat on a puddle")
        assert outcome.accepted and outcome.task_id is not None, outcome.text
        result = await wait_delivered(h, outcome.task_id)

        video = video_of(result)
        assert video.data == minimax.file_bytes(next(iter(minimax.tasks.values())).file_id)
        poster = poster_of(result)
        assert poster is not None and poster.filename == POSTER
        assert _decodes_as_an_image(poster.data)
        assert embed_image(result) == f"attachment://{POSTER}"
        assert not any("upload" in v or "embed" in v for v in h.fake.violations)

        assert await h.stop() == 0
        tasks, ledger, _ = read_db(h.database_path)
        assert tasks[outcome.task_id].state == "delivered"
        assert ledger.charged == {outcome.task_id: tasks[outcome.task_id].cost_tenths}
        assert results_by_task(h) == {outcome.task_id: 1} and failures_by_task(h) == {}
        h.assert_clean()


async def test_a_link_only_result_still_shows_its_poster(tmp_path: Path, minimax: FakeMiniMax) -> None:
    """50 kB uploads: no re-encode of the 6 s video fits, so the link goes, with the poster."""
    async with harness(tmp_path, minimax) as h:
        h.fake.upload_limit = 50_000
        outcome = await generate(h, h.member, prompt="a kite over the dunes")
        assert outcome.accepted and outcome.task_id is not None, outcome.text
        result = await wait_delivered(h, outcome.task_id, timeout=40)

        assert download_link(result) is not None
        poster = poster_of(result)
        assert poster is not None and [a.filename for a in result.attachments] == [POSTER]
        assert _decodes_as_an_image(poster.data)
        assert embed_image(result) == f"attachment://{POSTER}"
        assert not any("upload" in v for v in h.fake.violations)
        assert await h.stop() == 0
        h.assert_clean()


async def test_a_corrupt_mp4_fails_with_a_refund_and_nothing_uploaded(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    minimax.v1_video = "corrupt"  # an ftyp box (it passes the sniff), then no movie
    async with harness(tmp_path, minimax) as h:
        outcome = await generate(h, h.member, prompt="a lantern in the fog")
        assert outcome.accepted and outcome.task_id is not None, outcome.text
        task_id = outcome.task_id
        await wait_db(h, lambda states: states.get(task_id) == "failed", "the task failed")

        def notices() -> list[str]:
            return [str(m.embeds) for m in bot_messages(h) if not m.deleted and failure_task(m) == task_id]

        await h.wait_until(notices, 15, "the failure notice")
        [notice] = notices()
        assert UnreadableVideo.user_message in notice
        assert results_by_task(h) == {}
        assert all(not m.attachments for m in bot_messages(h)), "nothing was uploaded"
        assert minimax.counts["download"] == 1

        assert await h.stop() == 0
        tasks, ledger, _ = read_db(h.database_path)
        assert tasks[task_id].state == "failed"
        assert ledger.charged == {} and ledger.refunded == {task_id: tasks[task_id].cost_tenths}
        h.assert_clean()
