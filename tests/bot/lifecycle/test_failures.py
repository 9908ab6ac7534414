"""Each way the API can fail a task ends in a clear message, a refund and no double anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.lifecycle import RequestRefused
from bot.lifecycle.submitter import MAX_SUBMIT_ATTEMPTS
from bot.minimax import errors
from bot.minimax.errors import InsufficientBalance, SensitiveInput, SensitiveOutput
from storage import TaskState
from tests.fakes.fake_minimax import TaskPlan
from tests.fakes.lifecycle_harness import Harness, lifecycle_harness


@pytest.mark.parametrize(
    ("code", "expected"),
    [(1026, SensitiveInput.user_message), (1027, SensitiveOutput.user_message)],
)
async def test_moderated_task_fails_with_a_plain_message_and_refunds(
    harness: Harness, code: int, expected: str
) -> None:
    harness.fake.fail_next_task(code)
    service = await harness.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.FAILED
    assert done.error_code == str(code)
    assert done.error_message == expected
    assert harness.notifier.failures_for(task.id) == [expected]
    assert await harness.ledger(task.id) == ["reserve", "refund"]
    assert harness.notifier.results_for(task.id) == []
    await harness.notifier.wait_for(
        lambda: (
            (card := harness.notifier.last_edit(task.id)) is not None and card.task.state is TaskState.FAILED
        )
    )
    assert harness.notifier.last_edit(task.id).note == expected  # type: ignore[union-attr]


async def test_invalid_parameters_show_the_apis_reason(harness: Harness) -> None:
    harness.fake.inject("submit", 2013, message="invalid params, prompt contains unsupported tag")
    service = await harness.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.FAILED and done.error_code == "2013"
    (message,) = harness.notifier.failures_for(task.id)
    assert "prompt contains unsupported tag" in message
    assert await harness.ledger(task.id) == ["reserve", "refund"]


@pytest.mark.parametrize("code", [1008, 1004])
async def test_account_problems_pause_submissions_and_refund(
    harness: Harness, code: int, caplog: pytest.LogCaptureFixture
) -> None:
    harness.fake.inject("submit", code)
    service = await harness.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.FAILED and done.error_code == str(code)
    assert await harness.ledger(task.id) == ["reserve", "refund"]
    (message,) = harness.notifier.failures_for(task.id)
    assert "moderators have been told" in message
    assert str(code) not in message, "members get no technical details"
    if code == 1008:
        assert message == InsufficientBalance.user_message
    assert service.submissions_paused
    assert any(r.levelname == "CRITICAL" and "PAUSED" in r.getMessage() for r in caplog.records)
    with pytest.raises(RequestRefused, match="moderator"):
        await service.request(harness.request())
    assert await harness.storage.tasks.count_for_user(done.guild_id, done.user_id) == 1, "nothing reserved"
    # A moderator fixes the account: requests flow again.
    service.resume_submissions()
    again = await service.request(harness.request())
    assert (await harness.wait_final(again.id)).state is TaskState.DELIVERED


async def test_transient_submit_errors_are_retried_then_delivered(harness: Harness) -> None:
    harness.fake.inject("submit", 1000, times=2)  # the API's "unknown error": certainly not created
    service = await harness.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED
    assert done.attempts == 3
    assert harness.fake.counts["submit"] == 3
    assert len(harness.fake.tasks) == 1, "only one task was ever created"
    assert await harness.ledger(task.id) == ["reserve", "charge"]


async def test_transient_submit_errors_give_up_after_the_attempt_limit(harness: Harness) -> None:
    harness.fake.inject("submit", 1000, times=10)
    service = await harness.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.FAILED
    assert harness.fake.counts["submit"] == MAX_SUBMIT_ATTEMPTS == done.attempts
    assert await harness.ledger(task.id) == ["reserve", "refund"]


async def test_transient_query_and_download_errors_are_retried(harness: Harness) -> None:
    harness.fake.inject("query", 503, times=2)
    harness.fake.inject("download", 500, times=1)
    service = await harness.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED
    assert len(harness.notifier.results_for(task.id)) == 1
    assert await harness.ledger(task.id) == ["reserve", "charge"]


async def test_unknown_submit_outcome_is_never_resubmitted(harness: Harness) -> None:
    harness.fake.inject("submit", "drop")  # the API created the task, but the answer never came
    service = await harness.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.UNKNOWN
    assert harness.fake.counts["submit"] == 1
    (message,) = harness.notifier.failures_for(task.id)
    assert "won't be charged twice" in message
    assert await harness.ledger(task.id) == ["reserve"], "held until a moderator resolves it"


async def test_a_task_that_never_finishes_times_out_and_refunds(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path, task_timeout=0.3) as harness:
        harness.fake.never_finish_next_task()
        service = await harness.start()
        task = await service.request(harness.request())
        done = await harness.wait_final(task.id)
        assert done.state is TaskState.FAILED and done.error_code == "timeout"
        (message,) = harness.notifier.failures_for(task.id)
        assert "did not finish" in message and "refunded" in message
        assert await harness.ledger(task.id) == ["reserve", "refund"]
        assert harness.fake.counts["retrieve"] == 0


async def test_over_the_upload_limit_the_link_is_posted_with_its_expiry(harness: Harness) -> None:
    harness.notifier.default_upload_limit = 10_000  # the fake's video is 64 KiB
    service = await harness.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED
    (posted,) = harness.notifier.results_for(task.id)
    assert posted.data is None
    assert posted.link is not None and "/download/" in posted.link
    assert posted.link_expires_at is not None and posted.link_expires_at > done.created_at
    assert await harness.ledger(task.id) == ["reserve", "charge"]


async def test_expired_download_url_is_retrieved_again(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        harness.fake.inject("download", 403)
        service = await harness.start()
        task = await service.request(harness.request())
        done = await harness.wait_final(task.id)
        assert done.state is TaskState.DELIVERED
        assert harness.fake.counts["retrieve"] >= 1
        assert len(harness.notifier.results_for(task.id)) == 1


async def test_reseller_flavour_delivers_without_a_retrieve_call(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path, flavour="reseller") as harness:
        service = await harness.start()
        task = await service.request(harness.request())
        done = await harness.wait_final(task.id)
        assert done.state is TaskState.DELIVERED
        assert harness.fake.counts["retrieve"] == 0, "the query embedded the download URL"
        assert len(harness.notifier.results_for(task.id)) == 1


async def test_posting_failures_are_retried_without_duplicates(harness: Harness) -> None:
    harness.notifier.fail_posts = 1
    harness.notifier.crash_posts = 1
    service = await harness.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED
    assert len(harness.notifier.results_for(task.id)) == 1
    assert await harness.ledger(task.id) == ["reserve", "charge"]


async def test_a_deleted_status_card_is_reposted_and_remembered(harness: Harness) -> None:
    service = await harness.start()
    task = await service.request(harness.request())
    assert task.status_message_id is not None
    harness.notifier.deleted_status.add(task.status_message_id)
    done = await harness.wait_final(task.id)
    await harness.notifier.wait_for(
        lambda: (
            (card := harness.notifier.last_edit(task.id)) is not None
            and card.task.state is TaskState.DELIVERED
        )
    )
    await service.deps.updater.wait_idle()
    reloaded = await harness.storage.tasks.get(done.id)
    assert reloaded.status_message_id not in (None, task.status_message_id)


async def test_generation_time_is_learned_for_the_next_first_poll(tmp_path: Path) -> None:
    plan = TaskPlan(preparing=0.0, queueing=0.0, processing=0.2)
    async with lifecycle_harness(
        tmp_path, plan=plan, poll_first_delay=5.0, poll_min_interval=0.02
    ) as harness:
        service = await harness.start()
        first = await service.request(harness.request())
        # With nothing learned the first query waits POLL_FIRST_DELAY: wake it by hand once.
        await harness.wait_state(first.id, [TaskState.SUBMITTED, TaskState.PROCESSING])
        submitted = await harness.storage.tasks.get(first.id)
        assert submitted.next_poll_at is not None and submitted.submitted_at is not None
        assert submitted.next_poll_at - submitted.submitted_at == pytest.approx(5.0)
        await harness.storage.tasks.update_fields(first.id, next_poll_at=0.0)
        harness.fake.finish_all()
        service.wake()
        await harness.wait_final(first.id)
        learned = await harness.storage.tasks.median_generation_seconds("MiniMax-Hailuo-2.3", "768P", 6)
        assert learned is not None and learned < 5.0

        second = await service.request(harness.request())
        await harness.wait_state(second.id, [TaskState.SUBMITTED, TaskState.PROCESSING, TaskState.DELIVERED])
        again = await harness.storage.tasks.get(second.id)
        if again.state is not TaskState.DELIVERED:
            assert again.next_poll_at is not None and again.submitted_at is not None
            assert again.next_poll_at - again.submitted_at < 5.0
        assert (await harness.wait_final(second.id)).state is TaskState.DELIVERED


async def test_an_unknown_task_keeps_the_apis_request_id_for_the_moderator(harness: Harness) -> None:
    service = harness.new_service()
    harness.service = service

    async def no_answer(request: Any, **kwargs: Any) -> str:
        raise errors.SubmitOutcomeUnknown(
            "submit sent, then HTTP 504; a task may exist", request_id="req-7f3a"
        )

    service.deps.client.submit = no_answer  # type: ignore[method-assign]
    await service.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.UNKNOWN
    assert done.error_code == "submit_unknown"
    assert done.error_message is not None and "req-7f3a" in done.error_message
    (message,) = harness.notifier.failures_for(task.id)
    assert "won't be charged twice" in message and "req-7f3a" in message
