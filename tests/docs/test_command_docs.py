"""README's command reference names exactly the commands, options and menus the bot registers.

The cogs are loaded into a real discord.py bot (as tests/cogs/test_extensions.py does) and the tree
that would be synced is compared with README's tables: every documented command exists with the
options README shows (``[option]`` optional, a bare word required), and every registered command is
documented.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import discord
import pytest
from discord import app_commands

from bot.app import VideoBot
from tests.fakes.loaded_bot import loaded_bot

REPO = Path(__file__).resolve().parents[2]

Signature = dict[str, bool]  # option name → required


def _commands_section() -> str:
    text = (REPO / "README.md").read_text()
    return text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]


def readme_commands(tree_paths: set[tuple[str, ...]]) -> dict[tuple[str, ...], Signature]:
    """Each backticked ``/command ...`` in the first cell of the command tables, as path → options.

    A chunk without a leading slash continues the previous chunk's root (``/videoadmin block member``
    / ``unblock member``). The words that name a registered command path are the path; the rest are
    options.
    """
    found: dict[tuple[str, ...], Signature] = {}
    in_table = False
    for line in _commands_section().splitlines():
        if line.startswith("| command |"):
            in_table = True  # the command tables, not the H3 option table
        elif not line.startswith("|"):
            in_table = False
        if not (in_table and line.startswith("| `")):
            continue
        first_cell = line.strip("|").split(" | ")[0]
        root = ""
        for chunk in re.findall(r"`([^`]+)`", first_cell):
            words = chunk.split()
            if words[0].startswith("/"):
                root = words[0][1:]
                words = words[1:]
            path: tuple[str, ...] = (root,)
            while words and (*path, words[0]) in tree_paths:
                path, words = (*path, words[0]), words[1:]
            found[path] = {w.strip("[]"): not w.startswith("[") for w in words}
    return found


def readme_menus() -> set[str]:
    return set(re.findall(r"\*\*([^*]+)\*\* \(message context menu\)", _commands_section()))


def leaves(
    command: app_commands.Command[..., object] | app_commands.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], app_commands.Command[..., object]]]:
    here = (*path, command.name)
    if isinstance(command, app_commands.Group):
        for child in command.commands:
            yield from leaves(child, here)
    else:
        yield here, command


def all_paths(
    command: app_commands.Command[..., object] | app_commands.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    here = (*path, command.name)
    yield here
    if isinstance(command, app_commands.Group):
        for child in command.commands:
            yield from all_paths(child, here)


@pytest.fixture
async def tree(tmp_path: Path) -> AsyncIterator[app_commands.CommandTree[VideoBot]]:
    async with loaded_bot(tmp_path) as bot:
        yield bot.tree


async def test_readme_documents_every_command_with_its_options(
    tree: app_commands.CommandTree[VideoBot],
) -> None:
    slash = tree.get_commands(type=discord.AppCommandType.chat_input)
    registered = {
        path: {p.name: p.required for p in command.parameters}
        for top in slash
        for path, command in leaves(top)  # type: ignore[arg-type]
    }
    paths = {path for top in slash for path in all_paths(top)}  # type: ignore[arg-type]
    documented = readme_commands(paths)
    assert sorted(set(registered) - set(documented)) == [], "registered but not in README's command tables"
    assert sorted(set(documented) - set(registered)) == [], "in README but not registered"
    wrong = {
        path: (documented[path], registered[path])
        for path in registered
        if documented[path] != registered[path]
    }
    assert wrong == {}, "README's options (README, registered) differ"


async def test_readme_documents_every_context_menu(tree: app_commands.CommandTree[VideoBot]) -> None:
    menus = {c.name for c in tree.get_commands(type=discord.AppCommandType.message)}
    assert readme_menus() == menus
