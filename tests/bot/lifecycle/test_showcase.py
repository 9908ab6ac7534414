"""The showcase rules through the service: who may share, once per video, who may remove, votes, top."""

from __future__ import annotations

import pytest

from bot.lifecycle import Actor, RequestRefused
from storage import TaskState
from tests.fakes.lifecycle_harness import GUILD, OTHER_USER, USER, Harness

AUTHOR = Actor(user_id=USER, guild_id=GUILD)
STRANGER = Actor(user_id=OTHER_USER, guild_id=GUILD)
MODERATOR = Actor(user_id=99, guild_id=GUILD, manage_guild=True)
ELSEWHERE = Actor(user_id=USER, guild_id=GUILD + 1, manage_guild=True)
SHOWCASE = 7000


async def delivered(harness: Harness, **overrides: object) -> int:
    service = harness.service or await harness.start()
    task = await service.request(harness.request(**overrides))
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED
    return done.id


async def test_sharing_needs_a_showcase_and_the_author_or_a_moderator(harness: Harness) -> None:
    task_id = await delivered(harness)
    showcase = harness.service.showcase  # type: ignore[union-attr]
    with pytest.raises(RequestRefused, match="no showcase yet"):
        await showcase.claim_share(task_id, AUTHOR)
    await harness.storage.showcase.set(GUILD, SHOWCASE, is_forum=False, actor_id=99)
    with pytest.raises(RequestRefused, match="author or a moderator"):
        await showcase.claim_share(task_id, STRANGER)
    with pytest.raises(RequestRefused, match="not made in this server"):
        await showcase.claim_share(task_id, ELSEWHERE)
    ticket = await showcase.claim_share(task_id, AUTHOR)
    assert ticket.task.id == task_id and ticket.showcase.channel_id == SHOWCASE
    with pytest.raises(RequestRefused, match="being shared right now"):
        await showcase.claim_share(task_id, MODERATOR)
    await showcase.shared(task_id, SHOWCASE, 123)
    with pytest.raises(RequestRefused, match="already in the showcase") as refused:
        await showcase.claim_share(task_id, MODERATOR)
    assert refused.value.text("ja") == "この動画はすでにショーケースにあります。"


async def test_a_moderator_may_share_and_a_failed_post_can_be_retried(harness: Harness) -> None:
    task_id = await delivered(harness)
    showcase = harness.service.showcase  # type: ignore[union-attr]
    await harness.storage.showcase.set(GUILD, SHOWCASE, is_forum=True, actor_id=99)
    await showcase.claim_share(task_id, MODERATOR)
    await showcase.share_failed(task_id)
    assert (await showcase.claim_share(task_id, AUTHOR)).showcase.is_forum


async def test_private_and_unfinished_videos_are_not_shared(harness: Harness) -> None:
    await harness.storage.showcase.set(GUILD, SHOWCASE, is_forum=False, actor_id=99)
    await (await harness.start()).update_preferences(USER, dm_results=True)
    private = await delivered(harness)
    await harness.service.update_preferences(USER, dm_results=False)  # type: ignore[union-attr]
    showcase = harness.service.showcase  # type: ignore[union-attr]
    with pytest.raises(RequestRefused, match="delivered privately") as refused:
        await showcase.claim_share(private, AUTHOR)
    assert refused.value.text("es-ES") == "Este vídeo se entregó en privado, así que no se comparte."
    harness.fake.never_finish_next_task()
    running = await harness.service.request(harness.request())  # type: ignore[union-attr]
    with pytest.raises(RequestRefused, match="Only a delivered video"):
        await showcase.claim_share(running.id, AUTHOR)


async def test_only_moderators_remove_and_votes_close_then(harness: Harness) -> None:
    task_id = await delivered(harness)
    showcase = harness.service.showcase  # type: ignore[union-attr]
    await harness.storage.showcase.set(GUILD, SHOWCASE, is_forum=False, actor_id=99)
    await showcase.claim_share(task_id, AUTHOR)
    await showcase.shared(task_id, SHOWCASE, 123)
    assert (await showcase.vote(task_id, STRANGER)).count == 1
    assert (await showcase.vote(task_id, AUTHOR)).count == 2
    toggled = await showcase.vote(task_id, STRANGER)
    assert (toggled.voted, toggled.count) == (False, 1)
    [entry] = await showcase.top(GUILD, "day")
    assert (entry.task_id, entry.votes, entry.message_id) == (task_id, 1, 123)
    with pytest.raises(RequestRefused, match="Only a moderator"):
        await showcase.remove(task_id, AUTHOR)
    removed = await showcase.remove(task_id, MODERATOR)
    assert removed.removed and removed.message_id == 123
    with pytest.raises(RequestRefused, match="votes are closed"):
        await showcase.vote(task_id, STRANGER)
    assert await showcase.top(GUILD, "week") == []
    with pytest.raises(RequestRefused, match="not in this server's showcase"):
        await showcase.vote(task_id, ELSEWHERE)
