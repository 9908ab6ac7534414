"""Where videos are downloaded (a private folder next to the database), what a crash left there (gone
at start-up), and how many deliveries run at once (``DELIVERY_CONCURRENCY``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from storage import TaskState
from tests.builders import make_settings
from tests.fakes.lifecycle_harness import Harness

BASE = {"DISCORD_TOKEN": "token", "MINIMAX_API_KEY": "key"}


# ---------------------------------------------------------------------------------- concurrency


def test_delivery_concurrency_is_a_setting() -> None:
    assert load_settings(BASE, env_file=None).delivery_concurrency == 4
    assert load_settings({**BASE, "DELIVERY_CONCURRENCY": "2"}, env_file=None).delivery_concurrency == 2
    for bad in ("0", "two", "-1"):
        with pytest.raises(ConfigError, match="DELIVERY_CONCURRENCY"):
            load_settings({**BASE, "DELIVERY_CONCURRENCY": bad}, env_file=None)
    assert make_settings().delivery_concurrency == 4


async def test_at_most_delivery_concurrency_downloads_run_at_once(harness: Harness) -> None:
    real = harness.client.download
    release = asyncio.Event()
    in_flight = most = 0

    async def held(url: str, dest: Path, *, max_bytes: int) -> int:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            await release.wait()
            return await real(url, dest, max_bytes=max_bytes)
        finally:
            in_flight -= 1

    harness.client.download = held  # type: ignore[method-assign]
    service = await harness.start(delivery_concurrency=2, default_quota_tenths=100)
    tasks = [await service.request(harness.request(prompt=f"a fox, take {n}")) for n in range(4)]

    # Every delivery accounted for: two downloading, two waiting for a slot.
    deadline = asyncio.get_running_loop().time() + 10
    while not (in_flight == 2 and service.delivery.waiting() == 2):
        assert asyncio.get_running_loop().time() < deadline, (in_flight, service.delivery.waiting())
        await asyncio.sleep(0.005)
    release.set()
    for task in tasks:
        assert (await harness.wait_final(task.id)).state is TaskState.DELIVERED
    assert most == 2
    assert service.delivery.waiting() == 0
