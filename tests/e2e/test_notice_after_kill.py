"""A failure notice survives a SIGKILL between "failed" being saved and the notice reaching Discord.

The soak found it by chance (a kill at a random moment that fell inside another task's ``ctx.fail``):
the task was ``failed`` and refunded, its card said so, but the member was never told. Here the
window is held open on purpose: Discord answers the notice with 500s, which discord.py retries
with growing sleeps, and the bot is killed while it waits.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import BotHarness
from tests.e2e.video_flow import failures_by_task, generate, video_env, wait_states
from tests.fakes.fake_minimax import FakeMiniMax

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

CHANNEL_POSTS = r"/channels/\d+/messages$"


@pytest.mark.parametrize("state", ["failed", "unknown"])
async def test_a_kill_before_the_failure_notice_is_posted_does_not_lose_it(
    tmp_path: Path, state: str
) -> None:
    async with FakeMiniMax(flavour="official", speed=150.0) as minimax:
        if state == "failed":
            minimax.sensitive_rate = 1.0  # the generation fails on content moderation
        else:
            minimax.inject("submit", "malformed")  # a submit answer that cannot be read
        async with BotHarness(tmp_path, minimax=minimax, env=video_env()) as h:
            outcome = await generate(h, h.member, prompt="a paper boat")
            task_id = outcome.task_id
            assert task_id is not None
            # The card is already posted: the next POST to the channel is the notice.
            h.fake.inject_fault("POST", CHANNEL_POSTS, 500, times=1000)
            await wait_states(h, {task_id: state}, timeout=20)
            await h.kill()
            assert failures_by_task(h)[task_id] == 0  # the notice never got through
            h.fake._faults.clear()
            await h.start()
            await h.wait_until(
                lambda: failures_by_task(h)[task_id] >= 1, 15, f"the failure notice of task #{task_id}"
            )
            await h.restart()  # once told, a later start does not tell again
            assert await h.stop() == 0
            assert failures_by_task(h)[task_id] == 1
