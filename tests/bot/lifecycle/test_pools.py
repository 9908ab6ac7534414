"""Team credit pools through the services: a moderator makes them, members spend from them.

The moderation rules (what a moderator may make, change and delete; every change audited) and the
member's side (which pool pays, what a refusal says, what `/video quota` lists) on plain values, with
the real storage and, for the videos, the fake MiniMax.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Secret, Settings
from bot.lifecycle import RequestRefused, Whereabouts
from bot.lifecycle.actor import Actor
from bot.lifecycle.moderation import ChannelRef, ModerationRefused, ModerationService, RoleRef
from bot.lifecycle.refusal import RefusalReason
from storage import Storage, TaskState
from tests.fakes.lifecycle_harness import CHANNEL, GUILD, USER, Harness

NOW = 1_710_504_000.0  # 2024-03-15 12:00 UTC
OWNER = 1
TEAM_ROLE, OTHER_ROLE = 700, 701
MANAGER = Actor(OWNER, GUILD, manage_guild=True)


def settings() -> Settings:
    return Settings(
        discord_token=Secret("discord-token"),
        minimax_api_key=Secret("minimax-key"),
        default_quota_tenths=50,
        default_quota_period="day",
    )


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    store = await Storage.open(tmp_path / "pools.sqlite3", default_limit_tenths=50, default_period="day")
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def moderation(storage: Storage) -> ModerationService:
    return ModerationService(storage=storage, settings=settings(), clock=lambda: NOW)


# ---------------------------------------------------------------------------------- moderation


async def test_a_moderator_makes_changes_and_deletes_a_pool_audited(moderation: ModerationService) -> None:
    mod = await moderation.authorize(MANAGER)
    made = await moderation.create_pool(mod, " Design ", 20, "week", role=RoleRef(TEAM_ROLE, GUILD))
    assert made.after is not None and made.after.name == "design"  # folded to the stored spelling
    assert made.after.credits_tenths == 200
    changed = await moderation.set_pool(
        mod, "design", credits=12.5, channel=ChannelRef(CHANNEL, GUILD, is_text=True)
    )
    assert changed.after is not None
    assert (changed.after.credits_tenths, changed.after.channel_id) == (125, CHANNEL)
    cleared = await moderation.set_pool(mod, "design", clear="role")
    assert cleared.after is not None and cleared.after.role_id is None
    shown = await moderation.pool(mod, "DESIGN")
    assert (shown.pool.name, shown.remaining_tenths) == ("design", 125)
    assert [u.pool.name for u in await moderation.pools(mod)] == ["design"]
    deleted = await moderation.delete_pool(mod, "design")
    assert deleted.after is None and deleted.audit_id is not None
    assert await moderation.pools(mod) == []
    audit = await moderation.storage.audit.list(GUILD)
    assert [e.action for e in reversed(audit)] == ["pool.create", "pool.set", "pool.set", "pool.delete"]
    assert all(e.actor_id == OWNER for e in audit)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"name": "design team"}, "lowercase letters"),
        ({"role": None}, "Name a `role` or a `channel`"),
        ({"role": RoleRef(GUILD, GUILD)}, "cannot be for @everyone"),
        ({"role": RoleRef(TEAM_ROLE, GUILD + 1)}, "does not exist in this server"),
        ({"channel": ChannelRef(CHANNEL, GUILD, is_text=False)}, "text channel"),
        ({"credits": -1}, "cannot be negative"),
        ({"credits": 1.25}, "at most one decimal"),
        ({"period": "year"}, "day, week or month"),
    ],
)
async def test_bad_pools_are_refused_and_nothing_is_written(
    moderation: ModerationService, kwargs: dict[str, object], fragment: str
) -> None:
    mod = await moderation.authorize(MANAGER)
    values: dict[str, object] = {"name": "design", "credits": 20, "period": "week"}
    values.update(kwargs)
    role = values.pop("role", RoleRef(TEAM_ROLE, GUILD))
    channel = values.pop("channel", None)
    with pytest.raises(ModerationRefused, match=fragment) as refused:
        await moderation.create_pool(mod, role=role, channel=channel, **values)  # type: ignore[arg-type]
    assert "Nothing was changed" in refused.value.message or "lowercase" in refused.value.message
    assert await moderation.pools(mod) == []
    assert await moderation.storage.audit.list(GUILD) == []


async def test_duplicates_unknown_names_and_a_pool_for_no_one_are_refused(
    moderation: ModerationService,
) -> None:
    mod = await moderation.authorize(MANAGER)
    await moderation.create_pool(mod, "design", 20, "week", role=RoleRef(TEAM_ROLE, GUILD))
    with pytest.raises(ModerationRefused, match="already a pool called `design`"):
        await moderation.create_pool(mod, "design", 5, "day", role=RoleRef(TEAM_ROLE, GUILD))
    with pytest.raises(ModerationRefused, match="no pool called `nope`"):
        await moderation.set_pool(mod, "nope", credits=1)
    with pytest.raises(ModerationRefused, match="no pool called `nope`"):
        await moderation.delete_pool(mod, "nope")
    with pytest.raises(ModerationRefused, match="for no one"):
        await moderation.set_pool(mod, "design", clear="role")
    with pytest.raises(ModerationRefused, match="not both"):
        await moderation.set_pool(mod, "design", role=RoleRef(OTHER_ROLE, GUILD), clear="role")
    assert len(await moderation.storage.audit.list(GUILD)) == 1


async def test_only_a_moderator_may_manage_pools(moderation: ModerationService) -> None:
    with pytest.raises(ModerationRefused, match="Manage Server"):
        await moderation.authorize(Actor(5, GUILD, role_ids=(TEAM_ROLE,)))


# ---------------------------------------------------------------------------------- members


async def make_pool(harness: Harness, name: str = "team", credits: float = 3, **where: object) -> None:
    moderation = ModerationService(storage=harness.storage, settings=harness.settings)
    mod = await moderation.authorize(MANAGER)
    role = where.get("role", TEAM_ROLE)
    channel = where.get("channel")
    await moderation.create_pool(
        mod,
        name,
        credits,
        "week",
        role=None if role is None else RoleRef(int(role), GUILD),  # type: ignore[call-overload]
        channel=None if channel is None else ChannelRef(int(channel), GUILD, is_text=True),  # type: ignore[call-overload]
    )


async def test_a_named_pool_pays_is_charged_on_delivery_and_named_on_the_card(harness: Harness) -> None:
    await make_pool(harness)
    service = await harness.start()
    task = await service.request(harness.request(role_ids=(TEAM_ROLE,), pool="team"))
    assert task.pool_name == "team"
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.DELIVERED
    assert await harness.ledger(task.id) == ["reserve", "charge"]
    usage = await harness.storage.pools.get(GUILD, "team")
    assert usage is not None and usage.used_tenths == task.cost_tenths
    quota = await service.quota(GUILD, USER, (TEAM_ROLE,))
    assert quota.usage.used_tenths == 0  # the member's own credits were not touched
    assert [(p.pool.name, p.remaining_tenths) for p in quota.pools] == [("team", 30 - task.cost_tenths)]
    assert harness.notifier.cards and all(c.task.pool_name == "team" for c in harness.notifier.cards)


async def test_a_failed_pool_video_is_refunded_to_the_pool(harness: Harness) -> None:
    await make_pool(harness)
    harness.fake.inject("submit", 2013, message="invalid params")
    service = await harness.start()
    task = await service.request(harness.request(role_ids=(TEAM_ROLE,), pool="team"))
    done = await harness.wait_final(task.id)
    assert done.state is TaskState.FAILED
    assert await harness.ledger(task.id) == ["reserve", "refund"]
    usage = await harness.storage.pools.get(GUILD, "team")
    assert usage is not None and usage.used_tenths == 0


async def test_a_pool_the_member_may_not_use_is_a_clear_refusal(harness: Harness) -> None:
    await make_pool(harness)
    service = harness.new_service()
    with pytest.raises(RequestRefused, match="is for members with <@&700>") as refused:
        await service.request(harness.request(role_ids=(OTHER_ROLE,), pool="team"))
    assert refused.value.reason is RefusalReason.POOL
    assert "Nothing was charged" in refused.value.message
    with pytest.raises(RequestRefused, match="no pool called `ghost`"):
        await service.request(harness.request(role_ids=(TEAM_ROLE,), pool="ghost"))
    assert await harness.storage.tasks.list_for_guild(GUILD) == []


async def test_an_exhausted_pool_says_what_is_left_and_when_it_renews(harness: Harness) -> None:
    await make_pool(harness, credits=1)
    service = harness.new_service()
    await service.request(harness.request(role_ids=(TEAM_ROLE,), pool="team"))
    with pytest.raises(RequestRefused, match="The pool `team` doesn't have enough left") as refused:
        await service.request(harness.request(role_ids=(TEAM_ROLE,), pool="team"))
    assert "<t:" in refused.value.message and refused.value.reason is RefusalReason.POOL


async def test_personal_credits_first_then_the_pool(harness: Harness) -> None:
    await make_pool(harness, credits=2)
    service = harness.new_service()  # 5 personal credits a day; each video costs 1
    paid = [
        (await service.request(harness.request(role_ids=(TEAM_ROLE,), prompt=f"fox {i}"))).pool_name
        for i in range(7)
    ]
    assert paid == [None] * 5 + ["team", "team"]
    with pytest.raises(RequestRefused, match=r"Your pools here \(`team`\) don't have enough left either"):
        await service.request(harness.request(role_ids=(TEAM_ROLE,)))


async def test_a_channel_pool_serves_its_threads_and_a_default_pool_comes_first(harness: Harness) -> None:
    await make_pool(harness, "room", role=None, channel=CHANNEL)
    service = harness.new_service()
    in_thread = Whereabouts(GUILD, USER, (), channel_id=9999, parent_channel_id=CHANNEL)
    assert [u.pool.name for u in await service.usable_pools(in_thread)] == ["room"]
    elsewhere = Whereabouts(GUILD, USER, (), channel_id=8888)
    assert await service.usable_pools(elsewhere) == []
    with pytest.raises(RequestRefused, match="can't spend from a pool called `room`"):
        await service.set_default_pool(elsewhere, "room")
    assert (await service.set_default_pool(in_thread, "room")) is not None
    task = await service.request(harness.request(channel_id=9999, parent_channel_id=CHANNEL))
    assert task.pool_name == "room"  # the default pool, before the member's own credits
    quota = await service.quota(GUILD, USER, (), channel_id=9999, parent_channel_id=CHANNEL)
    assert quota.default_pool == "room"
    away = await service.request(harness.request(channel_id=8888))
    assert away.pool_name is None  # outside its channel the pool is not theirs: own credits
    assert (await service.quota(GUILD, USER, (), channel_id=8888)).default_pool is None
    assert await service.set_default_pool(in_thread, None) is None
    assert await service.default_pool(in_thread) is None
