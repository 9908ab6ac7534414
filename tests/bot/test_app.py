"""VideoBot start-up: a failed slash-command sync must not stop the bot (or the videos in flight)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord

from bot.app import VideoBot
from storage import TaskState
from tests.builders import make_new_task
from tests.fakes.lifecycle_harness import GUILD, lifecycle_harness


async def test_a_failed_command_sync_is_logged_and_the_service_still_starts(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        new = make_new_task(prompt="queued before the restart")
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


def _forbidden() -> discord.HTTPException:
    return discord.Forbidden(SimpleNamespace(status=403, reason="Forbidden"), "Missing Access")  # type: ignore[arg-type]


async def test_a_guild_the_bot_is_not_in_does_not_leave_the_others_without_commands(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        settings = dataclasses.replace(harness.settings, discord_guild_ids=(111, 222))
        bot = VideoBot(settings, harness.storage, harness.client)
        synced: list[int] = []

        async def sync(*, guild: Any = None) -> list[Any]:
            if guild.id == 111:
                raise _forbidden()
            synced.append(guild.id)
            return []

        bot.tree.sync = sync  # type: ignore[method-assign]
        await bot.sync_commands()
        assert synced == [222]


async def test_a_signal_while_tasks_resume_starts_nothing_afterwards(tmp_path: Path) -> None:
    """close() can run while setup_hook is still inside the service's start: the loops must not start
    after the stop (they would run against a closed database and session)."""
    async with lifecycle_harness(tmp_path) as harness:
        bot = VideoBot(harness.settings, harness.storage, harness.client)
        syncs: list[Any] = []

        async def sync(*, guild: Any = None) -> list[Any]:
            syncs.append(guild)
            return []

        bot.tree.sync = sync  # type: ignore[method-assign]
        entered, release = asyncio.Event(), asyncio.Event()
        service_holder: list[Any] = []
        real_load = bot.load_extension

        async def load_extension(name: str, *, package: str | None = None) -> None:
            await real_load(name, package=package)  # the service exists by now: hold its recovery
            if bot.video_service is not None and not service_holder:
                service = bot.video_service
                service_holder.append(service)
                real_recover = service.recover

                async def slow_recover() -> None:
                    entered.set()
                    await release.wait()
                    await real_recover()

                service.recover = slow_recover  # type: ignore[method-assign]

        bot.load_extension = load_extension  # type: ignore[method-assign]
        setup = asyncio.create_task(bot.setup_hook())
        await asyncio.wait_for(entered.wait(), 10)
        await bot.close()
        release.set()
        await asyncio.wait_for(setup, 10)

        (service,) = service_holder
        assert not service.submitter.running and not service.tracker.running
        assert syncs == []


async def test_moving_to_guild_commands_removes_the_global_set_once(tmp_path: Path) -> None:
    """Synced globally before, now DISCORD_GUILD_IDS: without this, every command shows twice."""
    async with lifecycle_harness(tmp_path) as harness:
        settings = dataclasses.replace(
            harness.settings, discord_guild_ids=(GUILD,), database_path=tmp_path / "bot.sqlite3"
        )
        marker = Path(str(settings.database_path) + ".commands.sha256")
        await asyncio.to_thread(marker.write_text, "digest of an earlier global sync")
        bot = VideoBot(settings, harness.storage, harness.client)
        await bot.load_extension("cogs.video")
        syncs: list[tuple[Any, list[str]]] = []

        async def sync(*, guild: Any = None) -> list[Any]:
            names = [c.name for c in bot.tree.get_commands(guild=guild)]
            syncs.append((None if guild is None else guild.id, names))
            return []

        bot.tree.sync = sync  # type: ignore[method-assign]
        await bot.sync_commands()
        assert syncs[0][0] == GUILD and "video" in syncs[0][1]
        assert syncs[1] == (None, [])  # the global set emptied
        assert not await asyncio.to_thread(marker.exists)

        syncs.clear()
        await bot.sync_commands()  # once only
        assert [guild for guild, _ in syncs] == [GUILD]
        await bot.close()


async def test_a_failed_guild_sync_never_removes_the_global_commands(tmp_path: Path) -> None:
    """#16: a guild sync failed (an unknown guild), then the global set was removed anyway: /video
    vanished everywhere. Now the global set stays until every guild has its own copy."""
    async with lifecycle_harness(tmp_path) as harness:
        settings = dataclasses.replace(
            harness.settings, discord_guild_ids=(111, 222), database_path=tmp_path / "bot.sqlite3"
        )
        marker = Path(str(settings.database_path) + ".commands.sha256")
        await asyncio.to_thread(marker.write_text, "digest of an earlier global sync")
        bot = VideoBot(settings, harness.storage, harness.client)
        await bot.load_extension("cogs.video")
        syncs: list[Any] = []

        async def sync(*, guild: Any = None) -> list[Any]:
            syncs.append(None if guild is None else guild.id)
            if guild is not None and guild.id == 111:
                raise _forbidden()
            return []

        bot.tree.sync = sync  # type: ignore[method-assign]
        assert await bot.sync_commands() is False
        assert syncs == [111, 222]  # never a global sync (which would have emptied the global set)
        assert await asyncio.to_thread(marker.exists)
        assert "video" in [c.name for c in bot.tree.get_commands()]
        await bot.close()


async def test_an_incomplete_sync_is_tried_again_later(tmp_path: Path) -> None:
    async with lifecycle_harness(tmp_path) as harness:
        settings = dataclasses.replace(harness.settings, discord_guild_ids=(GUILD,))
        bot = VideoBot(settings, harness.storage, harness.client)
        bot.sync_retry_delays = (0.0,)
        attempts: list[int] = []
        done = asyncio.Event()

        async def sync(*, guild: Any = None) -> list[Any]:
            attempts.append(guild.id)
            if len(attempts) < 3:  # Discord down twice, then back
                raise discord.HTTPException(SimpleNamespace(status=503, reason="down"), "later")  # type: ignore[arg-type]
            done.set()
            return []

        async def offline(*args: Any, **kwargs: Any) -> Any:
            raise discord.HTTPException(SimpleNamespace(status=503, reason="offline"), "no Discord here")  # type: ignore[arg-type]

        bot.tree.sync = sync  # type: ignore[method-assign]
        bot.http.request = offline  # type: ignore[method-assign]
        try:
            await bot.setup_hook()
            await asyncio.wait_for(done.wait(), 10)
            assert attempts == [GUILD, GUILD, GUILD]
        finally:
            await bot.close()


def test_the_ready_line_counts_in_words() -> None:
    from bot.app import ready_line

    assert ready_line("videobot", 1, 1) == "logged in as videobot, serving 1 server, 1 task resumed"
    assert ready_line("videobot", 3, 0) == "logged in as videobot, serving 3 servers, 0 tasks resumed"


def test_discord_py_is_told_the_bot_has_no_voice() -> None:
    """Its start-up warnings about PyNaCl and davey are for bots that speak; ours does not."""
    assert discord.VoiceClient.warn_nacl is False
    assert getattr(discord.VoiceClient, "warn_dave", False) is False
