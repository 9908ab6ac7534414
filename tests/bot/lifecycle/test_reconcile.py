"""A lost V2 submit answer reconciled from the API's task list, not left to a moderator.

The fake MiniMax lists its V2 tasks newest first with their wall-clock creation time and prompt; a
``drop`` fault on submit creates the task and loses the answer, a 500 page loses it without one.
"""

from __future__ import annotations

import logging
import time

import aiohttp
import pytest

from bot.lifecycle.outcomes import ListMatch
from bot.lifecycle.reconcile import NOT_LISTED_MESSAGE, match_listed
from bot.minimax.errors import MalformedResponse
from bot.minimax.types import ListedTask
from bot.minimax.v2 import parse_v2_list
from bot.spec import VideoSpec
from storage import TaskState
from tests.bot.lifecycle.test_h3_lifecycle import h3_request, roomy
from tests.builders import new_task_of
from tests.fakes.lifecycle_harness import CHANNEL, GUILD, USER, Harness

PROMPT = "a lighthouse in a storm, thunder rolling"


async def _reconciled(harness: Harness, task_id: int) -> None:
    """Until the reconciler has read the list and decided (its job ends after the decision)."""
    await harness.wait_state(task_id, [TaskState.UNKNOWN, TaskState.FAILED])
    await harness.fake.wait_for_count("list", 1)
    assert harness.service is not None
    await harness.service.reconciler.settle(task_id)


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_lost_answer_is_found_in_the_list_and_delivered_without_a_moderator(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Checked failing before the reconciler: the task stayed unknown, its credits held."""
    caplog.set_level(logging.INFO)
    await roomy(harness)
    harness.fake.inject("submit", "drop")  # the API created the task, but the answer never came
    service = await harness.start()
    task = await service.request(h3_request(duration=4, resolution="768P"))
    done = await harness.wait_state(task.id, [TaskState.DELIVERED, TaskState.FAILED], within=20)
    assert done.state is TaskState.DELIVERED, done.error_message
    assert done.api_task_id in harness.fake.tasks
    assert harness.fake.counts["submit"] == 1, "never resent"
    assert harness.fake.counts["list"] >= 1
    assert await harness.ledger(task.id) == ["reserve", "charge"]
    assert harness.notifier.failures_for(task.id) == [], "never told it needs a moderator"
    # Nor is the operator: the list settled it, so no error line says a moderator must.
    assert any("looking for it in the V2 task list" in r.getMessage() for r in caplog.records)
    assert _errors(caplog) == []


async def test_a_submit_that_never_arrived_is_refunded_once_the_window_passes(harness: Harness) -> None:
    await roomy(harness)
    harness.fake.inject("submit", 500)  # a gateway page: unknown, and here no task was made
    service = await harness.start()
    service.reconciler.window = 0.3
    task = await service.request(h3_request(duration=4, resolution="768P"))
    done = await harness.wait_state(task.id, [TaskState.FAILED])
    assert done.state is TaskState.FAILED and done.error_code == "unknown_not_listed"
    assert harness.fake.tasks == {}
    assert await harness.ledger(task.id) == ["reserve", "refund"]
    assert harness.notifier.failures_for(task.id)[-1] == NOT_LISTED_MESSAGE


async def test_two_listed_tasks_with_the_same_prompt_go_to_a_moderator(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await roomy(harness)
    # Someone else on the account made the same request a moment ago, outside the bot.
    body = {"model": "MiniMax-H3", "content": [{"type": "text", "text": PROMPT}], "duration": 4,
            "resolution": "768P", "ratio": "16:9"}  # fmt: skip
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": "Bearer test-key"}
        async with session.post(harness.fake.base_url + "/v2/video_generation", json=body, headers=headers):
            pass
    harness.fake.inject("submit", "drop")
    service = await harness.start()
    task = await service.request(h3_request(PROMPT, duration=4, resolution="768P"))
    await _reconciled(harness, task.id)
    assert (await harness.storage.tasks.get(task.id)).state is TaskState.UNKNOWN
    assert await harness.ledger(task.id) == ["reserve"], "held until a moderator resolves it"
    (notice,) = harness.notifier.failures_for(task.id)
    assert "won't be charged twice" in notice, "told once the list could not settle it"
    assert [m for m in _errors(caplog) if "could be it" in m], "the operator hears a moderator is needed"


async def test_a_listed_task_recorded_on_another_task_is_not_a_candidate(harness: Harness) -> None:
    await roomy(harness)
    service = await harness.start()
    first = await service.request(h3_request(PROMPT, duration=4, resolution="768P"))
    await harness.wait_state(first.id, [TaskState.DELIVERED])
    harness.fake.inject("submit", "drop")
    second = await service.request(h3_request(PROMPT, duration=4, resolution="768P"))
    done = await harness.wait_state(second.id, [TaskState.DELIVERED, TaskState.FAILED], within=20)
    assert done.state is TaskState.DELIVERED
    assert done.api_task_id != (await harness.storage.tasks.get(first.id)).api_task_id


async def test_a_v2_task_caught_mid_submit_by_a_restart_is_reconciled(harness: Harness) -> None:
    await roomy(harness)
    spec = VideoSpec(PROMPT, model="MiniMax-H3", duration=4, resolution="768P", ratio="16:9")
    reserved = await harness.storage.quota.reserve(
        new_task_of(GUILD, CHANNEL, USER, PROMPT, "MiniMax-H3", "text", 26, duration=4, resolution="768P"),
        now=time.time(),
    )
    assert reserved.spec.model == spec.model
    await harness.storage.tasks.transition(reserved.id, TaskState.SUBMITTING, attempts=1)
    service = await harness.start()
    service.reconciler.window = 0.3
    await harness.wait_state(reserved.id, [TaskState.FAILED])
    assert harness.fake.counts["submit"] == 0
    assert await harness.ledger(reserved.id) == ["reserve", "refund"]


async def test_a_v1_unknown_still_waits_for_a_moderator(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.fake.inject("submit", "drop")
    service = await harness.start()
    task = await service.request(harness.request())
    await harness.wait_state(task.id, [TaskState.UNKNOWN])
    await harness.stop()
    assert (await harness.storage.tasks.get(task.id)).state is TaskState.UNKNOWN
    assert harness.fake.counts["list"] == 0
    assert [m for m in _errors(caplog) if "a moderator must resolve it" in m], "V1: no list to look in"


# ---------------------------------------------------------------------------------- the pure parts


def _listed(
    task_id: str, created: float | None, prompt: str | None, model: str | None = "MiniMax-H3"
) -> ListedTask:
    return ListedTask(task_id, created, prompt, model, "queued")


@pytest.mark.parametrize(
    ("entries", "match"),
    [
        ([_listed("a", 1000, PROMPT)], ListMatch.ONE),
        ([_listed("a", 1000, PROMPT), _listed("b", 1001, PROMPT)], ListMatch.MANY),
        ([_listed("a", 1000, "another prompt")], ListMatch.NONE),
        ([_listed("a", 1000, PROMPT, model="MiniMax-H3-Max")], ListMatch.NONE),
        ([_listed("a", 1000 - 3600, PROMPT)], ListMatch.NONE),  # long before the request
        ([_listed("a", 1000, None)], ListMatch.MANY),  # no prompt to compare: only a maybe
        ([_listed("a", 1000, PROMPT), _listed("b", 1000, None)], ListMatch.MANY),
        ([], ListMatch.NONE),
    ],
)
def test_candidates_are_matched_by_time_model_and_prompt(entries: list[ListedTask], match: ListMatch) -> None:
    class _Task:
        model = "MiniMax-H3"
        prompt = PROMPT

    assert match_listed(_Task(), entries, since=990, until=1010).match is match  # type: ignore[arg-type]


def test_the_list_is_read_in_every_plausible_shape() -> None:
    listed = {"task_id": "1", "created_at": 1_800_000_000, "prompt": "x", "model": "MiniMax-H3"}
    official = {"tasks": [listed], "base_resp": {"status_code": 0}}
    (entry,) = parse_v2_list(official)
    assert (entry.task_id, entry.created_at, entry.prompt) == ("1", 1_800_000_000, "x")
    envelope = {"code": 0, "data": {"list": [{"id": 2, "create_time": 1_800_000_000_000,
                "request": {"content": [{"type": "text", "text": "y"}]}}]}}  # fmt: skip
    (entry,) = parse_v2_list(envelope)
    assert (entry.task_id, entry.created_at, entry.prompt) == ("2", 1_800_000_000, "y")
    iso = {"data": [{"task": {"task_id": "3", "created_at": "2027-01-15T08:00:00Z"}}, {"no": "id"}]}
    (entry,) = parse_v2_list(iso)
    assert entry.task_id == "3" and entry.created_at is not None and entry.prompt is None
    with pytest.raises(MalformedResponse):
        parse_v2_list({"base_resp": {"status_code": 0}})  # no list is not "no tasks"
