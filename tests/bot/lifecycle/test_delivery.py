"""Delivery when the gateway named no file: a fresh download URL comes from a new query; and the
fresh link the Details button asks for once a posted link expired."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.lifecycle import RequestRefused
from bot.lifecycle.delivery import LINK_TTL_SECONDS
from storage import TaskState
from tests.builders import make_new_task, sent_spec
from tests.fakes.lifecycle_harness import lifecycle_harness


async def test_a_task_without_a_file_id_gets_its_url_from_a_new_query(tmp_path: Path) -> None:
    """As after a restart (or an expired URL) for a reseller that gave a URL but no file id."""
    async with lifecycle_harness(tmp_path, flavour="reseller") as harness:
        new = make_new_task(prompt="a tram in the rain")
        task = await harness.storage.quota.reserve(new)
        await harness.storage.tasks.transition(task.id, TaskState.SUBMITTING, attempts=1)
        api_id = await harness.client.submit(
            sent_spec(model="MiniMax-Hailuo-2.3", prompt=task.prompt, duration=6, resolution="768P")
        )
        await harness.storage.tasks.transition(task.id, TaskState.SUBMITTED, api_task_id=api_id)
        harness.fake.finish_all()
        downloading = await harness.storage.tasks.transition(task.id, TaskState.DOWNLOADING)
        assert downloading.file_id is None
        queries_before = harness.fake.counts["query"]

        await harness.start()
        done = await harness.wait_final(task.id)

        assert done.state is TaskState.DELIVERED
        (posted,) = harness.notifier.results_for(task.id)
        assert posted.data == harness.fake.file_bytes(harness.fake.tasks[api_id].file_id)
        assert harness.fake.counts["retrieve"] == 0
        assert harness.fake.counts["query"] == queries_before + 1
        assert await harness.ledger(task.id) == ["reserve", "charge"]


async def test_a_fresh_link_comes_from_a_new_query_when_there_is_no_file_id(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path, flavour="reseller") as harness:
        harness.notifier.default_upload_limit = 10_000  # delivered as a link
        service = await harness.start()
        done = await harness.wait_final((await service.request(harness.request())).id)
        assert done.state is TaskState.DELIVERED
        task = await harness.storage.tasks.update_fields(done.id, file_id=None)  # a gateway naming none
        queries = harness.fake.counts["query"]
        now = time.time()

        link = await service.fresh_link(task)

        assert "/download/" in link.url and link.expires_at >= now + LINK_TTL_SECONDS
        assert harness.fake.counts["query"] == queries + 1 and harness.fake.counts["retrieve"] == 0


async def test_no_fresh_link_for_a_task_that_was_not_delivered(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        service = harness.new_service()
        task = await service.request(harness.request())
        with pytest.raises(RequestRefused, match="not delivered"):
            await service.fresh_link(task)
        assert harness.fake.counts["retrieve"] == harness.fake.counts["query"] == 0
