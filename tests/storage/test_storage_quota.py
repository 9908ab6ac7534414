"""Reservation rules: precedence of limits, blocks, pause, the guild cap, refunds and grants."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from storage import (
    GuildCapReached,
    GuildPaused,
    IllegalTransition,
    InvalidValue,
    QuotaExceeded,
    Storage,
    TaskState,
    UserBlocked,
)

T0 = datetime(2024, 5, 15, 12, 0, tzinfo=UTC).timestamp()
NEXT_DAY = datetime(2024, 5, 16, 0, 0, tzinfo=UTC).timestamp()
GUILD, USER, OTHER, MOD = 1000, 3000, 3001, 99
ROLE_SMALL, ROLE_BIG, ROLE_NONE = 501, 502, 503


async def task_count(store: Storage) -> int:
    return await store.tasks.count_for_guild(GUILD)


async def test_env_default_then_guild_default(store: Storage, make_task) -> None:
    usage = await store.quota.usage(GUILD, USER, now=T0)
    assert (usage.limit_tenths, usage.period, usage.source, usage.used_tenths) == (50, "day", "default", 0)
    await store.limits.set_guild_default(GUILD, 30, "week", actor_id=MOD, now=T0)
    usage = await store.quota.usage(GUILD, USER, now=T0)
    assert (usage.limit_tenths, usage.period, usage.source) == (30, "week", "guild")
    assert usage.period_start == datetime(2024, 5, 13, tzinfo=UTC).timestamp()  # Monday
    assert usage.resets_at == datetime(2024, 5, 20, tzinfo=UTC).timestamp()
    # The per-call default overrides the configured one, but not a guild's own default.
    other_guild = await store.quota.usage(
        GUILD + 1, USER, now=T0, default_limit_tenths=70, default_period="month"
    )
    assert (other_guild.limit_tenths, other_guild.period, other_guild.source) == (70, "month", "default")


async def test_highest_role_wins_over_guild_default(store: Storage, make_task) -> None:
    await store.limits.set_guild_default(GUILD, 10, "day", actor_id=MOD, now=T0)
    await store.limits.set_role_limit(GUILD, ROLE_SMALL, 20, actor_id=MOD, now=T0)
    await store.limits.set_role_limit(GUILD, ROLE_BIG, 40, actor_id=MOD, now=T0)

    roles = [ROLE_NONE, ROLE_SMALL, ROLE_BIG]
    usage = await store.quota.usage(GUILD, USER, role_ids=roles, now=T0)
    assert (usage.limit_tenths, usage.source) == (40, "role")
    assert (await store.quota.usage(GUILD, USER, role_ids=[ROLE_SMALL], now=T0)).limit_tenths == 20
    # A role without a limit falls through to the guild default.
    assert (await store.quota.usage(GUILD, USER, role_ids=[ROLE_NONE], now=T0)).source == "guild"
    # A role limit *lower* than the guild default still applies: roles come before the default.
    await store.limits.set_role_limit(GUILD, ROLE_NONE, 5, actor_id=MOD, now=T0)
    assert (await store.quota.usage(GUILD, USER, role_ids=[ROLE_NONE], now=T0)).limit_tenths == 5

    for _ in range(4):
        await store.quota.reserve(make_task(cost_tenths=10), role_ids=roles, now=T0)
    with pytest.raises(QuotaExceeded) as caught:
        await store.quota.reserve(make_task(cost_tenths=10), role_ids=roles, now=T0)
    assert (caught.value.used_tenths, caught.value.limit_tenths, caught.value.cost_tenths) == (40, 40, 10)
    assert (caught.value.period, caught.value.resets_at) == ("day", NEXT_DAY)

    await store.limits.clear_role_limit(GUILD, ROLE_BIG, actor_id=MOD, now=T0)
    assert (await store.quota.usage(GUILD, USER, role_ids=roles, now=T0)).limit_tenths == 20


async def test_override_beats_roles_and_can_set_its_own_period(store: Storage, make_task) -> None:
    await store.limits.set_guild_default(GUILD, 10, "day", actor_id=MOD, now=T0)
    await store.limits.set_role_limit(GUILD, ROLE_BIG, 100, actor_id=MOD, now=T0)
    await store.limits.set_override(GUILD, USER, 20, actor_id=MOD, now=T0)

    usage = await store.quota.usage(GUILD, USER, role_ids=[ROLE_BIG], now=T0)
    assert (usage.limit_tenths, usage.period, usage.source) == (20, "day", "override")
    await store.quota.reserve(make_task(cost_tenths=20), role_ids=[ROLE_BIG], now=T0)
    with pytest.raises(QuotaExceeded):
        await store.quota.reserve(make_task(cost_tenths=1), role_ids=[ROLE_BIG], now=T0)

    # A monthly override: yesterday's spending still counts, so the member is still out of credits.
    await store.limits.set_override(GUILD, USER, 25, "month", actor_id=MOD, now=T0)
    usage = await store.quota.usage(GUILD, USER, role_ids=[ROLE_BIG], now=NEXT_DAY)
    assert (usage.used_tenths, usage.limit_tenths, usage.period) == (20, 25, "month")
    with pytest.raises(QuotaExceeded):
        await store.quota.reserve(make_task(cost_tenths=6), role_ids=[ROLE_BIG], now=NEXT_DAY)

    # Clearing the override hands the member back to their role.
    await store.limits.clear_override(GUILD, USER, actor_id=MOD, now=T0)
    assert (await store.quota.usage(GUILD, USER, role_ids=[ROLE_BIG], now=T0)).source == "role"
    await store.quota.reserve(make_task(cost_tenths=6), role_ids=[ROLE_BIG], now=T0)


async def test_override_of_zero_refuses_everything_but_free_tasks(store: Storage, make_task) -> None:
    await store.limits.set_override(GUILD, USER, 0, actor_id=MOD, now=T0)
    with pytest.raises(QuotaExceeded):
        await store.quota.reserve(make_task(cost_tenths=1), now=T0)
    assert (await store.quota.reserve(make_task(cost_tenths=0), now=T0)).state is TaskState.QUEUED


async def test_blocked_user_is_refused_and_nothing_is_written(store: Storage, make_task) -> None:
    await store.limits.block(GUILD, USER, "spamming prompts", actor_id=MOD, now=T0)
    assert await store.limits.is_blocked(GUILD, USER)
    with pytest.raises(UserBlocked) as caught:
        await store.quota.reserve(make_task(), now=T0)
    assert caught.value.reason == "spamming prompts"
    assert "spamming prompts" in str(caught.value)
    assert await task_count(store) == 0
    assert (await store.quota.usage(GUILD, USER, now=T0)).used_tenths == 0
    # Other members and other guilds are unaffected.
    await store.quota.reserve(make_task(user_id=OTHER), now=T0)
    await store.quota.reserve(make_task(guild_id=GUILD + 1), now=T0)

    await store.limits.unblock(GUILD, USER, actor_id=MOD, now=T0)
    assert not await store.limits.is_blocked(GUILD, USER)
    await store.quota.reserve(make_task(), now=T0)


async def test_paused_guild_refuses_with_reason(store: Storage, make_task) -> None:
    await store.policy.pause(GUILD, "maintenance", actor_id=MOD, now=T0)
    with pytest.raises(GuildPaused, match="maintenance"):
        await store.quota.reserve(make_task(), now=T0)
    await store.policy.resume(GUILD, actor_id=MOD, now=T0)
    await store.quota.reserve(make_task(), now=T0)


async def test_guild_cap_counts_every_member_and_frees_on_refund(store: Storage, make_task) -> None:
    await store.limits.set_guild_default(GUILD, 100, "day", actor_id=MOD, now=T0)
    await store.policy.update(GUILD, cap_tenths=25, actor_id=MOD, now=T0)
    first = await store.quota.reserve(make_task(user_id=USER, cost_tenths=10), now=T0)
    await store.quota.reserve(make_task(user_id=OTHER, cost_tenths=10), now=T0)
    with pytest.raises(GuildCapReached) as caught:
        await store.quota.reserve(make_task(user_id=OTHER + 1, cost_tenths=10), now=T0)
    assert (caught.value.used_tenths, caught.value.cap_tenths, caught.value.resets_at) == (20, 25, NEXT_DAY)
    assert await task_count(store) == 2
    # A cheaper request still fits under the cap.
    await store.quota.reserve(make_task(user_id=OTHER + 1, cost_tenths=5), now=T0)
    assert (await store.quota.guild_usage(GUILD, now=T0)).used_tenths == 25

    await store.tasks.transition(first.id, TaskState.CANCELLED, now=T0)
    usage = await store.quota.guild_usage(GUILD, now=T0)
    assert (usage.used_tenths, usage.cap_tenths) == (15, 25)
    await store.quota.reserve(make_task(user_id=OTHER + 2, cost_tenths=10), now=T0)
    # The cap resets with the guild's period.
    assert (await store.quota.guild_usage(GUILD, now=NEXT_DAY)).used_tenths == 0


async def test_refund_happens_exactly_once(store: Storage, make_task) -> None:
    task = await store.quota.reserve(make_task(cost_tenths=30), now=T0)
    with pytest.raises(IllegalTransition):
        await store.quota.refund(task.id, now=T0)  # still queued: nothing to give back yet
    await store.tasks.transition(task.id, TaskState.SUBMITTING, now=T0)
    await store.tasks.transition(task.id, TaskState.FAILED, now=T0, error_code="api_1002")

    results = await asyncio.gather(*(store.quota.refund(task.id, now=T0) for _ in range(20)))
    assert results == [False] * 20  # the transition already refunded
    entries = await store.quota.entries_for_task(task.id)
    assert [(e.kind, e.tenths) for e in entries] == [("reserve", 30), ("refund", 30)]
    assert (await store.quota.usage(GUILD, USER, now=T0)).used_tenths == 0
    with pytest.raises(IllegalTransition):
        await store.tasks.transition(task.id, TaskState.FAILED, now=T0)


async def test_refund_repairs_a_failed_task_missing_its_refund(store: Storage, make_task) -> None:
    task = await store.quota.reserve(make_task(cost_tenths=30), now=T0)
    await store.tasks.transition(task.id, TaskState.CANCELLED, now=T0)
    async with store.db.transaction() as conn:  # simulate a ledger written by an older, buggy build
        await conn.execute("DELETE FROM ledger WHERE kind = 'refund'")
    assert (await store.quota.usage(GUILD, USER, now=T0)).used_tenths == 30
    assert (
        await asyncio.gather(*(store.quota.refund(task.id, now=T0) for _ in range(5))) == [True] + [False] * 4
    )
    assert (await store.quota.usage(GUILD, USER, now=T0)).used_tenths == 0


async def test_delivered_task_is_charged_and_never_refunded(store: Storage, make_task) -> None:
    task = await store.quota.reserve(make_task(cost_tenths=18), now=T0)
    for state in ("submitting", "submitted", "downloading", "delivering", "delivered"):
        task = await store.tasks.transition(task.id, state, now=T0)
    assert [e.kind for e in await store.quota.entries_for_task(task.id)] == ["reserve", "charge"]
    with pytest.raises(IllegalTransition):
        await store.quota.refund(task.id)
    usage = await store.quota.usage(GUILD, USER, now=T0)
    assert (usage.used_tenths, usage.pending_tenths) == (18, 0)


async def test_grant_fresh_allowance_forgives_this_period_only(store: Storage, make_task) -> None:
    await store.limits.set_guild_default(GUILD, 20, "day", actor_id=MOD, now=T0)
    await store.policy.update(GUILD, cap_tenths=1000, actor_id=MOD, now=T0)
    pending = await store.quota.reserve(make_task(cost_tenths=10), now=T0)
    done = await store.quota.reserve(make_task(cost_tenths=10), now=T0)
    for state in ("submitting", "submitted", "downloading", "delivering", "delivered"):
        await store.tasks.transition(done.id, state, now=T0)
    with pytest.raises(QuotaExceeded):
        await store.quota.reserve(make_task(cost_tenths=10), now=T0)

    change = await store.quota.grant_fresh_allowance(GUILD, USER, actor_id=MOD, now=T0 + 1)
    assert (change.before, change.after) == (20, 0)
    assert (await store.quota.usage(GUILD, USER, now=T0 + 1)).used_tenths == 0
    # The pending task failing afterwards gives nothing extra: its credits were already forgiven.
    await store.tasks.transition(pending.id, TaskState.FAILED, now=T0 + 2)
    assert (await store.quota.usage(GUILD, USER, now=T0 + 2)).used_tenths == 0
    await store.quota.reserve(make_task(cost_tenths=10), now=T0 + 3)
    await store.quota.reserve(make_task(cost_tenths=10), now=T0 + 3)
    with pytest.raises(QuotaExceeded):
        await store.quota.reserve(make_task(cost_tenths=1), now=T0 + 3)
    # Real spending still counts against the guild cap: 10 delivered + 20 new reservations.
    assert (await store.quota.guild_usage(GUILD, now=T0 + 3)).used_tenths == 30
    [entry] = await store.audit.list(GUILD, target_user=USER, actor=MOD)
    assert (entry.action, entry.before, entry.after) == (
        "quota.grant",
        {"used_tenths": 20, "period": "day"},
        {"used_tenths": 0, "period": "day"},
    )


async def test_direct_messages_use_the_operator_default(store: Storage, make_task) -> None:
    task = await store.quota.reserve(make_task(guild_id=None, cost_tenths=50), now=T0)
    assert task.guild_id is None
    with pytest.raises(QuotaExceeded):
        await store.quota.reserve(make_task(guild_id=None, cost_tenths=1), now=T0)
    # Usage in DMs and in a guild are separate.
    assert (await store.quota.usage(GUILD, USER, now=T0)).used_tenths == 0
    assert (await store.quota.usage(None, USER, now=T0)).used_tenths == 50


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"prompt": "x" * 7001}, "prompt"),  # the longest any model takes is 7000 (H3)
        ({"prompt": "   "}, "prompt"),
        ({"cost_tenths": -1}, "cost"),
        ({"cost_tenths": 10_000_001}, "cost"),
        ({"duration": 0}, "duration"),
        ({"first_frame_url": "https://cdn/" + "a" * 5000}, "first_frame_url"),
        ({"regenerated_from": 12345}, "regenerated_from"),
        ({"upload_limit": 0}, "upload_limit"),
    ],
)
async def test_bad_requests_are_refused_with_a_typed_error(
    store: Storage, make_task, overrides, field
) -> None:
    with pytest.raises(InvalidValue) as caught:
        await store.quota.reserve(make_task(**overrides), now=T0)
    assert caught.value.field == field
    assert await task_count(store) == 0


async def test_prompt_at_the_limit_is_accepted(store: Storage, make_task) -> None:
    task = await store.quota.reserve(make_task(prompt="é" * 2000), now=T0)
    assert task.prompt == "é" * 2000


async def test_every_spec_option_is_stored_and_read_back(store: Storage, make_task) -> None:
    new = make_task(
        ratio="9:16", fast_pretreatment=True, prompt_optimizer=False, first_frame_url="https://cdn/a.png"
    )
    task = await store.quota.reserve(new, now=T0)
    assert task.spec == (await store.tasks.get(task.id)).spec
    assert (task.spec.ratio, task.spec.fast, task.spec.prompt_optimizer) == ("9:16", True, False)
    assert task.spec.first_frame is not None and task.spec.first_frame.url == "https://cdn/a.png"
    assert task.mode == "image"


async def test_regeneration_links_to_its_source(store: Storage, make_task) -> None:
    source = await store.quota.reserve(make_task(), now=T0)
    again = await store.quota.reserve(make_task(regenerated_from=source.id, deliver_by_dm=True), now=T0)
    assert (again.regenerated_from, again.deliver_by_dm) == (source.id, True)


async def test_the_upload_limit_at_request_time_is_stored(store: Storage, make_task) -> None:
    task = await store.quota.reserve(make_task(upload_limit=25 * 1024 * 1024), now=T0)
    assert (await store.tasks.get(task.id)).upload_limit == 25 * 1024 * 1024
    assert (await store.quota.reserve(make_task(), now=T0)).upload_limit is None


async def test_a_remix_records_its_original_and_refuses_an_unknown_one(store: Storage, make_task) -> None:
    from storage.models import Edit

    source = await store.quota.reserve(make_task(), now=T0)
    remix = await store.quota.reserve(make_task(edit=Edit(source.id, "remix", USER, 77)), now=T0)
    assert (await store.tasks.get(remix.id)).edit == Edit(source.id, "remix", USER, 77)
    assert source.edit is None
    for bad, field in (
        (Edit(12345, "remix", USER, None), "edit_of"),
        (Edit(source.id, "x", USER, None), "edit_kind"),
    ):
        with pytest.raises(InvalidValue) as caught:
            await store.quota.reserve(make_task(edit=bad), now=T0)
        assert caught.value.field == field
