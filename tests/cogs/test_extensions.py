"""Every cog the bot loads imports, loads into a real ``commands.Bot``, and names each command once.

Why: a cog that fails to import is only logged at start-up (the bot keeps running without it), and
two commands with one name either fail the sync or silently shadow each other. This test loads
``bot.app.EXTENSIONS`` (and checks no ``cogs/*.py`` with a ``setup`` is left out), then walks what
would be synced to Discord: top-level names per command type (slash, user menu, message menu), and
the names inside every group and subcommand.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands

import cogs
from bot.app import EXTENSIONS
from tests.fakes.fake_discord import command_problems
from tests.fakes.loaded_bot import loaded_bot

_TYPE_NAMES = {1: "slash command", 2: "user menu", 3: "message menu"}
_SUB_COMMAND, _SUB_COMMAND_GROUP = 1, 2


def duplicate_names(payloads: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every name used twice where Discord needs it unique, as readable paths (empty: none)."""
    found: list[str] = []
    top = Counter((int(p.get("type", 1)), str(p["name"])) for p in payloads)
    found += [f"{_TYPE_NAMES.get(t, t)} {name!r}" for (t, name), n in top.items() if n > 1]
    for payload in payloads:
        found += _duplicate_options(payload.get("options") or [], f"/{payload['name']}")
    return found


def _duplicate_options(options: Sequence[Mapping[str, Any]], path: str) -> Iterator[str]:
    counts = Counter(str(o["name"]) for o in options)
    yield from (f"{path} {name}" for name, n in counts.items() if n > 1)
    for option in options:
        if option.get("type") in (_SUB_COMMAND, _SUB_COMMAND_GROUP):
            yield from _duplicate_options(option.get("options") or [], f"{path} {option['name']}")


def _synced_payloads(tree: app_commands.CommandTree[Any]) -> list[dict[str, Any]]:
    kinds = (discord.AppCommandType.chat_input, discord.AppCommandType.user, discord.AppCommandType.message)
    return [command.to_dict(tree) for kind in kinds for command in tree.get_commands(type=kind)]


def test_every_cog_with_a_setup_is_loaded_by_the_bot() -> None:
    with_setup = {
        f"cogs.{info.name}"
        for info in pkgutil.iter_modules(cogs.__path__)
        if callable(getattr(importlib.import_module(f"cogs.{info.name}"), "setup", None))
    }
    assert with_setup == set(EXTENSIONS), "a cog defines setup() but bot.app does not load it (or vice versa)"


async def test_every_extension_loads_and_no_command_name_is_used_twice(tmp_path: Path) -> None:
    async with loaded_bot(tmp_path) as bot:  # loading raises on an import error or a clash in the tree
        payloads = _synced_payloads(bot.tree)
    assert {p["name"] for p in payloads} >= {"video", "videoadmin"}
    assert any(p.get("type") == 3 for p in payloads), "the message context menu is registered"
    assert duplicate_names(payloads) == []


def _texts(item: Mapping[str, Any], path: str) -> Iterator[tuple[str, str]]:
    """Every description and choice name below ``item``, with where it is."""
    if item.get("description"):
        yield path, str(item["description"])
    for choice in item.get("choices") or []:
        yield f"{path} choice {choice.get('value')!r}", str(choice["name"])
    for option in item.get("options") or []:
        yield from _texts(option, f"{path} {option['name']}")


async def test_every_description_and_name_fits_discord_uncut(tmp_path: Path) -> None:
    """discord.py cuts a description over 100 characters to 99 and "…" (quota reset's ``mode`` was 113:
    members read half a sentence); the fake Discord's rules check every name and length."""
    async with loaded_bot(tmp_path) as bot:
        payloads = _synced_payloads(bot.tree)
    assert command_problems(payloads) == []
    texts = [(path, text) for p in payloads for path, text in _texts(p, f"/{p['name']}")]
    assert len(texts) > 50
    too_long = [(path, len(text)) for path, text in texts if len(text) > 100 or text.endswith("…")]
    assert too_long == []


async def test_every_command_is_declared_guild_install_and_guild_context_only(tmp_path: Path) -> None:
    """``contexts`` and ``integration_types`` were left to Discord's defaults for /video and the menu
    (only the deprecated ``dm_permission`` said "not in DMs"), and ``/videoadmin`` had no install type."""
    async with loaded_bot(tmp_path) as bot:
        payloads = _synced_payloads(bot.tree)
    scopes = {p["name"]: (p["contexts"], p["integration_types"], p["dm_permission"]) for p in payloads}
    every = ("video", "videoadmin", "Animate image", "Video from references")
    assert scopes == {name: ([0], [0], False) for name in every}


def test_the_name_check_finds_each_kind_of_clash() -> None:
    sub = {"type": _SUB_COMMAND, "name": "show"}
    payloads = [
        {"type": 1, "name": "video", "options": [sub, sub]},
        {"type": 1, "name": "video"},
        {"type": 3, "name": "Animate image"},
        {"type": 3, "name": "Animate image"},
        {"type": 2, "name": "Animate image"},  # a user menu may share a message menu's name
        {
            "type": 1,
            "name": "videoadmin",
            "options": [{"type": _SUB_COMMAND_GROUP, "name": "quota", "options": [sub, {**sub}]}],
        },
    ]
    assert sorted(duplicate_names(payloads)) == sorted(
        [
            "slash command 'video'",
            "message menu 'Animate image'",
            "/video show",
            "/videoadmin quota show",
        ]
    )


class _Clashing(commands.Cog):
    """A second cog that also defines ``/video``: loading it next to the video cog must fail."""

    video = app_commands.Group(name="video", description="not the real one")

    @video.command(name="ping", description="ping")
    async def ping(self, interaction: discord.Interaction[Any]) -> None:  # pragma: no cover - never run
        raise AssertionError


async def test_a_second_cog_with_a_taken_name_fails_to_load(tmp_path: Path) -> None:
    async with loaded_bot(tmp_path) as bot:
        with pytest.raises(app_commands.CommandAlreadyRegistered):
            await bot.add_cog(_Clashing())
