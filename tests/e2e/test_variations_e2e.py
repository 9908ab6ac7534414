"""``/video generate variations:3`` end to end: the real discord.py client, the fake Discord's CDN,
the fake MiniMax serving real MP4s (PyAV-made, decoded back to count their frames).

One take fails at the API: the member gets one card for the group, one reply carrying the two
delivered takes as ``take-1.mp4`` and ``take-3.mp4`` (each a whole video), a row of Remix/Extend
buttons per take, the failed take listed as refunded; exactly the two delivered takes are charged.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.e2e.harness import BotHarness
from tests.e2e.test_extend_e2e import _text_inputs
from tests.e2e.video_flow import (
    bot_messages,
    generate,
    is_card,
    read_db,
    video_env,
    video_of,
    wait_answer,
    wait_delivered,
)
from tests.fakes.fake_discord import FakeMessage
from tests.fakes.fake_minimax import FakeMiniMax
from tests.fakes.mp4 import count_frames, write_clip

pytestmark = pytest.mark.e2e

FRAMES = 48


def _group_reply(h: BotHarness) -> FakeMessage | None:
    return next((m for m in bot_messages(h) if "takes are ready!" in m.content and not m.deleted), None)


def _group_posted(path: Path, group_id: int) -> bool:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT group_posted_at FROM tasks WHERE id = ?", (group_id,)).fetchone()
    finally:
        conn.close()
    return row is not None and row[0] is not None


async def test_three_takes_one_failing_arrive_in_one_reply(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", FRAMES, width=640, height=360).read_bytes()
    async with (
        FakeMiniMax(speed=400.0) as minimax,
        BotHarness(
            tmp_path,
            minimax=minimax,
            # One submit at a time: the takes reach the fake in take order (take 2 is the one failing).
            env=video_env(DEFAULT_QUOTA_CREDITS="50", SUBMIT_CONCURRENCY="1"),
            expect_commands=("video", "videoadmin"),
        ) as h,
    ):
        minimax.v2_content = clip
        minimax.next_task()
        minimax.fail_next_task()
        minimax.next_task()
        outcome = await generate(
            h,
            h.member,
            prompt="a kite over the dunes",
            model="MiniMax-H3",
            duration=6,
            resolution="768P",
            variations=3,
        )
        assert outcome.accepted and outcome.task_id is not None, outcome.text
        assert "as 3 takes" in outcome.text
        group_id = outcome.task_id
        reply = await h.wait_until(lambda: _group_reply(h), 60, "the group's reply")
        assert reply is not None
        await h.wait_until(lambda: _group_posted(h.database_path, group_id), 30, "the reply recorded")

        assert [a.filename for a in reply.attachments] == ["take-1.mp4", "take-3.mp4"]
        for n, attachment in enumerate(reply.attachments):
            path = tmp_path / f"posted-{n}.mp4"
            path.write_bytes(attachment.data)
            frames, _sound = count_frames(path)
            assert frames == FRAMES, "each take is the whole video"
        assert "**Take 1/3**" in reply.content and "**Take 3/3**" in reply.content
        assert "**Take 2/3** failed" in reply.content and "refunded" in reply.content
        assert f"video:remix:{group_id}" in reply.custom_ids
        assert f"video:extend:{group_id + 2}" in reply.custom_ids
        assert f"video:remix:{group_id + 1}" not in reply.custom_ids, "no buttons for the failed take"
        cards = [m for m in bot_messages(h) if is_card(m) and not m.deleted]
        assert len(cards) == 1, "one card for the group"
        assert "3 takes" in (cards[0].embeds[0].get("title") or "")
        results = [m for m in bot_messages(h) if "ready!" in m.content]
        assert results == [reply], "one reply, no result of its own per take"

        # Extend works on one take: its own attachment (take-3.mp4) is what continues.
        opened = await h.click(reply, f"video:extend:{group_id + 2}", h.member)
        await opened.wait_response()
        assert opened.response_type == 9 and opened.modal is not None, "a modal is the first answer"
        [field] = _text_inputs(opened.modal)
        submitted = await h.submit_modal(opened, {field["custom_id"]: "the kite climbs"}, h.member)
        extend = await wait_answer(submitted, timeout=30)
        assert extend.accepted and extend.task_id is not None, extend.text
        extended = await wait_delivered(h, extend.task_id, timeout=60)
        whole = video_of(extended)
        path = tmp_path / "extended.mp4"
        path.write_bytes(whole.data)
        assert count_frames(path)[0] == FRAMES - 1 + FRAMES, "take 3 and the new clip, joined"

        assert await h.stop() == 0
        tasks, ledger, integrity = read_db(h.database_path)
        assert integrity == "ok"
        assert [tasks[group_id + i].state for i in range(3)] == ["delivered", "failed", "delivered"]
        assert set(ledger.charged) == {group_id, group_id + 2, extend.task_id}
        assert set(ledger.refunded) == {group_id + 1}
        assert {tasks[group_id + i].result_message_id for i in (0, 2)} == {reply.id}
        h.assert_clean()
