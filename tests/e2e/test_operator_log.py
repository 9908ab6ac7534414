"""What an operator reads in the log of a start (#16 item 9): one ready line, no voice warnings."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.harness import BotHarness
from tests.e2e.video_flow import generate, video_env, wait_states
from tests.fakes.fake_minimax import FakeMiniMax

pytestmark = pytest.mark.e2e

READY = re.compile(r"Ready: logged in as (.+?), serving (\d+) servers?, (\d+) tasks? resumed")


@pytest.fixture
async def minimax() -> AsyncIterator[FakeMiniMax]:
    async with FakeMiniMax(flavour="official", speed=400.0) as fake:
        yield fake


async def ready_lines(h: BotHarness, count: int, timeout: float = 15.0) -> list[re.Match[str]]:  # noqa: ASYNC109
    """The log's ready lines, once there are ``count`` of them (polled with a deadline)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = [m for m in map(READY.search, h.log_text().splitlines()) if m]
        if len(found) >= count:
            return found
        h.check_alive()
        assert asyncio.get_running_loop().time() < deadline, f"no ready line; log tail:\n{h.log_tail()}"
        await asyncio.sleep(0.05)


async def test_a_start_logs_one_ready_line_with_what_it_resumed_and_no_voice_warning(
    tmp_path: Path, minimax: FakeMiniMax
) -> None:
    async with BotHarness(
        tmp_path, minimax=minimax, env=video_env(), expect_commands=("video", "videoadmin")
    ) as h:
        [first] = await ready_lines(h, 1)
        assert first.group(1).startswith(h.fake.bot_user.username)
        assert (first.group(2), first.group(3)) == ("1", "0"), first.group(0)
        assert "serving 1 server, 0 tasks resumed" in first.group(0)

        minimax.never_finish_next_task()
        task = await generate(h, h.member, prompt="a video still being made at the restart")
        assert task.task_id is not None
        await wait_states(h, {task.task_id: "processing"})
        await h.restart(kill=True)
        second = (await ready_lines(h, 2))[1]
        assert "serving 1 server, 1 task resumed" in second.group(0)

        log = h.log_text()
        assert "voice will NOT be supported" not in log
        assert "PyNaCl" not in log and "davey" not in log
        h.assert_clean()
