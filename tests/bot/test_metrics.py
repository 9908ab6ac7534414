"""The metrics (issue 14): each place that sees an event counts it, in the bot's own registry,
with labels from fixed sets only (no member, server, channel or task ids)."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest

from bot.lifecycle import RequestRefused, VideoService
from bot.lifecycle.refusal import RefusalReason
from bot.metrics import Metrics
from bot.minimax.client import MiniMaxClient, endpoint_of
from bot.minimax.errors import RateLimited
from bot.spec import VideoSpec
from storage import TaskState
from tests.builders import CHANNEL, GUILD, USER, sent_spec
from tests.fakes.fake_minimax import FakeMiniMax
from tests.fakes.lifecycle_harness import lifecycle_harness


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def assert_no_ids(text: str, *ids: int) -> None:
    """No label value holds one of ``ids`` as a number of its own (histogram bounds aside)."""
    values = [v for k, v in re.findall(r'(\w+)="([^"]*)"', text) if k != "le"]
    for some_id in ids:
        found = [v for v in values if re.search(rf"(?<![\w.]){some_id}(?![\w.])", v)]
        assert not found, f"id {some_id} in label values {found}"


async def test_a_request_through_the_fake_minimax_counts_by_endpoint_code_and_result(
    fake_minimax: FakeMiniMax,
) -> None:
    metrics = Metrics()
    async with aiohttp.ClientSession() as session:
        client = MiniMaxClient(
            session, fake_minimax.api_key, fake_minimax.base_url, backoff_base=0.001, metrics=metrics
        )
        task_id = await client.submit(_spec())
        await client.query(task_id)
        fake_minimax.inject("query", 1002)  # a rate limit inside a 200 answer
        with pytest.raises(RateLimited):
            await client.query(task_id, retries=0)
    endpoint = "/v1/video_generation"
    assert sample(metrics, "videobot_api_requests_total", endpoint=endpoint, code="200", result="ok") == 1
    query = "/v1/query/video_generation"
    assert sample(metrics, "videobot_api_requests_total", endpoint=query, code="200", result="ok") == 1
    assert (
        sample(metrics, "videobot_api_requests_total", endpoint=query, code="200", result="RateLimited") == 1
    )
    assert_no_ids(metrics.render().decode(), int(task_id) if task_id.isdigit() else 0)


def test_a_v2_query_is_counted_without_its_task_id() -> None:
    assert endpoint_of("/v2/query/video_generation/abc123") == "/v2/query/video_generation/{task_id}"
    assert endpoint_of("/v1/files/retrieve") == "/v1/files/retrieve"


async def test_a_delivered_video_counts_its_requests_card_edits_delivery_time_and_states(
    tmp_path: Path,
) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        metrics = Metrics()
        harness.client = MiniMaxClient(
            harness.session, harness.fake.api_key, harness.fake.base_url, backoff_base=0.001, metrics=metrics
        )
        service = VideoService(
            settings=harness.settings,
            storage=harness.storage,
            client=harness.client,
            notifier=harness.notifier,
            http=harness.session,
            metrics=metrics,
        )
        harness.service = service
        await service.start()
        task = await service.request(harness.request())
        assert (await harness.wait_final(task.id)).state is TaskState.DELIVERED
        await service.deps.updater.flush_all()

        assert sample(metrics, "videobot_delivery_seconds_count") == 1
        download = {"endpoint": "download", "code": "200", "result": "ok"}
        assert sample(metrics, "videobot_api_requests_total", **download) == 1
        assert sample(metrics, "videobot_card_edits_total", result="edited") >= 1
        metrics.set_task_counts(await harness.storage.tasks.count_by_state())
        assert sample(metrics, "videobot_tasks", state="delivered") == 1
        assert sample(metrics, "videobot_tasks", state="queued") == 0
        assert sample(metrics, "videobot_queue_length") == 0
        assert_no_ids(metrics.render().decode(), GUILD, CHANNEL, USER, task.id)


async def test_refused_requests_count_by_reason_not_by_text(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        metrics = Metrics()
        service = VideoService(
            settings=harness.settings,
            storage=harness.storage,
            client=harness.client,
            notifier=harness.notifier,
            metrics=metrics,
        )
        await harness.storage.policy.add_filter(GUILD, "forbidden", is_regex=False, actor_id=1)
        with pytest.raises(RequestRefused):
            await service.request(harness.request(prompt="a forbidden thing"))
        with pytest.raises(RequestRefused):
            await service.request(harness.request(model="no-such-model"))
        await harness.storage.limits.set_override(GUILD, USER, 0, actor_id=1)
        with pytest.raises(RequestRefused):
            await service.request(harness.request())
        await service.stop()
    assert sample(metrics, "videobot_refusals_total", reason=RefusalReason.PROMPT_FILTER) == 1
    assert sample(metrics, "videobot_refusals_total", reason=RefusalReason.INVALID) == 1
    assert sample(metrics, "videobot_refusals_total", reason=RefusalReason.QUOTA) == 1
    text = metrics.render().decode()
    assert "forbidden" not in text and "credits" not in text
    assert_no_ids(text, GUILD, USER)


def test_each_bot_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.command("video create")
    assert sample(first, "videobot_commands_total", command="video create") == 1
    assert sample(second, "videobot_commands_total", command="video create") == 0


def _spec() -> VideoSpec:
    return sent_spec("MiniMax-Hailuo-02", "a red fox", 6, "768P")
