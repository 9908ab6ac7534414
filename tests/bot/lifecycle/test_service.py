"""VideoService: results clicked in a DM, a card that cannot be recorded, and queue-card refreshes."""

from __future__ import annotations

from typing import Any

import pytest

from bot.lifecycle import Actor, RequestRefused, StatusCard, VideoService
from storage import StorageError, Task, TaskState
from tests.fakes.lifecycle_harness import CHANNEL, GUILD, OTHER_USER, USER, Harness

IN_DM = Actor(user_id=USER, guild_id=None)
STRANGER_IN_DM = Actor(user_id=OTHER_USER, guild_id=None)


async def test_the_owner_can_see_and_regenerate_a_result_from_a_dm(harness: Harness) -> None:
    service = await harness.start()
    task = await service.request(harness.request())
    await harness.wait_final(task.id)

    assert (await service.task_for(task.id, IN_DM)).id == task.id
    with pytest.raises(RequestRefused, match="not one of yours"):
        await service.task_for(task.id, STRANGER_IN_DM)
    with pytest.raises(RequestRefused, match="not one of yours"):
        await service.task_for(task.id, Actor(user_id=USER, guild_id=GUILD + 1))

    again = await service.regenerate(task.id, IN_DM)
    assert (again.guild_id, again.channel_id, again.regenerated_from) == (GUILD, CHANNEL, task.id)
    assert (await harness.wait_final(again.id)).state is TaskState.DELIVERED
    with pytest.raises(RequestRefused, match="another server"):
        await service.regenerate(task.id, STRANGER_IN_DM)


async def test_a_regenerate_from_a_dm_still_obeys_the_servers_rules(harness: Harness) -> None:
    service = await harness.start()
    task = await service.request(harness.request())
    await harness.wait_final(task.id)
    await harness.storage.limits.block(GUILD, USER, "spam", actor_id=1)
    with pytest.raises(RequestRefused, match="blocked"):
        await service.regenerate(task.id, IN_DM)


async def test_a_card_that_cannot_be_recorded_does_not_undo_the_request(harness: Harness) -> None:
    """The credits are reserved by then: the member must hear "on its way", not "nothing charged"."""
    service = await harness.start()
    update_fields = harness.storage.tasks.update_fields

    async def failing(task_id: int, **fields: Any) -> Task:
        if "status_message_id" in fields:
            raise StorageError("the disk is full")
        return await update_fields(task_id, **fields)

    harness.storage.tasks.update_fields = failing  # type: ignore[method-assign]
    task = await service.request(harness.request())
    assert task.status_message_id is not None  # the card was posted; only recording it failed
    assert (await harness.wait_final(task.id)).state is TaskState.DELIVERED
    assert await harness.ledger(task.id) == ["reserve", "charge"]


async def test_only_cards_whose_queue_position_moved_are_refreshed(harness: Harness) -> None:
    service = harness.new_service()  # not started: every task stays queued
    mine = [await service.request(harness.request(prompt=f"clip {n}")) for n in range(3)]
    await service.cards.settle_queue_refresh()
    refreshed: list[int] = []
    update = service.deps.updater.update

    def spy(card: StatusCard, *, final: bool = False) -> None:
        refreshed.append(card.task.id)
        update(card, final=final)

    service.deps.updater.update = spy  # type: ignore[method-assign]
    await service.cards.refresh_queue()
    assert refreshed == [], "no position changed"

    # Another member's first task takes the second turn: my second and third tasks move back.
    theirs = await service.request(harness.request(user_id=OTHER_USER))
    assert service.queue_position(theirs.id) == 2
    await service.cards.settle_queue_refresh()  # the refresh runs in the background, coalesced
    assert sorted(refreshed) == [mine[1].id, mine[2].id]
    assert [service.queue_position(t.id) for t in mine] == [1, 3, 4]


class _Spy:
    """Records the cards the service hands to the updater (what would be edited)."""

    def __init__(self, service: VideoService) -> None:
        self.cards: list[StatusCard] = []
        update = service.deps.updater.update

        def spy(card: StatusCard, *, final: bool = False) -> None:
            self.cards.append(card)
            update(card, final=final)

        service.deps.updater.update = spy  # type: ignore[method-assign]

    def take(self) -> list[StatusCard]:
        cards, self.cards = self.cards, []
        return cards


async def test_a_queue_move_edits_only_the_front_cards_not_every_waiting_one(harness: Harness) -> None:
    """With 50 queued, one pop used to edit 49 cards (1,999 with 2,000: an edit storm)."""
    service = harness.new_service(default_quota_tenths=1_000_000, minimax_rpm=5)  # not started
    now = [1_800_000_000.0]
    service.deps.clock = lambda: now[0]
    users = [USER + n for n in range(50)]  # one task each: the fair order is the request order
    tasks = [await service.request(harness.request(user_id=u, prompt=f"clip {u}")) for u in users]
    await service.cards.settle_queue_refresh()
    front, back = harness.notifier.cards[:10], harness.notifier.cards[10:]
    assert [c.queue_position for c in front] == list(range(1, 11)) and not any(c.in_line for c in front)
    assert all(c.queue_position is None and c.in_line and c.eta is not None for c in back)
    spy = _Spy(service)

    now[0] += 12.0  # MINIMAX_RPM=5: the queue moves every 12 s, as the cards foresaw
    assert service.deps.queue.pop_nowait() is not None
    service.cards.request_queue_refresh()
    await service.cards.settle_queue_refresh()
    edited = spy.take()
    assert [c.task.id for c in edited] == [t.id for t in tasks[1:11]]
    assert [c.queue_position for c in edited] == list(range(1, 11))  # #11 came to the front

    # A newcomer joins at the back (every member has one task): no card moves.
    newcomer = await service.request(harness.request(user_id=OTHER_USER, prompt="new"))
    await service.cards.settle_queue_refresh()
    assert service.queue_position(newcomer.id) == 50
    assert len(spy.take()) == 0, "it is 50th: nothing in front of anyone moved"

    # The queue stalls for an hour: the "in line" estimates are refreshed, once.
    now[0] += 3600.0
    service.cards.request_queue_refresh()
    await service.cards.settle_queue_refresh()
    stale = spy.take()
    assert stale and all(c.in_line for c in stale)
    service.cards.request_queue_refresh()
    await service.cards.settle_queue_refresh()
    assert spy.take() == []


async def test_a_newcomers_fair_turn_moves_only_the_front_cards_behind_it(harness: Harness) -> None:
    service = harness.new_service(default_quota_tenths=1_000_000, minimax_rpm=5)  # not started
    mine = [await service.request(harness.request(prompt=f"clip {n}")) for n in range(30)]
    await service.cards.settle_queue_refresh()
    spy = _Spy(service)
    theirs = await service.request(harness.request(user_id=OTHER_USER))
    await service.cards.settle_queue_refresh()
    assert service.queue_position(theirs.id) == 2
    edited = spy.take()
    assert sorted(c.task.id for c in edited) == [t.id for t in mine[1:10]]
    assert [c.queue_position for c in edited if c.queue_position] == list(range(3, 11))
    assert [c.task.id for c in edited if c.in_line] == [mine[9].id]  # #10 went back past the front
