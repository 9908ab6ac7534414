"""Commands run only inside a server: Discord is told so, and the bot checks it again at run time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace

import discord
import pytest
from discord.ext import commands

from bot.app import VideoCommandTree
from cogs.scope import OUTSIDE_GUILD
from tests.builders import make_settings
from tests.fakes.interactions import make_guild, make_interaction, make_member, make_user


@pytest.fixture
async def tree() -> AsyncIterator[VideoCommandTree]:
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.none(), tree_cls=VideoCommandTree)
    assert isinstance(bot.tree, VideoCommandTree)
    yield bot.tree
    await bot.close()


async def test_a_command_from_a_dm_is_refused_before_it_runs(tree: VideoCommandTree) -> None:
    """Before, a DM (or a user install) ran /video generate with no server: no rules, no moderators."""
    interaction = make_interaction(None, user=make_user(7), guild=None)
    assert await tree.interaction_check(interaction) is False  # type: ignore[arg-type]
    (reply,) = interaction.replies
    assert (reply.kind, reply.content, reply.ephemeral) == ("message", OUTSIDE_GUILD, True)


async def test_autocomplete_from_a_dm_gets_no_choices(tree: VideoCommandTree) -> None:
    interaction = make_interaction(
        None, user=make_user(7), guild=None, type=discord.InteractionType.autocomplete
    )
    assert await tree.interaction_check(interaction) is False  # type: ignore[arg-type]
    (reply,) = interaction.replies
    assert (reply.kind, reply.choices) == ("autocomplete", [])


async def test_a_command_in_a_server_goes_through_unanswered(tree: VideoCommandTree) -> None:
    guild = make_guild(1000)
    client = SimpleNamespace(service=SimpleNamespace(settings=make_settings()))  # every server served
    interaction = make_interaction(client, user=make_member(guild, 7), guild=guild)
    assert await tree.interaction_check(interaction) is True  # type: ignore[arg-type]
    assert interaction.replies == []
