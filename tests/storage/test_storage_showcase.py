"""The showcase in storage: once per video, one vote per member, votes that survive a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage import Showcase, Storage
from storage.showcase import STALE_CLAIM_SECONDS
from tests.storage.conftest import GUILD, T0, new_task

MOD, AUTHOR, A, B = 99, 3000, 11, 12
SHOWCASE, POST_CHANNEL = 7000, 7001


async def delivered(store: Storage) -> int:
    task = await store.quota.reserve(new_task(), now=T0)
    for state in ("submitting", "submitted", "processing", "downloading", "delivering", "delivered"):
        fields = {"api_task_id": f"api-{task.id}"} if state == "submitted" else {}
        await store.tasks.transition(task.id, state, now=T0 + 1, **fields)
    return task.id


async def shared(store: Storage, now: float = T0) -> int:
    task_id = await delivered(store)
    assert (await store.showcase.claim(task_id, GUILD, shared_by=AUTHOR, now=now)).claimed
    await store.showcase.completed(task_id, POST_CHANNEL, 8000 + task_id)
    return task_id


async def test_setting_the_showcase_is_audited_and_idempotent(store: Storage) -> None:
    first = await store.showcase.set(GUILD, SHOWCASE, is_forum=True, actor_id=MOD, now=T0)
    again = await store.showcase.set(GUILD, SHOWCASE, is_forum=True, actor_id=MOD, now=T0 + 1)
    assert (first.before, first.after) == (None, Showcase(SHOWCASE, True))
    assert first.audit_id is not None and again.audit_id is None
    assert await store.showcase.get(GUILD) == Showcase(SHOWCASE, True)
    [entry] = await store.audit.list(GUILD)
    assert entry.action == "showcase.set"


async def test_a_video_is_shared_once_even_with_clicks_at_the_same_instant(store: Storage) -> None:
    task_id = await delivered(store)
    results = await asyncio.gather(
        *(store.showcase.claim(task_id, GUILD, shared_by=AUTHOR + i, now=T0) for i in range(10))
    )
    assert sum(r.claimed for r in results) == 1
    losers = [r for r in results if not r.claimed]
    assert all(r.existing is not None and not r.existing.posted for r in losers)


async def test_a_failed_post_is_released_and_a_stale_claim_taken_over(store: Storage) -> None:
    task_id = await delivered(store)
    assert (await store.showcase.claim(task_id, GUILD, shared_by=AUTHOR, now=T0)).claimed
    await store.showcase.release(task_id)
    assert (await store.showcase.claim(task_id, GUILD, shared_by=AUTHOR, now=T0 + 1)).claimed
    # The bot died between the claim and the post: after a while the next share may go ahead.
    assert not (await store.showcase.claim(task_id, GUILD, shared_by=MOD, now=T0 + 2)).claimed
    later = T0 + 1 + STALE_CLAIM_SECONDS
    assert (await store.showcase.claim(task_id, GUILD, shared_by=MOD, now=later)).claimed
    await store.showcase.completed(task_id, POST_CHANNEL, 8001)
    # Posted: never again, however long ago.
    again = await store.showcase.claim(task_id, GUILD, shared_by=MOD, now=later + 10 * STALE_CLAIM_SECONDS)
    assert not again.claimed and again.existing is not None and again.existing.message_id == 8001


async def test_votes_toggle_one_per_member_and_survive_a_restart(db_path: Path) -> None:
    async with await Storage.open(db_path) as store:
        task_id = await shared(store)
        assert (await store.showcase.toggle_vote(task_id, A, now=T0)).count == 1  # type: ignore[union-attr]
        vote_b = await store.showcase.toggle_vote(task_id, B, now=T0)
        assert vote_b is not None and (vote_b.voted, vote_b.count) == (True, 2)
        again = await store.showcase.toggle_vote(task_id, B, now=T0)
        assert again is not None and (again.voted, again.count) == (False, 1)
        concurrent = await asyncio.gather(*(store.showcase.toggle_vote(task_id, 50 + i) for i in range(8)))
        assert max(v.count for v in concurrent if v is not None) == 9
    async with await Storage.open(db_path) as reopened:
        assert await reopened.showcase.votes(task_id) == 9
        vote = await reopened.showcase.toggle_vote(task_id, A, now=T0)
        assert vote is not None and (vote.voted, vote.count) == (False, 8)


async def test_no_votes_on_unposted_or_removed_posts(store: Storage) -> None:
    unposted = await delivered(store)
    assert await store.showcase.toggle_vote(unposted, A) is None
    await store.showcase.claim(unposted, GUILD, shared_by=AUTHOR, now=T0)
    assert await store.showcase.toggle_vote(unposted, A) is None
    posted = await shared(store)
    change = await store.showcase.remove(posted, actor_id=MOD, now=T0 + 5)
    assert change.after is not None and change.after.removed and change.audit_id is not None
    assert (await store.showcase.remove(posted, actor_id=MOD, now=T0 + 6)).audit_id is None
    assert await store.showcase.toggle_vote(posted, A) is None
    # Removed stays removed: a new share is refused by the existing row.
    assert not (await store.showcase.claim(posted, GUILD, shared_by=AUTHOR, now=T0 + 7)).claimed


async def test_top_ranks_live_posts_of_the_period_by_votes(store: Storage) -> None:
    old = await shared(store, now=T0 - 3 * 86400)
    one = await shared(store, now=T0)
    two = await shared(store, now=T0 + 1)
    removed = await shared(store, now=T0 + 2)
    for voter in (A, B):
        await store.showcase.toggle_vote(two, voter)
        await store.showcase.toggle_vote(old, voter)
        await store.showcase.toggle_vote(removed, voter)
    await store.showcase.toggle_vote(removed, 13)
    await store.showcase.remove(removed, actor_id=MOD)
    top = await store.showcase.top(GUILD, since=T0 - 86400)
    assert [(e.task_id, e.votes) for e in top] == [(two, 2), (one, 0)]
    assert top[0].message_id == 8000 + two and top[0].channel_id == POST_CHANNEL
    week = await store.showcase.top(GUILD, since=T0 - 7 * 86400)
    assert [e.task_id for e in week] == [old, two, one]  # a tie goes to the earlier share
    assert await store.showcase.top(GUILD + 1, since=0) == []
