"""VideoBot start-up: a failed slash-command sync must not stop the bot (or the videos in flight)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord

from bot.app import VideoBot
from storage import NewTask, TaskState
from tests.fakes.lifecycle_harness import CHANNEL, GUILD, USER, lifecycle_harness


async def test_a_failed_command_sync_is_logged_and_the_service_still_starts(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        new = NewTask(
            GUILD, CHANNEL, USER, "queued before the restart", "MiniMax-Hailuo-2.3", "text", 10, 6, "768P"
        )
        task = await harness.storage.quota.reserve(new)
        settings = dataclasses.replace(harness.settings, discord_guild_ids=(GUILD,))
        bot = VideoBot(settings, harness.storage, harness.client)
        attempts: list[Any] = []

        async def refused_sync(*, guild: Any = None) -> list[Any]:
            attempts.append(guild)
            raise discord.HTTPException(SimpleNamespace(status=500, reason="Server Error"), "try later")  # type: ignore[arg-type]

        async def offline(*args: Any, **kwargs: Any) -> Any:
            raise discord.HTTPException(SimpleNamespace(status=503, reason="offline"), "no Discord here")  # type: ignore[arg-type]

        bot.tree.sync = refused_sync  # type: ignore[method-assign]
        bot.http.request = offline  # type: ignore[method-assign]  # never the network
        try:
            await bot.setup_hook()
            assert attempts, "the sync was tried"
            assert bot.failed_extensions == []
            # Discord is not there (no status card), yet the queued task is submitted.
            await harness.fake.wait_for_count("submit", 1)
            assert (await harness.storage.tasks.get(task.id)).state is not TaskState.QUEUED
        finally:
            await bot.close()
