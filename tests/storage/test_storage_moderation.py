"""Moderator settings: each change validated, returned as before → after, and audited atomically."""

from __future__ import annotations

import pytest

import storage.audit
from bot.spec import VideoSpec
from storage import (
    Block,
    ChannelRules,
    GuildDefault,
    GuildPolicy,
    InvalidValue,
    RoleLimit,
    Storage,
    UserOverride,
    UserPrefs,
)

T0 = 1_715_774_400.0
GUILD, OTHER_GUILD, USER, OTHER, MOD, MOD2 = 1000, 1001, 3000, 3001, 99, 98


async def test_every_change_returns_before_after_and_is_audited(store: Storage) -> None:
    first = await store.limits.set_guild_default(GUILD, 50, "day", actor_id=MOD, now=T0)
    second = await store.limits.set_guild_default(GUILD, 80, "week", actor_id=MOD2, now=T0 + 1)
    assert (first.before, first.after) == (None, GuildDefault(50, "day"))
    assert (second.before, second.after) == (GuildDefault(50, "day"), GuildDefault(80, "week"))
    await store.limits.set_role_limit(GUILD, 7, 30, actor_id=MOD, now=T0 + 2)
    await store.limits.set_override(GUILD, USER, 100, "month", actor_id=MOD, now=T0 + 3)
    await store.limits.block(GUILD, OTHER, "rude", actor_id=MOD2, now=T0 + 4)

    entries = await store.audit.list(GUILD)
    assert [(e.action, e.actor_id, e.target, e.target_user_id) for e in entries] == [
        ("block", MOD2, f"user:{OTHER}", OTHER),
        ("quota.set", MOD, f"user:{USER}", USER),
        ("quota.role", MOD, "role:7", None),
        ("quota.default", MOD2, "guild", None),
        ("quota.default", MOD, "guild", None),
    ]
    assert entries[3].before == {"credits_tenths": 50, "period": "day"}
    assert entries[3].after == {"credits_tenths": 80, "period": "week"}
    assert entries[3].created_at == T0 + 1
    assert entries[3].id == second.audit_id
    assert [e.action for e in await store.audit.list(GUILD, target_user=USER)] == ["quota.set"]
    assert [e.action for e in await store.audit.list(GUILD, actor=MOD2)] == ["block", "quota.default"]
    assert [e.action for e in await store.audit.list(GUILD, limit=2, offset=1)] == ["quota.set", "quota.role"]
    assert await store.audit.count(GUILD) == 5
    assert await store.audit.list(OTHER_GUILD) == []


async def test_a_change_and_its_audit_row_commit_together(store: Storage, monkeypatch) -> None:
    async def broken_record(*args, **kwargs):
        raise RuntimeError("disk full while auditing")

    monkeypatch.setattr(storage.audit, "record", broken_record)
    with pytest.raises(RuntimeError):
        await store.limits.set_override(GUILD, USER, 100, actor_id=MOD, now=T0)
    with pytest.raises(RuntimeError):
        await store.policy.pause(GUILD, "x", actor_id=MOD, now=T0)
    monkeypatch.undo()
    assert await store.limits.override(GUILD, USER) is None
    assert (await store.policy.get(GUILD)).paused is False
    assert await store.audit.list(GUILD) == []


async def test_a_change_that_changes_nothing_is_not_logged(store: Storage) -> None:
    assert (await store.limits.clear_override(GUILD, USER, actor_id=MOD)).audit_id is None
    await store.limits.set_role_limit(GUILD, 7, 30, actor_id=MOD)
    repeat = await store.limits.set_role_limit(GUILD, 7, 30, actor_id=MOD)
    assert (repeat.before, repeat.after, repeat.audit_id) == (RoleLimit(7, 30), RoleLimit(7, 30), None)
    assert await store.audit.count(GUILD) == 1


async def test_role_limits_and_overrides_are_listed(store: Storage) -> None:
    await store.limits.set_role_limit(GUILD, 7, 30, actor_id=MOD)
    await store.limits.set_role_limit(GUILD, 8, 60, actor_id=MOD)
    await store.limits.set_role_limit(OTHER_GUILD, 9, 10, actor_id=MOD)
    assert await store.limits.role_limits(GUILD) == [RoleLimit(8, 60), RoleLimit(7, 30)]
    cleared = await store.limits.clear_role_limit(GUILD, 8, actor_id=MOD)
    assert (cleared.before, cleared.after) == (RoleLimit(8, 60), None)
    assert await store.limits.role_limits(GUILD) == [RoleLimit(7, 30)]

    await store.limits.set_override(GUILD, OTHER, 5, actor_id=MOD)
    await store.limits.set_override(GUILD, USER, 15, "week", actor_id=MOD)
    assert await store.limits.overrides(GUILD) == [
        UserOverride(USER, 15, "week"),
        UserOverride(OTHER, 5, None),
    ]
    assert await store.limits.override(GUILD, USER) == UserOverride(USER, 15, "week")


async def test_blocks_keep_reason_author_and_time(store: Storage) -> None:
    change = await store.limits.block(GUILD, USER, "spam", actor_id=MOD, now=T0)
    assert change.after == Block(USER, "spam", MOD, T0)
    await store.limits.block(GUILD, OTHER, None, actor_id=MOD2, now=T0 + 1)
    assert await store.limits.blocks(GUILD) == [
        Block(USER, "spam", MOD, T0),
        Block(OTHER, None, MOD2, T0 + 1),
    ]
    assert await store.limits.blocked(GUILD, USER) == Block(USER, "spam", MOD, T0)
    assert not await store.limits.is_blocked(OTHER_GUILD, USER)
    unblocked = await store.limits.unblock(GUILD, USER, actor_id=MOD, now=T0 + 2)
    assert (unblocked.before, unblocked.after) == (Block(USER, "spam", MOD, T0), None)
    assert [b.user_id for b in await store.limits.blocks(GUILD)] == [OTHER]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: s.limits.set_guild_default(GUILD, -1, "day", actor_id=MOD), "credits"),
        (lambda s: s.limits.set_guild_default(GUILD, 10_000_001, "day", actor_id=MOD), "credits"),
        (lambda s: s.limits.set_guild_default(GUILD, 10, "year", actor_id=MOD), "period"),
        (lambda s: s.limits.set_role_limit(GUILD, 7, -5, actor_id=MOD), "credits"),
        (lambda s: s.limits.set_override(GUILD, USER, 1.5, actor_id=MOD), "credits"),
        (lambda s: s.limits.set_override(GUILD, USER, 10, "hour", actor_id=MOD), "period"),
        (lambda s: s.limits.block(GUILD, USER, "r" * 501, actor_id=MOD), "reason"),
        (lambda s: s.policy.pause(GUILD, "r" * 501, actor_id=MOD), "reason"),
        (lambda s: s.policy.update(GUILD, cap_tenths=-1, actor_id=MOD), "cap"),
        (lambda s: s.policy.update(GUILD, max_duration=0, actor_id=MOD), "max_duration"),
        (
            lambda s: s.policy.update(GUILD, allowed_models="MiniMax-Hailuo-02", actor_id=MOD),
            "allowed_models",
        ),
        (lambda s: s.policy.update(GUILD, results_public="yes", actor_id=MOD), "results_public"),
        (lambda s: s.policy.add_filter(GUILD, "w" * 201, actor_id=MOD), "pattern"),
        (lambda s: s.policy.add_filter(GUILD, "   ", actor_id=MOD), "pattern"),
        (lambda s: s.policy.add_filter(GUILD, "(unclosed", is_regex=True, actor_id=MOD), "pattern"),
        (lambda s: s.prefs.set(USER, UserPrefs(VideoSpec("", duration=-6))), "duration"),
        (lambda s: s.prefs.set(USER, UserPrefs(dm_results="yes")), "dm_results"),
        (lambda s: s.audit.list(GUILD, limit=-1), "limit"),
    ],
)
async def test_bad_values_are_refused_and_change_nothing(store: Storage, call, field: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        await call(store)
    assert caught.value.field == field
    assert str(caught.value).startswith(field)
    assert await store.audit.count(GUILD) == 0
    assert await store.limits.guild_default(GUILD) is None
    assert await store.policy.get(GUILD) == GuildPolicy()
    assert await store.policy.filters(GUILD) == []
    assert await store.prefs.get(USER) == UserPrefs()


async def test_an_absurd_limit_message_names_the_maximum(store: Storage) -> None:
    with pytest.raises(InvalidValue, match="at most 1,000,000 credits"):
        await store.limits.set_override(GUILD, USER, 10_000_001, actor_id=MOD)
    change = await store.limits.set_override(GUILD, USER, 10_000_000, actor_id=MOD)
    assert change.after == UserOverride(USER, 10_000_000, None)


async def test_policy_defaults_updates_and_pause(store: Storage) -> None:
    assert await store.policy.get(GUILD) == GuildPolicy(results_public=True, paused=False)
    change = await store.policy.update(
        GUILD,
        allowed_models=["MiniMax-Hailuo-02", "T2V-01", "MiniMax-Hailuo-02"],
        max_resolution="768P",
        max_duration=6,
        results_public=False,
        moderator_role_id=55,
        cap_tenths=1000,
        actor_id=MOD,
        now=T0,
    )
    expected = GuildPolicy(("MiniMax-Hailuo-02", "T2V-01"), "768P", 6, False, 55, 1000, False, None)
    assert (change.before, change.after) == (GuildPolicy(), expected)
    # Naming one field leaves the others alone; None lifts a maximum.
    change = await store.policy.update(GUILD, max_duration=None, actor_id=MOD2, now=T0 + 1)
    assert change.after == GuildPolicy(
        ("MiniMax-Hailuo-02", "T2V-01"), "768P", None, False, 55, 1000, False, None
    )
    paused = await store.policy.pause(GUILD, "budget review", actor_id=MOD, now=T0 + 2)
    assert (paused.after.paused, paused.after.pause_reason, paused.after.cap_tenths) == (
        True,
        "budget review",
        1000,
    )
    resumed = await store.policy.resume(GUILD, actor_id=MOD, now=T0 + 3)
    assert (resumed.after.paused, resumed.after.pause_reason) == (False, None)
    assert await store.policy.get(GUILD) == resumed.after
    assert await store.policy.get(OTHER_GUILD) == GuildPolicy()
    entries = await store.audit.list(GUILD)
    assert [e.action for e in entries] == ["resume", "pause", "policy.update", "policy.update"]
    assert entries[-1].after["allowed_models"] == ["MiniMax-Hailuo-02", "T2V-01"]


async def test_channel_rules(store: Storage) -> None:
    assert await store.policy.channel_allowed(GUILD, 1)  # no rules: everywhere
    await store.policy.deny_channel(GUILD, 2, actor_id=MOD)
    assert await store.policy.channel_allowed(GUILD, 1)
    assert not await store.policy.channel_allowed(GUILD, 2)
    change = await store.policy.allow_channel(GUILD, 3, actor_id=MOD)
    assert (change.before, change.after) == (None, True)
    assert await store.policy.channel_allowed(GUILD, 3)
    assert not await store.policy.channel_allowed(GUILD, 1)  # an allow-list now exists
    assert await store.policy.channel_allowed(OTHER_GUILD, 1)
    rules = await store.policy.channel_rules(GUILD)
    assert rules == ChannelRules(allowed=(3,), denied=(2,))
    assert [await store.policy.channel_allowed(GUILD, c) for c in (1, 2, 3)] == [False, False, True]
    change = await store.policy.deny_channel(GUILD, 3, actor_id=MOD)
    assert (change.before, change.after) == (True, False)
    await store.policy.clear_channel(GUILD, 2, actor_id=MOD)
    await store.policy.clear_channel(GUILD, 3, actor_id=MOD)
    assert await store.policy.channel_rules(GUILD) == ChannelRules()
    assert await store.policy.channel_allowed(GUILD, 1)
    actions = [e.action for e in await store.audit.list(GUILD)]
    assert actions == ["channel.clear", "channel.clear", "channel.deny", "channel.allow", "channel.deny"]


async def test_prompt_filters(store: Storage) -> None:
    word = await store.policy.add_filter(GUILD, "  gore ", actor_id=MOD, now=T0)
    assert word.after is not None and (word.after.pattern, word.after.is_regex) == ("gore", False)
    rx = await store.policy.add_filter(GUILD, r"blood\w*", is_regex=True, actor_id=MOD2, now=T0 + 1)
    again = await store.policy.add_filter(GUILD, "gore", actor_id=MOD, now=T0 + 2)
    assert again.audit_id is None and again.after == word.after
    assert [(f.pattern, f.is_regex, f.created_by) for f in await store.policy.filters(GUILD)] == [
        ("gore", False, MOD),
        (r"blood\w*", True, MOD2),
    ]
    assert await store.policy.filters(OTHER_GUILD) == []
    assert rx.after is not None
    removed = await store.policy.remove_filter(GUILD, rx.after.id, actor_id=MOD)
    assert (removed.before, removed.after) == (rx.after, None)
    removed = await store.policy.remove_filter(GUILD, "gore", actor_id=MOD)
    assert removed.before == word.after
    assert (await store.policy.remove_filter(GUILD, "gore", actor_id=MOD)).audit_id is None
    assert await store.policy.filters(GUILD) == []
    assert [e.action for e in await store.audit.list(GUILD)] == [
        "filter.remove",
        "filter.remove",
        "filter.add",
        "filter.add",
    ]


async def test_a_full_filter_list_refuses_one_more_and_changes_nothing(store: Storage) -> None:
    from storage.policy import MAX_FILTERS_PER_GUILD

    for n in range(MAX_FILTERS_PER_GUILD):
        await store.policy.add_filter(GUILD, f"word{n}", actor_id=MOD, now=T0)
    audit_rows = len(await store.audit.list(GUILD, limit=1000))
    with pytest.raises(InvalidValue, match="full"):
        await store.policy.add_filter(GUILD, "one more", actor_id=MOD, now=T0)
    assert len(await store.policy.filters(GUILD)) == MAX_FILTERS_PER_GUILD
    assert len(await store.audit.list(GUILD, limit=1000)) == audit_rows
    assert (await store.policy.add_filter(GUILD, "word0", actor_id=MOD, now=T0)).audit_id is None  # no-op
    assert (await store.policy.add_filter(OTHER_GUILD, "one more", actor_id=MOD, now=T0)).after is not None


async def test_user_prefs_round_trip_and_are_not_audited(store: Storage) -> None:
    assert await store.prefs.get(USER) == UserPrefs()
    saved = VideoSpec("", model="MiniMax-Hailuo-02", resolution="512P", duration=10, prompt_optimizer=False)
    prefs = UserPrefs(saved, dm_results=True)
    assert await store.prefs.set(USER, prefs) == prefs
    assert await store.prefs.get(USER) == prefs
    assert await store.prefs.get(OTHER) == UserPrefs()
    await store.prefs.set(USER, UserPrefs(VideoSpec("", prompt_optimizer=True)))
    assert await store.prefs.get(USER) == UserPrefs(VideoSpec("", prompt_optimizer=True))
    assert await store.audit.count(GUILD) == 0
