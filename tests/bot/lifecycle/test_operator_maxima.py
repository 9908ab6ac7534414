"""MAX_MEMBER_CREDITS and MAX_GUILD_CAP_CREDITS: what one server's moderators may grant or spend.

A moderator of a server the operator does not know must not be able to hand members thousands of
credits of the operator's balance; a refusal names the maximum and nothing is written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.lifecycle.actor import Actor
from bot.lifecycle.moderation import MemberRef, ModerationRefused, ModerationService, PolicyEdit, RoleRef
from storage import GuildCapReached, Storage
from tests.builders import make_new_task, make_settings

NOW = 1_710_504_000.0
GUILD, MEMBER, ROLE = 1000, 3, 300
MANAGER = Actor(1, GUILD, manage_guild=True)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    store = await Storage.open(tmp_path / "maxima.sqlite3", default_limit_tenths=50, default_period="day")
    try:
        yield store
    finally:
        await store.close()


def service(storage: Storage, **settings: object) -> ModerationService:
    return ModerationService(storage=storage, settings=make_settings(**settings), clock=lambda: NOW)


async def test_member_grants_above_the_operator_maximum_are_refused(storage: Storage) -> None:
    moderation = service(storage, max_member_credits_tenths=125)  # MAX_MEMBER_CREDITS=12.5
    mod = await moderation.authorize(MANAGER)
    member = MemberRef(MEMBER, GUILD)
    attempts = [
        lambda: moderation.set_override(mod, member, "12.6", None),
        lambda: moderation.set_role_limit(mod, RoleRef(ROLE, GUILD), 100),
        lambda: moderation.set_guild_default(mod, 13, "day"),
    ]
    for attempt in attempts:
        with pytest.raises(ModerationRefused) as refused:
            await attempt()
        assert "at most 12.5 credits" in refused.value.message and "operator" in refused.value.message
    assert await storage.limits.override(GUILD, MEMBER) is None
    assert await storage.limits.role_limits(GUILD) == []
    assert await storage.limits.guild_default(GUILD) is None
    # At the maximum is fine.
    await moderation.set_override(mod, member, "12.5", None)
    await moderation.set_role_limit(mod, RoleRef(ROLE, GUILD), 12.5)
    await moderation.set_guild_default(mod, 12.5, "week")


async def test_the_cap_maximum_is_enforced_when_set_and_caps_servers_without_one(storage: Storage) -> None:
    moderation = service(storage, max_guild_cap_credits_tenths=20)  # MAX_GUILD_CAP_CREDITS=2
    mod = await moderation.authorize(MANAGER)
    for cap in ("2.5", "none", "0"):
        with pytest.raises(ModerationRefused, match="at most 2 credits"):
            await moderation.policy(mod, PolicyEdit(cap=cap))
    assert (await storage.policy.get(GUILD)).cap_tenths is None
    await moderation.policy(mod, PolicyEdit(cap="1.5"))
    assert (await storage.policy.get(GUILD)).cap_tenths == 15

    # A server that never set a cap is held to the operator's maximum when reserving.
    other = GUILD + 1
    for user in (1, 2):
        await storage.quota.reserve(
            make_new_task(guild_id=other, user_id=user), now=NOW, max_guild_cap_tenths=20
        )
    with pytest.raises(GuildCapReached) as refused:
        await storage.quota.reserve(
            make_new_task(guild_id=other, user_id=3), now=NOW, max_guild_cap_tenths=20
        )
    assert refused.value.cap_tenths == 20
    usage = await storage.quota.guild_usage(other, now=NOW, max_guild_cap_tenths=20)
    assert (usage.used_tenths, usage.cap_tenths) == (20, 20)


async def test_without_operator_maxima_the_commands_own_bounds_apply(storage: Storage) -> None:
    moderation = service(storage)
    mod = await moderation.authorize(MANAGER)
    await moderation.set_override(mod, MemberRef(MEMBER, GUILD), 10_000, None)
    await moderation.policy(mod, PolicyEdit(cap="none"))
    with pytest.raises(ModerationRefused, match="at most 10,000 credits"):
        await moderation.set_override(mod, MemberRef(MEMBER, GUILD), 10_001, None)
