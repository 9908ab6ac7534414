"""Takes delivered together (``variations``): one card, one reply, each take charged or refunded alone.

Through the real service, the fake MiniMax and the recording notifier: a group of 3 where one take
fails delivers the other 2 in one reply (and lists the failed one), charges exactly those 2; a group
whose takes all fail is refunded whole and says so once; a restart between the reply and its record
posts nothing twice; the takes that do not fit one message together go in consecutive replies.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.lifecycle import RequestRefused, kept_for_member
from bot.lifecycle.groups import all_failed_message, pack
from storage import Task, TaskState
from tests.builders import make_new_task, sent_spec
from tests.fakes.lifecycle_harness import GUILD, USER, Harness, lifecycle_harness
from tests.fakes.recording_notifier import PostedResult

FINAL = (TaskState.DELIVERED, TaskState.FAILED, TaskState.CANCELLED)


async def wait_posted(harness: Harness, group_id: int, within: float = 20.0) -> list[Task]:
    """Poll storage until the group's reply is recorded (or fail after ``within`` seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        takes = await harness.storage.tasks.group(group_id)
        if takes[0].group_posted_at is not None:
            return takes
        if loop.time() > deadline:
            raise AssertionError(f"group {group_id}'s reply was not recorded: {[t.state for t in takes]}")
        await asyncio.sleep(0.005)


async def test_a_group_of_three_with_one_failure_delivers_two_in_one_reply(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        harness.fake.next_task()
        harness.fake.fail_next_task()
        harness.fake.next_task()
        service = await harness.start()
        first = await service.request(harness.request(takes=3))
        takes = await harness.storage.tasks.group(first.id)
        assert [t.take for t in takes] == [1, 2, 3]
        await wait_posted(harness, first.id)

        states = [(await harness.storage.tasks.get(t.id)).state for t in takes]
        assert states == [TaskState.DELIVERED, TaskState.FAILED, TaskState.DELIVERED]
        (reply,) = harness.notifier.group_replies
        assert [p.task_id for p in reply.takes] == [takes[0].id, takes[2].id]
        assert [p.filename for p in reply.takes] == ["take-1.mp4", "take-3.mp4"]
        assert all(p.data for p in reply.takes)
        assert reply.failed == (takes[1].id,)
        assert reply.part == (1, 1)
        assert [await harness.ledger(t.id) for t in takes] == [
            ["reserve", "charge"],
            ["reserve", "refund"],
            ["reserve", "charge"],
        ]
        usage = await harness.storage.quota.usage(takes[0].guild_id, takes[0].user_id)
        assert usage.used_tenths == 2 * takes[0].cost_tenths
        # One card for the group (no card of its own for takes 2 and 3), and no notice per take.
        assert [c.task.id for c in harness.notifier.cards] == [first.id]
        assert harness.notifier.failures == []
        stored = await harness.storage.tasks.group(first.id)
        assert stored[0].group_posted_at is not None
        assert {t.status_message_id for t in stored} == {first.status_message_id}
        last = harness.notifier.last_edit(first.id)
        assert last is not None and [t.state for t in last.takes] == states


async def test_a_group_whose_takes_all_fail_is_refunded_and_told_once(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        harness.fake.fail_next_task()
        harness.fake.fail_next_task()
        service = await harness.start()
        first = await service.request(harness.request(takes=2))
        takes = await harness.storage.tasks.group(first.id)
        await wait_posted(harness, first.id)
        assert [(await harness.storage.tasks.get(t.id)).state for t in takes] == [TaskState.FAILED] * 2
        assert harness.notifier.failures == [(first.id, all_failed_message(takes))]
        assert harness.notifier.group_replies == []
        assert [await harness.ledger(t.id) for t in takes] == [["reserve", "refund"]] * 2
        assert (await harness.storage.tasks.get(first.id)).group_posted_at is not None


async def test_variations_of_one_is_a_video_alone(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        service = await harness.start()
        task = await service.request(harness.request(takes=1))
        done = await harness.wait_final(task.id)
        assert done.state is TaskState.DELIVERED and done.group_id is None
        assert harness.notifier.group_replies == []
        (posted,) = harness.notifier.results_for(task.id)
        assert posted.filename == f"hailuo-{task.id}.mp4"


@pytest.mark.parametrize("takes", [0, 5])
async def test_a_bad_number_of_takes_is_refused_with_nothing_reserved(tmp_path: Path, takes: int) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        service = harness.new_service()
        with pytest.raises(RequestRefused, match="variations"):
            await service.request(harness.request(takes=takes))
        assert await harness.storage.tasks.count_for_guild(harness.request().guild_id) == 0


async def test_a_group_over_the_in_flight_cap_is_refused_whole(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path, max_queued_per_member=2) as harness:
        service = harness.new_service()
        with pytest.raises(RequestRefused, match="3 takes"):
            await service.request(harness.request(takes=3))
        assert await harness.storage.tasks.count_for_guild(harness.request().guild_id) == 0


async def test_takes_too_big_together_go_in_consecutive_replies(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        harness.notifier.default_upload_limit = 100_000  # one 64 KiB take fits, two do not
        service = await harness.start()
        first = await service.request(harness.request(takes=3))
        stored = await wait_posted(harness, first.id)
        replies = harness.notifier.group_replies
        assert [r.part for r in replies] == [(1, 3), (2, 3), (3, 3)]
        assert [[p.filename for p in r.takes] for r in replies] == [
            ["take-1.mp4"],
            ["take-2.mp4"],
            ["take-3.mp4"],
        ]
        assert all(p.data for r in replies for p in r.takes)
        assert [t.result_message_id for t in stored] == [r.message_id for r in replies]
        assert all(t.state is TaskState.DELIVERED for t in stored)


async def test_a_group_reply_refused_as_too_large_is_split_smaller_not_turned_into_links(
    tmp_path: Path,
) -> None:
    """Discord's limit is lower than the server reported (a 413, error 40005): the limit is lowered
    and the takes packed again, as a single result is re-fitted; every take still arrives as a file."""
    async with lifecycle_harness(tmp_path) as harness:
        harness.notifier.default_upload_limit = 1_000_000  # what the server says
        harness.notifier.accepts_bytes = 100_000  # what Discord takes: one 64 KiB take per message
        service = await harness.start()
        first = await service.request(harness.request(takes=3))
        stored = await wait_posted(harness, first.id)
        replies = harness.notifier.group_replies
        assert harness.notifier.too_large, "the first reply was refused"
        assert [r.part for r in replies] == [(1, 3), (2, 3), (3, 3)]
        assert all(p.data and p.link is None for r in replies for p in r.takes), "files, not links"
        assert all(t.state is TaskState.DELIVERED for t in stored)
        for take in stored:
            assert await harness.ledger(take.id) == ["reserve", "charge"]


async def test_a_private_group_with_closed_dms_is_kept_with_one_pickup_line(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        await harness.storage.policy.update(GUILD, actor_id=1, results_public=False)
        harness.notifier.dm_closed.add(USER)
        service = await harness.start()
        first = await service.request(harness.request(takes=3))
        stored = await wait_posted(harness, first.id)
        assert all(t.state is TaskState.DELIVERED and kept_for_member(t) for t in stored)
        for take in stored:
            assert await harness.ledger(take.id) == ["reserve", "charge"], "kept, so charged"
        await harness.notifier.wait_for(lambda: len(harness.notifier.pickups) >= 1)
        assert harness.notifier.pickups == [first.id], "one line for the group, not one per take"


def test_pack_fills_each_message_up_to_the_limit_in_take_order() -> None:
    assert pack([40, 40, 40], 100) == [[0, 1], [2]]
    assert pack([100, 1], 100) == [[0], [1]]
    assert pack([None, 60, None, 60], 100) == [[0, 1, 2], [3]]
    assert pack([1] * 12, 100) == [list(range(10)), [10, 11]]
    assert pack([], 100) == []


async def stop_at_the_reply(harness: Harness) -> list[Task]:
    """A group of 2 whose service stops while posting its reply: both takes ``delivering``."""
    gate = harness.notifier.post_gate = asyncio.Event()
    service = await harness.start()
    first = await service.request(harness.request(takes=2))
    await harness.notifier.wait_for(lambda: f"post_result:{first.id}" in harness.notifier.calls, 20)
    await harness.stop()
    harness.notifier.post_gate = None
    gate.set()
    takes = await harness.storage.tasks.group(first.id)
    assert [t.state for t in takes] == [TaskState.DELIVERING] * 2
    assert harness.notifier.group_replies == []
    return takes


async def test_a_group_stopped_mid_reply_resumes_after_a_restart(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        takes = await stop_at_the_reply(harness)
        await harness.start()
        stored = await wait_posted(harness, takes[0].id)
        (reply,) = harness.notifier.group_replies
        assert [p.filename for p in reply.takes] == ["take-1.mp4", "take-2.mp4"]
        assert [t.state for t in stored] == [TaskState.DELIVERED] * 2
        assert [await harness.ledger(t.id) for t in takes] == [["reserve", "charge"]] * 2


async def test_a_reply_posted_but_not_recorded_is_not_posted_again(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        takes = await stop_at_the_reply(harness)
        # As if the reply went out just before the stop: the channel has it, storage does not.
        for take in takes:
            harness.notifier.results.append(PostedResult(777, take.id, False, b"x", None, None, "take.mp4"))
        await harness.start()
        stored = await wait_posted(harness, takes[0].id)
        assert harness.notifier.group_replies == []
        assert [t.result_message_id for t in stored] == [777, 777]
        assert [await harness.ledger(t.id) for t in takes] == [["reserve", "charge"]] * 2


async def test_takes_whose_downloads_are_refused_fail_alone_and_the_group_says_so(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        harness.fake.download_body = b"<html><body>Sign in to continue</body></html>"  # not a video
        service = await harness.start()
        first = await service.request(harness.request(takes=2))
        takes = await wait_posted(harness, first.id)
        assert [t.state for t in takes] == [TaskState.FAILED] * 2
        assert [t.error_code for t in takes] == [takes[0].error_code] * 2 and takes[0].error_code
        assert harness.notifier.failures == [(first.id, all_failed_message(takes))]
        assert harness.notifier.group_replies == []
        assert [await harness.ledger(t.id) for t in takes] == [["reserve", "refund"]] * 2
        assert harness.fake.counts["download"] == 2, "refused for good: no second attempt"


async def test_a_take_ready_after_its_groups_reply_is_delivered_alone(tmp_path: Path) -> None:
    """Another process held it when the reply went out (its lease, taken over now)."""
    async with lifecycle_harness(tmp_path) as harness:
        storage = harness.storage
        first, second = await storage.quota.reserve_group(make_new_task(prompt="a tram"), takes=2)
        await storage.tasks.transition(first.id, TaskState.FAILED, error_code="x")
        await storage.tasks.transition(second.id, TaskState.SUBMITTING, attempts=1)
        api_id = await harness.client.submit(
            sent_spec(model="MiniMax-Hailuo-2.3", prompt="a tram", duration=6, resolution="768P")
        )
        await storage.tasks.transition(second.id, TaskState.SUBMITTED, api_task_id=api_id)
        harness.fake.finish_all()
        info = await harness.client.query(api_id)
        await storage.tasks.transition(second.id, TaskState.DOWNLOADING, file_id=info.file_id)
        await storage.tasks.deliver_group(first.id, {})  # the reply went out without it

        await harness.start()
        done = await harness.wait_final(second.id)

        assert done.state is TaskState.DELIVERED
        (posted,) = harness.notifier.results_for(second.id)
        assert posted.data and harness.notifier.group_replies == []
        assert await harness.ledger(second.id) == ["reserve", "charge"]


async def test_a_take_a_moderator_closes_lets_the_others_arrive(tmp_path: Path) -> None:
    """A take that never finishes holds its group's reply until it is over: a moderator failing it
    (and refunding it) sends the reply with the takes that are done."""
    async with lifecycle_harness(tmp_path) as harness:
        harness.fake.next_task()
        harness.fake.never_finish_next_task()
        service = await harness.start()
        first = await service.request(harness.request(takes=2))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while True:
            takes = await harness.storage.tasks.group(first.id)
            states = {t.state for t in takes}
            if TaskState.DOWNLOADING in states and states & {TaskState.SUBMITTED, TaskState.PROCESSING}:
                break
            assert loop.time() < deadline, states
            await asyncio.sleep(0.005)
        assert harness.notifier.group_replies == [], "the done take waits for the other"
        done = next(t for t in takes if t.state is TaskState.DOWNLOADING)
        stuck = next(t for t in takes if t.id != done.id)
        failed = await harness.storage.tasks.transition(stuck.id, TaskState.FAILED, error_code="stuck")
        await service.refresh_card(failed, note="closed by a moderator")
        stored = await wait_posted(harness, first.id)
        (reply,) = harness.notifier.group_replies
        assert [p.task_id for p in reply.takes] == [done.id] and reply.failed == (stuck.id,)
        assert {t.id: t.state for t in stored} == {done.id: TaskState.DELIVERED, stuck.id: TaskState.FAILED}
        assert await harness.ledger(done.id) == ["reserve", "charge"]
        assert await harness.ledger(stuck.id) == ["reserve", "refund"]


async def test_a_group_queued_before_a_restart_resumes_with_its_one_card(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        first = await harness.new_service().request(harness.request(takes=3))  # never started
        assert [c.task.id for c in harness.notifier.cards] == [first.id]
        await harness.start()  # as after a restart: every take is found queued
        stored = await wait_posted(harness, first.id)
        assert [t.state for t in stored] == [TaskState.DELIVERED] * 3
        (reply,) = harness.notifier.group_replies
        assert [p.filename for p in reply.takes] == ["take-1.mp4", "take-2.mp4", "take-3.mp4"]
        assert [c.task.id for c in harness.notifier.cards] == [first.id], "no card of their own"
        await harness.notifier.wait_for(
            lambda: (
                (card := harness.notifier.last_edit(first.id)) is not None
                and len(card.takes) == 3
                and all(t.state is TaskState.DELIVERED for t in card.takes)
            )
        )
        assert {c.task.id for c in harness.notifier.edits} == {first.id}, "every edit is the group's card"


async def test_a_reply_that_can_never_be_posted_refunds_every_take(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        harness.notifier.fail_posts = 1000  # Discord takes nothing
        service = await harness.start()
        first = await service.request(harness.request(takes=2))
        takes = await wait_posted(harness, first.id)
        assert [t.state for t in takes] == [TaskState.FAILED] * 2
        assert [t.error_code for t in takes] == ["delivery_failed"] * 2
        assert [await harness.ledger(t.id) for t in takes] == [["reserve", "refund"]] * 2
        assert harness.notifier.failures == [(first.id, all_failed_message(takes))]


@pytest.mark.parametrize("takes", [0, 5, True])
async def test_takes_outside_one_to_four_are_refused_in_the_members_language(
    harness: Harness, takes: int
) -> None:
    service = await harness.start()
    with pytest.raises(RequestRefused, match="`variations` must be a whole number from 1 to 4") as refused:
        await service.request(harness.request(takes=takes))
    assert refused.value.text("fr") == (
        f"`variations` doit être un nombre entier de 1 à 4 (reçu : {takes!r}). Rien n'a été facturé."
    )
    assert await harness.storage.tasks.list_for_guild(GUILD) == []
