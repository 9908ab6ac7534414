"""``METRICS_PORT`` on the real bot process: ready once the gateway is up, and a video shows in the counts."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.harness import BotHarness
from tests.e2e.video_flow import generate, video_env, wait_delivered
from tests.fakes.fake_minimax import FakeMiniMax

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def ready_within(session: aiohttp.ClientSession, url: str, seconds: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        async with session.get(url) as resp:
            if resp.status == 200:
                return True
            assert resp.status == 503 and "gateway" in await resp.text()
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)


async def test_the_bot_process_serves_readiness_and_counts_a_video(tmp_path: Path) -> None:
    port = free_port()
    env = video_env(METRICS_PORT=str(port))
    async with (
        FakeMiniMax(flavour="official", speed=400.0) as minimax,
        BotHarness(tmp_path, minimax=minimax, env=env, expect_commands=("video", "videoadmin")) as h,
        aiohttp.ClientSession() as session,
    ):
        base = f"http://127.0.0.1:{port}"
        # Commands sync in setup_hook, before the gateway connects: ready comes a moment later.
        assert await ready_within(session, f"{base}/readyz", 15.0)
        outcome = await generate(h, h.member, prompt="a red fox running through snow")
        assert outcome.accepted and outcome.task_id is not None, outcome.text
        await wait_delivered(h, outcome.task_id)
        async with session.get(f"{base}/metrics") as resp:
            text = await resp.text()
        assert 'videobot_commands_total{command="video generate"} 1.0' in text
        assert 'endpoint="/v1/video_generation",result="ok"} 1.0' in text  # through __main__'s client
        assert "videobot_delivery_seconds_count 1.0" in text
        for some_id in (h.fake.guild.id, h.member.id, h.channel.id):
            assert str(some_id) not in text
        assert await h.stop() == 0
        h.assert_clean()
