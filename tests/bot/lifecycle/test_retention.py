"""RETENTION_DAYS through the running service: erased at start (and daily), kept without it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from storage import TaskState
from tests.builders import make_new_task
from tests.fakes.lifecycle_harness import lifecycle_harness

DAY = 86_400.0


async def test_the_service_erases_old_prompts_when_retention_is_set(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        long_ago = time.time() - 40 * DAY
        task = await harness.storage.quota.reserve(make_new_task(prompt="forget me"), now=long_ago)
        await harness.storage.tasks.transition(task.id, TaskState.CANCELLED, now=long_ago)

        service = await harness.start()  # RETENTION_DAYS unset: kept
        assert service.retention is None
        await harness.stop()
        assert (await harness.storage.tasks.get(task.id)).spec.prompt == "forget me"

        service = await harness.start(retention_days=30)
        assert service.retention is not None
        deadline = time.monotonic() + 10
        while (await harness.storage.tasks.get(task.id)).spec.prompt != "":
            assert time.monotonic() < deadline, "the prompt was not erased at start"
            await asyncio.sleep(0.01)
        await harness.stop()
