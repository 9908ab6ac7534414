"""Cancel, regenerate, quota exhaustion, guild rules and fairness, through the service."""

from __future__ import annotations

import pytest

from bot.lifecycle import Actor, RequestRefused
from storage import TaskState
from tests.builders import image as attached_image
from tests.fakes.image_host import png_bytes
from tests.fakes.lifecycle_harness import CHANNEL, GUILD, OTHER_USER, USER, Harness

OWNER = Actor(user_id=USER, guild_id=GUILD)
STRANGER = Actor(user_id=OTHER_USER, guild_id=GUILD)


async def test_cancel_a_queued_task_refunds_and_never_submits(harness: Harness) -> None:
    service = harness.new_service()  # not started: the task stays queued
    task = await service.request(harness.request())
    assert service.queue_position(task.id) == 1
    with pytest.raises(RequestRefused, match="not one of yours"):
        await service.cancel(task.id, STRANGER)
    cancelled = await service.cancel(task.id, OWNER)
    assert cancelled.state is TaskState.CANCELLED
    assert await harness.ledger(task.id) == ["reserve", "refund"]
    assert service.queue_position(task.id) is None
    await service.start()
    harness.service = service
    other = await service.request(harness.request(prompt="after the cancel"))
    await harness.wait_final(other.id)
    assert [b["prompt"] for b in harness.fake.submissions] == ["after the cancel"]


async def test_cancel_is_refused_once_the_task_was_submitted(harness: Harness) -> None:
    service = await harness.start()
    task = await service.request(harness.request())
    done = await harness.wait_final(task.id)
    with pytest.raises(RequestRefused, match="already delivered"):
        await service.cancel(task.id, OWNER)
    assert await harness.ledger(done.id) == ["reserve", "charge"]


async def test_cancel_refused_while_running(harness: Harness) -> None:
    harness.fake.never_finish_next_task()
    service = await harness.start()
    task = await service.request(harness.request())
    await harness.wait_state(task.id, [TaskState.SUBMITTED, TaskState.PROCESSING])
    with pytest.raises(RequestRefused, match="can no longer be cancelled"):
        await service.cancel(task.id, OWNER)


async def test_regenerate_makes_a_new_task_with_the_same_options(harness: Harness) -> None:
    url = harness.images.add("dog.png", png_bytes(640, 480))
    service = await harness.start()
    first = await service.request(
        harness.request(
            model="MiniMax-Hailuo-02",
            resolution="512P",
            duration=10,
            prompt_optimizer=False,
            first_frame=attached_image(url=url, filename="dog.png", width=640, height=480),
        )
    )
    await harness.wait_final(first.id)
    with pytest.raises(RequestRefused, match="Only the member who asked"):
        await service.regenerate(first.id, STRANGER)
    again = await service.regenerate(first.id, OWNER)
    assert again.id != first.id and again.regenerated_from == first.id
    assert again.spec == first.spec and again.mode == first.mode
    assert (await harness.wait_final(again.id)).state is TaskState.DELIVERED
    assert harness.fake.submissions[0] == harness.fake.submissions[1]
    assert await harness.ledger(again.id) == ["reserve", "charge"]


async def test_moderators_may_regenerate_for_others(harness: Harness) -> None:
    await harness.storage.policy.update(GUILD, actor_id=1, moderator_role_id=77)
    service = await harness.start()
    first = await service.request(harness.request())
    await harness.wait_final(first.id)
    by_role = await service.regenerate(first.id, Actor(OTHER_USER, GUILD, role_ids=(77,)))
    by_perm = await service.regenerate(first.id, Actor(OTHER_USER, GUILD, manage_guild=True))
    assert by_role.user_id == OTHER_USER == by_perm.user_id, "the new reservation is the moderator's"


async def test_quota_exhaustion_refuses_with_the_reset_time_and_reserves_nothing(harness: Harness) -> None:
    service = harness.new_service()
    # 50 tenths by default; a 768P 10 s video costs 20.
    for _ in range(2):
        await service.request(harness.request(duration=10))
    with pytest.raises(RequestRefused) as refused:
        await service.request(harness.request(duration=10))
    text = refused.value.message
    assert "costs 2" in text and "1 of 5 left" in text and "<t:" in text and "/video quota" in text
    assert await harness.storage.tasks.count_for_user(GUILD, USER) == 2
    # The cheaper option still fits.
    await service.request(harness.request(duration=6))
    quota = await service.quota(GUILD, USER)
    assert quota.usage.used_tenths == 50
    assert ("MiniMax-Hailuo-2.3", "text", ("768P", 6), 10) in [
        (m, md.value, c, p) for m, md, c, p in quota.prices
    ]


async def test_guild_rules_refuse_before_anything_is_reserved(harness: Harness) -> None:
    service = harness.new_service()
    storage = harness.storage
    await storage.policy.add_filter(GUILD, "forbidden", actor_id=1)
    with pytest.raises(RequestRefused, match="prompt filter"):
        await service.request(harness.request(prompt="a f\u200bоrbidden dance"))  # zero-width + Cyrillic о
    await storage.policy.allow_channel(GUILD, 999, actor_id=1)
    with pytest.raises(RequestRefused, match=r"can't be made in this channel.*<#999>"):
        await service.request(harness.request())
    await storage.policy.allow_channel(GUILD, CHANNEL, actor_id=1)
    await storage.limits.block(GUILD, USER, "spam", actor_id=1)
    with pytest.raises(RequestRefused, match=r"blocked.*spam"):
        await service.request(harness.request())
    await storage.limits.unblock(GUILD, USER, actor_id=1)
    await storage.policy.pause(GUILD, "maintenance", actor_id=1)
    with pytest.raises(RequestRefused, match=r"paused.*maintenance"):
        await service.request(harness.request())
    await storage.policy.resume(GUILD, actor_id=1)
    await storage.policy.update(
        GUILD, actor_id=1, allowed_models=["MiniMax-Hailuo-02"], max_resolution="768P"
    )
    with pytest.raises(RequestRefused, match=r"does not allow MiniMax-Hailuo-2.3"):
        await service.request(harness.request(model="MiniMax-Hailuo-2.3"))
    with pytest.raises(RequestRefused, match="up to 768P"):
        await service.request(harness.request(resolution="1080P"))
    assert await storage.tasks.count_for_user(GUILD, USER) == 0
    allowed = await service.request(harness.request())
    assert allowed.model == "MiniMax-Hailuo-02", "the default model follows the guild's allowed list"


async def test_guild_cap_refuses(harness: Harness) -> None:
    await harness.storage.policy.update(GUILD, actor_id=1, cap_tenths=15)
    service = harness.new_service()
    await service.request(harness.request())
    with pytest.raises(RequestRefused, match="server has used its video budget"):
        await service.request(harness.request(user_id=OTHER_USER))


async def test_paused_guild_keeps_its_queue_waiting(harness: Harness) -> None:
    service = harness.new_service()
    task = await service.request(harness.request())
    await harness.storage.policy.pause(GUILD, "wait", actor_id=1)
    harness.service = service
    await service.start()
    other = await service.request(harness.request(guild_id=GUILD + 1, prompt="another guild"))
    await harness.wait_final(other.id)
    assert (await harness.storage.tasks.get(task.id)).state is TaskState.QUEUED
    await harness.storage.policy.resume(GUILD, actor_id=1)
    service.policy_changed(GUILD)
    assert (await harness.wait_final(task.id)).state is TaskState.DELIVERED


async def test_fair_queue_interleaves_members(harness: Harness) -> None:
    service = harness.new_service(submit_concurrency=1)
    for n in range(3):
        await service.request(harness.request(prompt=f"alice {n}"))
    await service.request(harness.request(user_id=OTHER_USER, prompt="bob 0"))
    order = [e.task_id for e in service.deps.queue.order()]
    assert order == [1, 4, 2, 3]
    # The queued card shows the position.
    assert harness.notifier.cards[-1].queue_position == 2
    harness.service = service
    await service.start()
    for task_id in order:
        await harness.wait_final(task_id)
    assert [b["prompt"] for b in harness.fake.submissions] == ["alice 0", "bob 0", "alice 1", "alice 2"]


async def test_preferences_are_validated_and_used(harness: Harness) -> None:
    service = harness.new_service()
    with pytest.raises(RequestRefused, match="no model called"):
        await service.update_preferences(USER, model="nope")
    prefs = await service.update_preferences(
        USER, model="MiniMax-Hailuo-02", duration=10, prompt_optimizer=False
    )
    assert (prefs.defaults.model, prefs.defaults.duration, prefs.defaults.prompt_optimizer) == (
        "MiniMax-Hailuo-02",
        10,
        False,
    )
    task = await service.request(harness.request())
    assert (task.model, task.spec.duration, task.spec.resolution, task.spec.prompt_optimizer) == (
        "MiniMax-Hailuo-02",
        10,
        "768P",
        False,
    )
    cleared = await service.update_preferences(USER, model=None)
    assert cleared.defaults.model is None and cleared.defaults.duration == 10


async def test_cancel_a_sent_h3_task_still_queued_at_the_api_refunds_it(harness: Harness) -> None:
    """V2 lets a queued task be cancelled (and does not bill it): the bot asks, then refunds.
    Checked failing before: the cancel was refused as "already sent"."""
    from tests.bot.lifecycle.test_h3_lifecycle import h3_request, roomy

    await roomy(harness)
    harness.fake.next_task(queueing=3600.0)  # stays queued at the API for the whole test
    service = await harness.start()
    task = await service.request(h3_request(duration=4, resolution="768P"))
    sent = await harness.wait_state(task.id, [TaskState.SUBMITTED, TaskState.PROCESSING])
    cancelled = await service.cancel(task.id, OWNER)
    assert cancelled.state is TaskState.FAILED and cancelled.error_code == "cancelled"
    assert await harness.ledger(task.id) == ["reserve", "refund"]
    assert harness.fake.task_status(sent.api_task_id or "") == "Cancelled"
    assert any(r.method == "DELETE" for r in harness.fake.requests)
    assert harness.notifier.failures_for(task.id) == [], "the reply is the notice"


async def test_cancel_a_running_h3_task_is_refused_and_nothing_is_deleted(harness: Harness) -> None:
    from tests.bot.lifecycle.test_h3_lifecycle import h3_request, roomy

    await roomy(harness)
    harness.fake.next_task(preparing=0.0, queueing=0.0, never_finish=True)
    service = await harness.start()
    task = await service.request(h3_request(duration=4, resolution="768P"))
    await harness.wait_state(task.id, [TaskState.SUBMITTED, TaskState.PROCESSING])
    with pytest.raises(RequestRefused, match="already being made"):
        await service.cancel(task.id, OWNER)
    assert not any(r.method == "DELETE" for r in harness.fake.requests)
    assert await harness.ledger(task.id) == ["reserve"]


async def test_cancel_a_sent_v1_task_keeps_todays_refusal(harness: Harness) -> None:
    harness.fake.next_task(queueing=3600.0)
    service = await harness.start()
    task = await service.request(harness.request())
    await harness.wait_state(task.id, [TaskState.SUBMITTED, TaskState.PROCESSING])
    with pytest.raises(RequestRefused, match="can no longer be cancelled"):
        await service.cancel(task.id, OWNER)
    assert not any(r.method == "DELETE" for r in harness.fake.requests)
