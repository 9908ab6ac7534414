"""A thread per video through the service: opened on the card when the server (or the bot) wants it,
and the result and failures of the task posted with it."""

from __future__ import annotations

from pathlib import Path

from storage import TaskState
from tests.fakes.lifecycle_harness import GUILD, USER, Harness, lifecycle_harness


async def test_threads_on_opens_one_per_public_card_and_posts_there(harness: Harness) -> None:
    await harness.storage.policy.update(GUILD, actor_id=1, threads=True)
    service = await harness.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED
    thread = harness.notifier.threads[task.id]
    assert done.thread_id == thread
    assert ("result", task.id, thread) in harness.notifier.thread_posts
    harness.fake.fail_next_task()
    failed = await service.request(harness.request(prompt="this one fails"))
    await harness.wait_final(failed.id)
    await harness.notifier.wait_for(lambda: any(p[0] == "failure" for p in harness.notifier.thread_posts))
    assert ("failure", failed.id, harness.notifier.threads[failed.id]) in harness.notifier.thread_posts


async def test_no_thread_by_default_for_private_tasks_or_when_discord_refuses(harness: Harness) -> None:
    service = await harness.start()
    plain = await service.request(harness.request())
    await harness.wait_final(plain.id)
    assert harness.notifier.threads == {} and "open_thread:1" not in harness.notifier.calls
    await harness.storage.policy.update(GUILD, actor_id=1, threads=True)
    await service.update_preferences(USER, dm_results=True)
    private = await service.request(harness.request())
    await harness.wait_final(private.id)
    assert private.id not in harness.notifier.threads
    await service.update_preferences(USER, dm_results=False)
    harness.notifier.open_threads_ok = False
    refused = await service.request(harness.request())
    done = await harness.wait_final(refused.id)
    assert done.state is TaskState.DELIVERED and done.thread_id is None
    assert ("result", refused.id, None) in harness.notifier.thread_posts


async def test_thread_per_video_is_the_default_and_a_server_may_say_off(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path, thread_per_video=True) as harness:
        service = await harness.start()
        first = await service.request(harness.request())
        assert (await harness.wait_final(first.id)).thread_id is not None
        await harness.storage.policy.update(GUILD, actor_id=1, threads=False)
        second = await service.request(harness.request())
        assert (await harness.wait_final(second.id)).thread_id is None
        await harness.storage.policy.update(GUILD, actor_id=1, threads=None)  # back to the bot's
        third = await service.request(harness.request())
        assert (await harness.wait_final(third.id)).thread_id is not None
