"""Roles are read from what Discord sent about the member, not only from the guild's role cache."""

from __future__ import annotations

from bot.lifecycle.actor import is_moderator
from cogs.permissions import actor_from, has_role, member_role_ids
from tests.cogs.admin_fakes import (
    GUILD_ID,
    MOD_ROLE,
    VIP_ROLE,
    FakeInteraction,
    make_guild,
    make_member,
    make_user,
)

NEW_ROLE = 424242  # made a moment ago: not in the cached guild yet


def test_a_role_missing_from_the_cache_still_counts() -> None:
    guild = make_guild()
    assert guild.get_role(NEW_ROLE) is None
    member = make_member(guild, 5, VIP_ROLE, NEW_ROLE)
    assert [role.id for role in member.roles if not role.is_default()] == [VIP_ROLE]  # the cache's view
    assert member_role_ids(member, GUILD_ID) == [VIP_ROLE, NEW_ROLE]
    assert has_role(member, NEW_ROLE)
    assert is_moderator(actor_from(FakeInteraction(member, guild=guild)), NEW_ROLE)  # type: ignore[arg-type]
    other = FakeInteraction(make_member(guild, 6, VIP_ROLE), guild=guild)
    assert not is_moderator(actor_from(other), NEW_ROLE)  # type: ignore[arg-type]


def test_everyone_and_plain_users_have_no_roles() -> None:
    guild = make_guild()
    assert member_role_ids(make_member(guild, 5, GUILD_ID, MOD_ROLE), GUILD_ID) == [MOD_ROLE]
    assert member_role_ids(make_user(7), None) == []
