"""SHARD_COUNT/SHARD_IDS pick discord.py's auto-sharded client; only shard 0's holder syncs commands."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from discord.ext import commands

from bot.app import ShardedVideoBot, VideoBot, build_bot
from tests.fakes.lifecycle_harness import lifecycle_harness


async def test_unset_builds_the_plain_unsharded_bot_of_a_single_process(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        bot = build_bot(harness.settings, harness.storage, harness.client)
        try:
            assert type(bot) is VideoBot and not isinstance(bot, commands.AutoShardedBot)
            assert bot.shard_count is None
        finally:
            await bot.close()


async def test_shard_settings_build_the_auto_sharded_bot_with_this_process_shards(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        settings = dataclasses.replace(harness.settings, shard_count=4, shard_ids=(1, 3))
        bot = build_bot(settings, harness.storage, harness.client)
        async with bot:  # as bot.__main__ runs it: the sharded client sets its queue up on entry
            assert isinstance(bot, ShardedVideoBot) and isinstance(bot, commands.AutoShardedBot)
            assert (bot.shard_count, bot.shard_ids) == (4, [1, 3])
            assert type(bot.tree) is type(VideoBot(harness.settings, harness.storage, harness.client).tree)


async def test_a_count_alone_connects_every_shard(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        settings = dataclasses.replace(harness.settings, shard_count=2)
        bot = build_bot(settings, harness.storage, harness.client)
        async with bot:
            assert (bot.shard_count, bot.shard_ids) == (2, [0, 1])


async def _setup_syncs(settings: Any, harness: Any) -> list[Any]:
    bot = build_bot(settings, harness.storage, harness.client)
    syncs: list[Any] = []

    async def sync(*, guild: Any = None) -> list[Any]:
        syncs.append(guild)
        return []

    async def offline(*args: Any, **kwargs: Any) -> Any:
        raise discord.HTTPException(SimpleNamespace(status=503, reason="offline"), "no Discord here")  # type: ignore[arg-type]

    bot.tree.sync = sync  # type: ignore[method-assign]
    bot.http.request = offline  # type: ignore[method-assign]  # never the network
    async with bot:
        await bot.setup_hook()
    return syncs


async def test_only_the_process_holding_shard_0_syncs_the_commands(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        base = dataclasses.replace(harness.settings, database_path=tmp_path / "a.sqlite3")
        holder = dataclasses.replace(base, shard_count=2, shard_ids=(0,))
        other = dataclasses.replace(base, shard_count=2, shard_ids=(1,), database_path=tmp_path / "b.sqlite3")
        assert await _setup_syncs(other, harness) == []
        assert await _setup_syncs(holder, harness) == [None]


class _Shard:
    def __init__(self, closed: bool) -> None:
        self.closed = closed

    def is_closed(self) -> bool:
        return self.closed


async def test_ready_means_every_shard_of_this_process_is_connected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shards: dict[int, _Shard] = {}
    ready = [False]
    monkeypatch.setattr(ShardedVideoBot, "shards", property(lambda _self: shards))
    monkeypatch.setattr(ShardedVideoBot, "is_ready", lambda _self: ready[0])
    async with lifecycle_harness(tmp_path) as harness:
        settings = dataclasses.replace(harness.settings, shard_count=4, shard_ids=(1, 3))
        async with build_bot(settings, harness.storage, harness.client) as bot:
            assert not await bot.gateway_connected()  # not started
            shards[1] = _Shard(closed=False)
            ready[0] = True
            assert not await bot.gateway_connected(), "shard 3 never connected"
            shards[3] = _Shard(closed=True)
            assert not await bot.gateway_connected(), "shard 3 is down"
            shards[3].closed = False
            assert await bot.gateway_connected()
