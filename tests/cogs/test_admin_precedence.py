"""What moderators set with `/videoadmin` decides what members can generate with `/video generate`.

Limits, blocks, channels, the pause and the cap are set through the real `/videoadmin` callbacks;
members ask through the real `/video generate` callback, which goes through the real
:class:`VideoService` (validation, pricing, the atomic reservation) against a temporary database.
The service is not started, so accepted tasks stay queued with their credits reserved.
One 768P 6 s MiniMax-Hailuo-2.3 video costs exactly 1 credit. The service and the cog share a clock
pinned to midday UTC, so a run crossing midnight cannot split one test over two quota periods.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.lifecycle import VideoService
from cogs.admin import AdminCog
from cogs.video import VideoCog
from tests.cogs.admin_fakes import (
    CHANNEL_ID,
    MANAGER_ROLE,
    OTHER_CHANNEL_ID,
    PRO_ROLE,
    VIP_ROLE,
    FakeInteraction,
    invoke,
    make_guild,
    make_member,
    moderation,
    role,
    text_channel,
)
from tests.fakes.interactions import make_interaction
from tests.fakes.lifecycle_harness import GUILD, Harness, lifecycle_harness

NO_ROLES, VIP, VIP_AND_PRO, OVERRIDDEN, BLOCKED = 41, 42, 43, 44, 45
# Wednesday 2024-05-15 12:00 UTC: far from any day, week or month boundary.
NOON = datetime(2024, 5, 15, 12, 0, tzinfo=UTC).timestamp()


def clock() -> float:
    return NOON


Request = Callable[..., Awaitable[Any]]


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async with lifecycle_harness(tmp_path) as h:
        yield h


@pytest.fixture
def guild() -> discord.Guild:
    return make_guild(GUILD)


@pytest.fixture
def service(harness: Harness) -> VideoService:
    # Not started: tasks stay queued, so every accepted request keeps its credits reserved.
    return VideoService(
        settings=harness.settings,
        storage=harness.storage,
        client=harness.client,
        notifier=harness.notifier,
        http=harness.session,
        clock=clock,
    )


@pytest.fixture
def admin(harness: Harness, service: VideoService, guild: discord.Guild) -> Callable[..., Awaitable[str]]:
    cog = AdminCog(moderation(harness.storage, service, clock=clock))
    manager = make_member(guild, 7, MANAGER_ROLE)

    async def run(command: Any, **options: Any) -> str:
        reply = await invoke(command, cog, FakeInteraction(manager, guild=guild), **options)
        assert reply.embed is not None, reply.text()
        return reply.text()

    return run


async def request(service: VideoService, user_id: int, *roles: int, channel: int = CHANNEL_ID) -> str:
    """``"ok"`` when `/video generate` reserved a task, else the member-facing refusal."""
    client = SimpleNamespace(service=service)
    video = VideoCog(client)  # type: ignore[arg-type]
    member = make_member(make_guild(GUILD), user_id, *roles)
    interaction = make_interaction(client, user=member, guild=member.guild, channel_id=channel)
    before = await service.storage.tasks.count_for_guild(GUILD)
    await VideoCog.generate.callback(  # type: ignore[call-arg]
        video,
        interaction,
        prompt="a lighthouse at dusk, waves crashing",
        model="MiniMax-Hailuo-2.3",
        resolution="768P",
        duration=6,
    )
    answer = interaction.last
    assert answer.ephemeral
    created = await service.storage.tasks.count_for_guild(GUILD) - before
    if answer.content is not None and answer.content.startswith("🎬 Video **#"):
        assert created == 1
        return "ok"
    assert created == 0, "a refused request must reserve nothing"
    return answer.content or answer.text()


async def accepted(service: VideoService, user_id: int, *roles: int, attempts: int = 20) -> int:
    """How many 1-credit requests are accepted before the first refusal."""
    for n in range(attempts):
        outcome = await request(service, user_id, *roles)
        if outcome != "ok":
            assert "You don't have enough credits" in outcome, outcome
            return n
    raise AssertionError("never refused")


async def test_override_beats_the_best_role_which_beats_the_guild_default(
    admin: Callable[..., Awaitable[str]], service: VideoService, guild: discord.Guild
) -> None:
    await admin(AdminCog.quota_default, credits=2, period="day")
    await admin(AdminCog.quota_role, role=role(guild, VIP_ROLE), credits=3)
    await admin(AdminCog.quota_role, role=role(guild, PRO_ROLE), credits=5)
    await admin(AdminCog.quota_set, member=make_member(guild, OVERRIDDEN, PRO_ROLE), credits=1)

    assert await accepted(service, NO_ROLES) == 2  # the guild default
    assert await accepted(service, VIP, VIP_ROLE) == 3  # the role's limit
    assert await accepted(service, VIP_AND_PRO, VIP_ROLE, PRO_ROLE) == 5  # the highest of the roles
    assert await accepted(service, OVERRIDDEN, PRO_ROLE) == 1  # the override, even below the role

    # A fresh allowance forgives what the member used, within the same limit.
    await admin(AdminCog.quota_reset, member=make_member(guild, NO_ROLES), mode="fresh-allowance")
    assert await accepted(service, NO_ROLES) == 2
    # Clearing the override puts the member back on their best role.
    await admin(AdminCog.quota_reset, member=make_member(guild, OVERRIDDEN), mode="clear-override")
    assert await accepted(service, OVERRIDDEN, PRO_ROLE) == 4  # 5 from the role, 1 already used
    # Everything ran on the pinned clock, not the wall clock.
    tasks = await service.storage.tasks.list_for_guild(GUILD, limit=100)
    assert tasks and {t.created_at for t in tasks} == {NOON}


async def test_blocks_channels_pause_and_the_guild_cap(
    admin: Callable[..., Awaitable[str]], service: VideoService, harness: Harness, guild: discord.Guild
) -> None:
    await admin(AdminCog.quota_default, credits=10, period="day")

    await admin(AdminCog.block, member=make_member(guild, BLOCKED), reason="spamming")
    refusal = await request(service, BLOCKED)
    assert "You are blocked from making videos in this server" in refusal and "spamming" in refusal
    await admin(AdminCog.unblock, member=make_member(guild, BLOCKED))
    assert await request(service, BLOCKED) == "ok"

    await admin(AdminCog.channels_allow, channel=text_channel(guild, CHANNEL_ID))
    assert "Videos can't be made in this channel" in await request(
        service, NO_ROLES, channel=OTHER_CHANNEL_ID
    )
    assert await request(service, NO_ROLES, channel=CHANNEL_ID) == "ok"
    # Denying the only allowed channel is refused (it would open every other one): allow another first.
    await admin(AdminCog.channels_allow, channel=text_channel(guild, OTHER_CHANNEL_ID))
    await admin(AdminCog.channels_deny, channel=text_channel(guild, CHANNEL_ID))
    assert "Videos can't be made in this channel" in await request(service, NO_ROLES, channel=CHANNEL_ID)
    await admin(AdminCog.channels_allow, channel=text_channel(guild, CHANNEL_ID))

    await admin(AdminCog.pause, reason="maintenance tonight")
    refusal = await request(service, NO_ROLES)
    assert "paused" in refusal and "maintenance tonight" in refusal
    await admin(AdminCog.resume)

    # 2 credits used so far (BLOCKED once, NO_ROLES once); a cap of 4 leaves room for exactly 2 more.
    await admin(AdminCog.policy, cap="4")
    assert await request(service, VIP) == "ok"
    assert await request(service, VIP) == "ok"
    refusal = await request(service, VIP)
    assert "This server has used its video budget" in refusal
    usage = await harness.storage.quota.guild_usage(GUILD, now=NOON, default_period="day")
    assert (usage.used_tenths, usage.cap_tenths) == (40, 40)

    await admin(AdminCog.policy, cap="none")
    assert await request(service, VIP) == "ok"


async def test_policy_limits_models_and_options(
    admin: Callable[..., Awaitable[str]], service: VideoService
) -> None:
    await admin(AdminCog.policy, allowed_models="MiniMax-Hailuo-02", max_duration="6")
    refusal = await request(service, NO_ROLES)
    assert "MiniMax-Hailuo-2.3" in refusal
    assert await service.storage.tasks.count_for_guild(GUILD) == 0
