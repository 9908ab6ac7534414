"""Commands run only inside a server: Discord is told so, and the bot checks it again at run time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace

import discord
import pytest
from discord.ext import commands

from bot.app import VideoCommandTree
from cogs import video as video_cog
from cogs.scope import OUTSIDE_GUILD, guild_scoped, personal_use, scope_guild_id
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


# ------------------------------------------------------------------ USER_INSTALL (issue 13)


def _dm_client(**settings: object) -> SimpleNamespace:
    made = make_settings(**settings)
    return SimpleNamespace(settings=made, user=None, service=SimpleNamespace(settings=made))


async def _video_tree(user_install: bool) -> tuple[commands.Bot, VideoCommandTree]:
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.none(), tree_cls=VideoCommandTree)
    bot.settings = make_settings(user_install=user_install)  # type: ignore[attr-defined]
    await video_cog.setup(bot)
    assert isinstance(bot.tree, VideoCommandTree)
    return bot, bot.tree


def _generate(tree: VideoCommandTree) -> object:
    group = tree.get_command("video")
    assert isinstance(group, discord.app_commands.Group)
    return group.get_command("generate")


async def test_user_install_on_declares_video_usable_anywhere() -> None:
    bot, tree = await _video_tree(True)
    try:
        video = tree.get_command("video")
        assert video is not None
        payload = video.to_dict(tree)
        assert (sorted(payload["integration_types"]), sorted(payload["contexts"])) == ([0, 1], [0, 1, 2])
        # The context menus stay in servers.
        menu = tree.get_command("Animate image", type=discord.AppCommandType.message)
        assert menu is not None
        menu_payload = menu.to_dict(tree)
        assert (menu_payload["integration_types"], menu_payload["contexts"]) == ([0], [0])
    finally:
        await bot.close()


async def test_user_install_off_keeps_video_guild_only() -> None:
    bot, tree = await _video_tree(False)
    try:
        video = tree.get_command("video")
        assert video is not None
        payload = video.to_dict(tree)
        assert (payload["integration_types"], payload["contexts"]) == ([0], [0])
    finally:
        await bot.close()


async def test_a_dm_video_command_runs_when_the_operator_allows_user_install() -> None:
    bot, tree = await _video_tree(True)
    try:
        interaction = make_interaction(_dm_client(user_install=True), user=make_user(7), guild=None)
        interaction.command = _generate(tree)
        assert await tree.interaction_check(interaction) is True  # type: ignore[arg-type]
        assert interaction.replies == []
    finally:
        await bot.close()


async def test_a_dm_video_command_is_refused_when_user_install_is_off() -> None:
    bot, tree = await _video_tree(False)
    try:
        interaction = make_interaction(_dm_client(user_install=False), user=make_user(7), guild=None)
        interaction.command = _generate(tree)
        assert await tree.interaction_check(interaction) is False  # type: ignore[arg-type]
        (reply,) = interaction.replies
        assert (reply.content, reply.ephemeral) == (OUTSIDE_GUILD, True)
    finally:
        await bot.close()


async def test_videoadmin_from_a_dm_is_refused_even_with_user_install(tree: VideoCommandTree) -> None:
    admin = guild_scoped(discord.app_commands.Group(name="videoadmin", description="x"))

    @admin.command(name="policy", description="x")
    async def policy(interaction: discord.Interaction) -> None:  # pragma: no cover - never runs
        raise AssertionError

    interaction = make_interaction(_dm_client(user_install=True), user=make_user(7), guild=None)
    interaction.command = policy
    assert await tree.interaction_check(interaction) is False  # type: ignore[arg-type]
    assert interaction.replies[0].content == OUTSIDE_GUILD


def test_a_server_the_bot_is_not_in_is_a_personal_use() -> None:
    """A member's own install used in a foreign server: only the user authorised it, no guild rules."""
    guild = make_guild(4242)
    member = make_member(guild, 7)
    foreign = make_interaction(None, user=member, guild=guild, integration_owners={"1": "7"})
    assert personal_use(foreign) and scope_guild_id(foreign) is None
    both = make_interaction(None, user=member, guild=guild, integration_owners={"0": "4242", "1": "7"})
    assert not personal_use(both) and scope_guild_id(both) == 4242
    server = make_interaction(None, user=member, guild=guild)  # no owners in the payload: the server's
    assert not personal_use(server) and scope_guild_id(server) == 4242
    dm = make_interaction(None, user=make_user(7), guild=None, integration_owners={"1": "7"})
    assert personal_use(dm) and scope_guild_id(dm) is None
