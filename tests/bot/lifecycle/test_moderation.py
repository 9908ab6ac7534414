"""The moderation service on plain values: the gate, a few of its rules, and the shared stuck rule.

The `/videoadmin` cog tests (tests/cogs/test_admin*.py) exercise every command end to end; these
show that the rules hold without Discord, given only ids.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Secret, Settings
from bot.lifecycle.actor import Actor
from bot.lifecycle.moderation import (
    STUCK,
    ChannelRef,
    MemberRef,
    ModerationRefused,
    ModerationService,
    PolicyEdit,
    RoleRef,
)
from storage import Storage, TaskState
from tests.builders import new_task_of

NOW = 1_710_504_000.0  # 2024-03-15 12:00 UTC
GUILD, OTHER_GUILD = 1000, 2000
OWNER, MODERATOR, MEMBER = 1, 2, 3
MOD_ROLE = 200
TIMEOUT = 1200.0

MANAGER = Actor(OWNER, GUILD, manage_guild=True)
ROLE_HOLDER = Actor(MODERATOR, GUILD, role_ids=(MOD_ROLE,))


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    store = await Storage.open(tmp_path / "moderation.sqlite3", default_limit_tenths=50, default_period="day")
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def moderation(storage: Storage) -> ModerationService:
    settings = Settings(
        discord_token=Secret("discord-token"),
        minimax_api_key=Secret("minimax-key"),
        default_quota_tenths=50,
        default_quota_period="day",
        task_timeout=TIMEOUT,
    )
    return ModerationService(storage=storage, settings=settings, clock=lambda: NOW)


async def task_created(storage: Storage, at: float, state: TaskState = TaskState.QUEUED) -> int:
    new = new_task_of(
        GUILD, 500, MEMBER, "a fox", "MiniMax-Hailuo-2.3", "text", 10, duration=6, resolution="768P"
    )
    task = await storage.quota.reserve(new, now=at, default_limit_tenths=100_000)
    if state is TaskState.UNKNOWN:
        await storage.tasks.transition(task.id, TaskState.SUBMITTING, now=at)
        await storage.tasks.transition(task.id, TaskState.UNKNOWN, now=at, error_code="submit_unknown")
    elif state is TaskState.CANCELLED:
        await storage.tasks.transition(task.id, TaskState.CANCELLED, now=at, error_code="cancelled")
    return task.id


async def test_the_gate_is_the_one_moderator_rule(storage: Storage, moderation: ModerationService) -> None:
    with pytest.raises(ModerationRefused, match="only inside a server"):
        await moderation.authorize(Actor(OWNER, None, manage_guild=True))
    with pytest.raises(ModerationRefused, match="You need the Manage Server permission to use"):
        await moderation.authorize(ROLE_HOLDER)  # no moderator role configured yet
    mod = await moderation.authorize(MANAGER)
    await moderation.policy(mod, PolicyEdit(moderator_role=RoleRef(MOD_ROLE, GUILD)))

    assert (await moderation.authorize(ROLE_HOLDER)).guild_id == GUILD
    with pytest.raises(ModerationRefused, match=f"or the <@&{MOD_ROLE}> role"):
        await moderation.authorize(Actor(MEMBER, GUILD, role_ids=(MOD_ROLE + 1,)))


async def test_only_manage_server_changes_the_moderator_role(moderation: ModerationService) -> None:
    mod = await moderation.authorize(MANAGER)
    await moderation.policy(mod, PolicyEdit(moderator_role=RoleRef(MOD_ROLE, GUILD)))
    by_role = await moderation.authorize(ROLE_HOLDER)
    with pytest.raises(ModerationRefused, match="Only members with the Manage Server permission"):
        await moderation.policy(by_role, PolicyEdit(remove_moderator_role=True))
    with pytest.raises(ModerationRefused, match="@everyone cannot be the moderator role"):
        await moderation.policy(mod, PolicyEdit(moderator_role=RoleRef(GUILD, GUILD)))


async def test_members_roles_and_channels_of_another_server_are_refused(
    storage: Storage, moderation: ModerationService
) -> None:
    mod = await moderation.authorize(MANAGER)
    with pytest.raises(ModerationRefused, match="That member is not in this server"):
        await moderation.set_override(mod, MemberRef(MEMBER, OTHER_GUILD), 5, None)
    with pytest.raises(ModerationRefused, match="That role does not exist in this server"):
        await moderation.set_role_limit(mod, RoleRef(MOD_ROLE, OTHER_GUILD), 5)
    with pytest.raises(ModerationRefused, match="That channel is not in this server"):
        await moderation.allow_channel(mod, ChannelRef(500, OTHER_GUILD, is_text=True))
    assert await storage.audit.count(GUILD) == 0


async def test_denying_the_last_allowed_channel_needs_consent(
    storage: Storage, moderation: ModerationService
) -> None:
    mod = await moderation.authorize(MANAGER)
    await moderation.allow_channel(mod, ChannelRef(500, GUILD, is_text=True))
    with pytest.raises(ModerationRefused, match="only channel on the allow-list"):
        await moderation.deny_channel(mod, ChannelRef(500, GUILD, is_text=True), open_other_channels=False)
    answer = await moderation.deny_channel(
        mod, ChannelRef(500, GUILD, is_text=True), open_other_channels=True
    )
    assert answer.change.after is False
    assert (await storage.policy.channel_rules(GUILD)).allowed == ()


async def test_stuck_is_the_pollers_own_time_out(storage: Storage, moderation: ModerationService) -> None:
    at_time_out = await task_created(storage, NOW - TIMEOUT)
    just_before = await task_created(storage, NOW - TIMEOUT + 1)
    fresh_unknown = await task_created(storage, NOW - 5, TaskState.UNKNOWN)
    old_cancelled = await task_created(storage, NOW - 10 * TIMEOUT, TaskState.CANCELLED)
    for task_id in (at_time_out, just_before, fresh_unknown, old_cancelled):
        task = await storage.tasks.get(task_id)
        # The poller gives a task up exactly when moderators see it as stuck (unknown ones aside).
        if task.state is TaskState.QUEUED:
            assert moderation.is_stuck(task) is moderation.timing.timed_out(task, now=NOW)

    mod = await moderation.authorize(MANAGER)
    page = await moderation.task_page(mod, user_id=None, state=STUCK, page=0, page_size=10)
    assert [t.id for t in page.items] == [fresh_unknown, at_time_out]
    assert (page.page, page.pages, page.total) == (0, 1, 2)
