"""Private results (a member's ``dm_results`` or the server's policy) when the member's side refuses.

A member whose DMs are closed to the bot, once the interaction follow-up's window is over, cannot be
sent the video. It was made and billed by the API, so it is charged and kept for them (a refund
would make videos free for anyone who closes their DMs); a failure on the bot's side is refunded.
"""

from __future__ import annotations

import aiohttp

from bot.lifecycle import kept_for_member
from storage import TaskState
from tests.fakes.lifecycle_harness import GUILD, USER, Harness


async def _private(harness: Harness) -> None:
    await harness.storage.policy.update(GUILD, actor_id=1, results_public=False)


async def test_a_private_video_refused_by_closed_dms_is_charged_and_kept(harness: Harness) -> None:
    await _private(harness)
    harness.notifier.dm_closed.add(USER)
    service = await harness.start()
    task = await service.request(harness.request())

    done = await harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED, done.error_message
    assert await harness.ledger(task.id) == ["reserve", "charge"], "never refunded: no free videos"
    assert kept_for_member(done) and done.result_message_id is None
    assert f"/video status {task.id}" in (done.error_message or "")
    await harness.notifier.wait_for(lambda: harness.notifier.pickups == [task.id])
    assert harness.notifier.results_for(task.id) == [] and harness.notifier.failures_for(task.id) == []
    assert harness.notifier.calls.count(f"post_result:{task.id}") == 1, "a verdict, not retried"

    # Retrievable: a fresh download link of the very video the API made.
    link = await service.fresh_link(done)
    async with aiohttp.ClientSession() as session, session.get(link.url) as response:
        assert response.status == 200
        body = await response.read()
    assert done.api_task_id is not None
    assert body == harness.fake.file_bytes(harness.fake.tasks[done.api_task_id].file_id)


async def test_a_members_own_dm_preference_with_closed_dms_is_kept_too(harness: Harness) -> None:
    await (await harness.start()).update_preferences(USER, dm_results=True)
    harness.notifier.dm_closed.add(USER)
    service = harness.service
    assert service is not None
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    assert kept_for_member(done), "dm_results is private: never the channel, and charged"
    assert harness.notifier.results_for(task.id) == []
    assert await harness.ledger(task.id) == ["reserve", "charge"]


async def test_a_private_video_the_bot_could_not_post_is_still_refunded(harness: Harness) -> None:
    await _private(harness)
    harness.notifier.fail_posts = 100  # Discord down: the bot's side, not the member's
    service = await harness.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id, within=20)
    assert done.state is TaskState.FAILED and not kept_for_member(done)
    assert await harness.ledger(task.id) == ["reserve", "refund"]


async def test_a_moderators_note_on_a_private_task_is_told_privately(harness: Harness) -> None:
    """A private card shows the channel no note, so a moderator's refund is told to the member."""
    await _private(harness)
    service = await harness.start()
    task = await service.request(harness.request())
    await harness.wait_final(task.id)
    await service.refresh_card(task, note="A moderator refunded this video.")
    assert harness.notifier.failures_for(task.id) == ["A moderator refunded this video."]
    public = await service.request(harness.request(guild_id=GUILD + 1))
    await service.refresh_card(public, note="shown on its card")
    assert harness.notifier.failures_for(public.id) == [], "a public card is the notice itself"
