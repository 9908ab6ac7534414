"""Push notifications end to end: the fake API challenges the bot's callback server and pushes to it.

The fake only calls 127.0.0.1 (``callback_target`` stands in for the public CALLBACK_URL). Polling is
set so slow here (the safety net's first query would come after ~13 s) that only a push can deliver
within the test, which is what makes "exactly the minimum of requests" checkable.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.lifecycle import VideoService
from bot.minimax.callbacks import MAX_BODY, PUSH_BURST, CallbackSwitch, parse_callback
from bot.minimax.client import MiniMaxClient
from bot.minimax.ratelimit import SubmitRateLimiter
from storage import TaskState
from tests.fakes.lifecycle_harness import Harness, lifecycle_harness

PUBLIC_URL = "https://bot.example.com/minimax/push"
SLOW_POLLING = {"poll_first_delay": 5.0, "poll_min_interval": 1.0, "poll_max_interval": 30.0}


class Pushes:
    def __init__(self, harness: Harness, service: VideoService, switch: CallbackSwitch) -> None:
        self.harness, self.service, self.switch = harness, service, switch
        assert service.push_port is not None
        self.url = f"http://127.0.0.1:{service.push_port}/minimax/push"

    async def post(self, body: Any, *, raw: bytes | None = None) -> int:
        data = raw if raw is not None else json.dumps(body).encode()
        async with self.harness.session.post(self.url, data=data) as resp:
            return resp.status


@pytest.fixture
async def pushes(tmp_path: Path) -> AsyncIterator[Pushes]:
    async with lifecycle_harness(
        tmp_path, callback_url=PUBLIC_URL, callback_port=0, **SLOW_POLLING
    ) as harness:
        switch = CallbackSwitch(PUBLIC_URL)
        client = MiniMaxClient(
            harness.session,
            harness.fake.api_key,
            harness.fake.base_url,
            timeout=5.0,
            backoff_base=0.001,
            backoff_max=0.01,
            submit_limiter=SubmitRateLimiter(1000),
            callback=switch,
        )
        service = VideoService(
            settings=harness.settings,
            storage=harness.storage,
            client=client,
            notifier=harness.notifier,
            http=harness.session,
            callbacks=switch,
        )
        harness.service = service
        await service.start()
        result = Pushes(harness, service, switch)
        harness.fake.callback_target = result.url
        yield result


async def test_a_push_delivers_with_exactly_the_minimum_of_requests(pushes: Pushes) -> None:
    harness = pushes.harness
    task = await pushes.service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED
    assert harness.fake.challenges_sent == 1
    assert harness.fake.submissions[0]["callback_url"] == PUBLIC_URL
    # submit, the one confirming query, retrieve: nothing else.
    assert (harness.fake.counts["submit"], harness.fake.counts["query"], harness.fake.counts["retrieve"]) == (
        1,
        1,
        1,
    )


async def test_repeated_pushes_cost_nothing_more(pushes: Pushes) -> None:
    harness = pushes.harness
    harness.fake.push_copies = 5
    task = await pushes.service.request(harness.request())
    assert (await harness.wait_final(task.id)).state is TaskState.DELIVERED
    assert harness.fake.pushes_sent == 5
    assert harness.fake.counts["query"] == 1
    # And once delivered, another copy changes nothing.
    api_id = (await harness.storage.tasks.get(task.id)).api_task_id
    assert await pushes.post({"task_id": api_id, "status": "success"}) == 200
    assert (await harness.storage.tasks.get(task.id)).state is TaskState.DELIVERED
    assert harness.fake.counts["query"] == 1


async def test_a_push_for_a_task_that_is_not_ours_changes_nothing(pushes: Pushes) -> None:
    harness = pushes.harness
    harness.fake.next_task(never_finish=True)
    task = await pushes.service.request(harness.request())
    running = await harness.wait_state(task.id, [TaskState.SUBMITTED])
    assert await pushes.post({"task_id": "999999999", "status": "success"}) == 404
    # Not final: nothing to do either.
    assert await pushes.post({"task_id": running.api_task_id, "status": "processing"}) == 200
    after = await harness.storage.tasks.get(task.id)
    assert (after.state, after.next_poll_at) == (running.state, running.next_poll_at)
    assert harness.fake.counts["query"] == 0


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        b'{"task_id": "12; DROP TABLE tasks", "status": "success"}',
        b'{"task_id": "123", "status": 7}',
        b'{"challenge": ""}',
        b'{"challenge": {"nested": true}}',
    ],
)
async def test_a_malformed_body_gets_a_400_and_changes_nothing(pushes: Pushes, raw: bytes) -> None:
    assert await pushes.post(None, raw=raw) == 400
    assert pushes.service.pushes.accepted == 0


async def test_an_oversized_body_gets_a_413(pushes: Pushes) -> None:
    body = {"task_id": "123", "status": "success", "padding": "x" * (MAX_BODY + 1)}
    assert await pushes.post(body) == 413
    assert pushes.service.pushes.accepted == 0


async def test_the_challenge_is_echoed(pushes: Pushes) -> None:
    async with pushes.harness.session.post(pushes.url, json={"challenge": "abc123"}) as resp:
        assert resp.status == 200
        assert await resp.json() == {"challenge": "abc123"}


async def test_a_flood_is_bounded(pushes: Pushes) -> None:
    harness = pushes.harness
    harness.fake.next_task(never_finish=True)
    task = await pushes.service.request(harness.request())
    running = await harness.wait_state(task.id, [TaskState.SUBMITTED])
    body = {"task_id": running.api_task_id, "status": "success"}
    statuses = await asyncio.gather(*(pushes.post(body) for _ in range(3 * PUSH_BURST)))
    assert set(statuses) <= {200, 202, 429}
    assert statuses.count(429) > 0  # past the burst, refused before any work
    assert statuses.count(202) == 1 and pushes.service.pushes.accepted == 1
    # The one accepted push costs one confirming query, which sees the task still running.
    deadline = asyncio.get_running_loop().time() + 5
    while harness.fake.counts["query"] < 1:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    assert harness.fake.counts["query"] == 1
    assert (await harness.storage.tasks.get(task.id)).state in (TaskState.SUBMITTED, TaskState.PROCESSING)


async def test_a_failed_challenge_falls_back_to_polling_and_says_so_once(
    pushes: Pushes, caplog: pytest.LogCaptureFixture
) -> None:
    harness = pushes.harness
    harness.fake.callback_echo_ok = False
    service = pushes.service
    await harness.stop()  # the fixture's slow polling would not deliver: restart with normal polling
    service = VideoService(
        settings=dataclasses.replace(harness.settings, poll_first_delay=0.03),
        storage=harness.storage,
        client=service.deps.client,
        notifier=harness.notifier,
        http=harness.session,
        callbacks=pushes.switch,
    )
    harness.service = service
    with caplog.at_level(logging.WARNING, logger="bot.minimax.callbacks"):
        await service.start()
        harness.fake.callback_target = f"http://127.0.0.1:{service.push_port}/minimax/push"
        first = await service.request(harness.request())
        assert (await harness.wait_final(first.id)).state is TaskState.DELIVERED
        second = await service.request(harness.request())
        assert (await harness.wait_final(second.id)).state is TaskState.DELIVERED
    assert not pushes.switch.active
    # The refused submit created nothing; the same request went again without the callback.
    assert harness.fake.counts["submit"] == 3 and len(harness.fake.tasks) == 2
    assert "callback_url" in harness.fake.submissions[0]
    assert all("callback_url" not in s for s in harness.fake.submissions[1:])
    assert len([r for r in caplog.records if "CALLBACK_URL" in r.getMessage()]) == 1


def test_both_push_shapes_are_read() -> None:
    v1 = parse_callback(b'{"task_id": "106916112212032", "status": "Success", "file_id": "1"}')
    v2 = parse_callback(b'{"task": {"task_id": "abc-1", "status": "succeeded"}}')
    assert (v1.task_id, v1.final) == ("106916112212032", True)  # type: ignore[union-attr]
    assert (v2.task_id, v2.final) == ("abc-1", True)  # type: ignore[union-attr]


async def test_pushes_off_without_a_callback_url(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        service = await harness.start()
        assert service.push_port is None
        task = await service.request(harness.request())
        assert (await harness.wait_final(task.id)).state is TaskState.DELIVERED
        assert "callback_url" not in harness.fake.submissions[0]
