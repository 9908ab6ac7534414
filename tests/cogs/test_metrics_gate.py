"""The tree's gate counts what it refuses (issue 14), by reason only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace

import discord
import pytest
from discord.ext import commands

from bot.app import VideoCommandTree
from tests.builders import make_settings
from tests.fakes.interactions import make_guild, make_interaction, make_member, make_user


@pytest.fixture
async def tree() -> AsyncIterator[VideoCommandTree]:
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.none(), tree_cls=VideoCommandTree)
    assert isinstance(bot.tree, VideoCommandTree)
    yield bot.tree
    await bot.close()


def refusals(tree: VideoCommandTree, reason: str) -> float:
    value = tree.metrics.registry.get_sample_value("videobot_refusals_total", {"reason": reason})
    return 0.0 if value is None else value


async def test_a_dm_and_an_unserved_server_are_counted_by_reason(tree: VideoCommandTree) -> None:
    dm = make_interaction(None, user=make_user(7), guild=None)
    assert await tree.interaction_check(dm) is False  # type: ignore[arg-type]
    guild = make_guild(1000)
    client = SimpleNamespace(service=SimpleNamespace(settings=make_settings(allowed_guild_ids=(999,))))
    elsewhere = make_interaction(client, user=make_member(guild, 7), guild=guild)
    assert await tree.interaction_check(elsewhere) is False  # type: ignore[arg-type]
    assert refusals(tree, "outside_guild") == 1
    assert refusals(tree, "not_served") == 1
    assert "1000" not in tree.metrics.render().decode()
