"""Private results end to end: a member whose DMs refuse the bot, and what the channel is shown.

Discord answers a DM to a member who closed their DMs to the bot (or shares no server with it) with
403 / 50007 "Cannot send messages to this user"; the fake does the same for ``fake.dm_closed``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.harness import BotHarness
from tests.e2e.video_flow import (
    generate,
    read_db,
    results_by_task,
    video_env,
    wait_answer,
    wait_states,
)
from tests.fakes.fake_minimax import FakeMiniMax

pytestmark = pytest.mark.e2e

SPEED = 400.0
PROMPT = "a secret birthday surprise for Alex"


@pytest.fixture
async def minimax() -> AsyncIterator[FakeMiniMax]:
    async with FakeMiniMax(flavour="official", speed=SPEED) as fake:
        yield fake


def harness(tmp_path: Path, minimax: FakeMiniMax) -> BotHarness:
    return BotHarness(tmp_path, minimax=minimax, env=video_env(), expect_commands=("video", "videoadmin"))


async def make_private(h: BotHarness) -> None:
    answer = await wait_answer(
        await h.invoke("videoadmin policy", member=h.admin, options={"results": "private"})
    )
    assert "private" in answer.text.lower(), answer.text


async def test_closed_dms_after_the_follow_up_window_charge_the_video_and_keep_it(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    async with harness(tmp_path, minimax) as h:
        await make_private(h)
        h.fake.dm_closed.add(h.member.id)
        minimax.next_task(processing=10_000_000)  # held until finish_all()
        outcome = await generate(h, h.member, prompt=PROMPT)
        task_id = outcome.task_id
        assert task_id is not None, outcome.text
        await wait_states(h, {task_id: "processing"}, timeout=20)
        # The follow-up lives in memory for its 15 minutes only: after a restart it is gone, as after
        # the window. Then only the member's side can refuse the video.
        await h.restart(kill=True)
        minimax.finish_all()

        notice = await h.wait_for_message(
            lambda m: f"/video status {task_id}" in m.content and not m.ephemeral,
            timeout=20,
            channel=h.channel,
        )
        assert "private video" in notice.content and PROMPT not in notice.text
        await wait_states(h, {task_id: "delivered"}, timeout=10)
        assert results_by_task(h)[task_id] == 0, "never posted in the channel"

        status = await wait_answer(await h.invoke("video status", member=h.member, options={"task": task_id}))
        assert status.call.ephemeral and "download link" in status.text, status.text
        (url,) = re.findall(r"https?://\S+/download/\S+", status.text)
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 200
            body = await response.read()
        assert body == minimax.file_bytes(next(iter(minimax.tasks.values())).file_id)

        assert await h.stop() == 0
        tasks, ledger, integrity = read_db(h.database_path)
        assert integrity == "ok" and tasks[task_id].state == "delivered"
        assert ledger.charged == {task_id: tasks[task_id].cost_tenths} and ledger.refunded == {}
        h.assert_clean()
