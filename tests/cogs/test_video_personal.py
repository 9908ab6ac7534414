"""/video through a member's own install (USER_INSTALL, issue 13): in a DM or a server the bot is not
in, the request has no guild, pays from the personal allowance and is delivered; off, it is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest
from discord.ext import commands

from bot.app import VideoCommandTree
from cogs import video as video_cog
from cogs.scope import OUTSIDE_GUILD
from cogs.video import VideoCog
from cogs.video_support import LONG_WAIT_BY_DM, confirmation
from storage import TaskState
from tests.builders import make_settings, task_of
from tests.fakes.interactions import KitInteraction, make_guild, make_interaction, make_member, make_user
from tests.fakes.lifecycle_harness import USER, Harness, lifecycle_harness

FOREIGN_GUILD = 4242  # a server the bot is not in


class Env:
    def __init__(self, harness: Harness, bot: commands.Bot, cog: VideoCog) -> None:
        self.harness, self.bot, self.cog = harness, bot, cog

    def dm(self) -> KitInteraction:
        return make_interaction(
            self.bot, user=make_user(USER), guild=None, integration_owners={"1": str(USER)}
        )

    def foreign(self) -> KitInteraction:
        guild = make_guild(FOREIGN_GUILD)
        return make_interaction(
            self.bot, user=make_member(guild, USER), guild=guild, integration_owners={"1": str(USER)}
        )

    async def generate(self, interaction: KitInteraction) -> KitInteraction:
        options: dict[str, Any] = {"prompt": "a paper boat", "duration": 6, "resolution": "768P"}
        await self.cog.generate.callback(self.cog, interaction, **options)  # type: ignore[arg-type]
        return interaction


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with lifecycle_harness(tmp_path, user_install=True, user_install_tenths=10) as harness:
        bot = commands.Bot(command_prefix="!", intents=discord.Intents.default(), tree_cls=VideoCommandTree)
        service = await harness.start()
        bot.service = service  # type: ignore[attr-defined]
        bot.settings = harness.settings  # type: ignore[attr-defined]
        await video_cog.setup(bot)
        cog = bot.get_cog("VideoCog")
        assert isinstance(cog, VideoCog)
        yield Env(harness, bot, cog)
        await bot.remove_cog("VideoCog")


async def test_a_dm_request_is_accepted_delivered_and_charged_to_the_allowance(env: Env) -> None:
    interaction = await env.generate(env.dm())
    assert "#1" in interaction.last.content and interaction.last.ephemeral
    assert LONG_WAIT_BY_DM not in interaction.last.content  # the fake API is quick
    done = await env.harness.wait_final(1)
    assert (done.state, done.guild_id) == (TaskState.DELIVERED, None)
    assert await env.harness.ledger(1) == ["reserve", "charge"]
    view = await env.cog.service.quota(None, USER)
    assert (view.usage.used_tenths, view.usage.limit_tenths) == (10, 10)
    # The allowance is spent: the next is refused, nothing reserved.
    refused = await env.generate(env.dm())
    assert "don't have enough credits" in refused.last.content
    assert len(await env.harness.storage.tasks.recent_for_user(None, USER, limit=10)) == 1


async def test_a_server_the_bot_is_not_in_has_no_guild_rules(env: Env) -> None:
    interaction = await env.generate(env.foreign())
    assert "#1" in interaction.last.content
    task = await env.harness.wait_final(1)
    assert (task.guild_id, task.state) == (None, TaskState.DELIVERED)


async def test_the_gate_lets_a_dm_through_only_when_user_install_is_on(env: Env) -> None:
    tree = env.bot.tree
    assert isinstance(tree, VideoCommandTree)
    group = tree.get_command("video")
    assert isinstance(group, discord.app_commands.Group)
    interaction = env.dm()
    interaction.command = group.get_command("generate")
    assert await tree.interaction_check(interaction) is True  # type: ignore[arg-type]
    env.bot.settings = make_settings(user_install=False)  # type: ignore[attr-defined]
    refused = env.dm()
    refused.command = group.get_command("generate")
    assert await tree.interaction_check(refused) is False  # type: ignore[arg-type]
    assert refused.replies[0].content == OUTSIDE_GUILD


def test_a_long_wait_is_said_up_front() -> None:
    task = task_of(
        id=5, guild_id=None, channel_id=2, user_id=3, prompt="p", model="MiniMax-Hailuo-2.3", mode="text",
        resolution="768P", duration=6, prompt_optimizer=True, fast_pretreatment=False, cost_tenths=10,
        state=TaskState.QUEUED, attempts=0, created_at=1.0, deliver_by_dm=False,
    )  # fmt: skip
    assert LONG_WAIT_BY_DM in confirmation(task, 40, long_wait=True)
    assert LONG_WAIT_BY_DM not in confirmation(task, 40)


async def test_a_deep_queue_may_outlast_the_interaction(tmp_path: Path) -> None:
    """At 1 submit a minute, the 16th in line waits over 14 minutes: its video will come by DM."""
    async with lifecycle_harness(
        tmp_path, user_install=True, user_install_tenths=1000, minimax_rpm=1
    ) as harness:
        service = harness.new_service()  # not started: the tasks stay queued
        tasks = [await service.request(harness.request(guild_id=None)) for _ in range(16)]
        assert not await service.may_outlast_followup(tasks[0])
        assert await service.may_outlast_followup(tasks[-1])


async def test_quota_and_status_work_from_a_dm(env: Env) -> None:
    """/video quota shows the personal allowance; /video status finds the personal video (also a
    kept one, whose DM was refused), and a guild's video is not shown there."""
    await env.generate(env.dm())
    await env.harness.wait_final(1)
    quota = env.dm()
    await env.cog.quota.callback(env.cog, quota)  # type: ignore[arg-type]
    text = quota.last.text()
    assert "Used: 1 of 1" in text and "Per day, from your personal allowance" in text, text
    status = env.dm()
    await env.cog.status.callback(env.cog, status, 1)  # type: ignore[arg-type]
    assert status.last.embed is not None and "Video #1" in (status.last.embed.title or "")
