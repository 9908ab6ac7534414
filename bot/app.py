"""The Discord side of the composition: a ``commands.Bot`` that receives its dependencies.

The bot owns no resources it did not get from ``bot.__main__``: storage and the HTTP session are
opened and closed there, so a failed login or a signal can never leave them half-closed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import Settings
from bot.lifecycle import VideoService
from bot.lifecycle.moderation import ModerationService
from bot.minimax.client import MiniMaxClient
from cogs.notifier import DiscordNotifier
from cogs.replies import reply_error
from storage import Storage

log = logging.getLogger(__name__)

# Explicit, so a typo is an error at start-up and not a silently missing feature.
EXTENSIONS: tuple[str, ...] = ("cogs.video", "cogs.admin")


class VideoBot(commands.Bot):
    """Slash commands only: no message-content intent, no prefix commands."""

    def __init__(self, settings: Settings, storage: Storage, client: MiniMaxClient) -> None:
        intents = discord.Intents.default()
        intents.message_content = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=VideoCommandTree,
        )
        self.settings = settings
        self.storage = storage
        self.minimax = client
        self.video_service: VideoService | None = None
        self.moderation_service: ModerationService | None = None
        self.failed_extensions: list[str] = []
        # Set as soon as close() is called: a signal can arrive while setup_hook is still running.
        self.closing = False

    @property
    def service(self) -> VideoService:
        if self.video_service is None:
            raise RuntimeError("the video service starts in setup_hook")
        return self.video_service

    @property
    def moderation(self) -> ModerationService:
        if self.moderation_service is None:
            raise RuntimeError("the moderation service starts in setup_hook")
        return self.moderation_service

    def compose_services(self) -> VideoService:
        """Build the services the cogs talk to (before the extensions load; nothing starts yet)."""
        self.video_service = VideoService(
            settings=self.settings,
            storage=self.storage,
            client=self.minimax,
            notifier=DiscordNotifier(self),
            callbacks=self.minimax.callback,
        )
        self.moderation_service = ModerationService(
            storage=self.storage, settings=self.settings, video=self.video_service
        )
        return self.video_service

    async def setup_hook(self) -> None:
        video_service = self.compose_services()
        for extension in EXTENSIONS:
            try:
                await self.load_extension(extension)
            except Exception:
                # One broken cog must not take the whole bot down with it.
                log.exception("Failed to load extension %s", extension)
                self.failed_extensions.append(extension)
        # The service first: tasks left from before a restart must resume even if the sync fails.
        await video_service.start()
        if self.closing:
            return  # stopped while resuming tasks: nothing more to start
        try:
            await self.sync_commands()
        except Exception as exc:  # an HTTP error, or an answer discord.py cannot read
            # The commands registered last time keep working; a failed sync must not stop the bot.
            log.error("Could not sync the slash commands (the previous set stays in use): %s", exc)

    async def sync_commands(self) -> None:
        """Guild sync is instant and cheap; a global sync happens only when the command set changed."""
        if self.settings.discord_guild_ids:
            for guild_id in self.settings.discord_guild_ids:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                try:
                    synced = await self.tree.sync(guild=guild)
                except (discord.HTTPException, KeyError, TypeError, ValueError) as exc:
                    # One guild the bot is not in (403) must not leave the others without commands.
                    log.error(
                        "Could not sync the commands to guild %s (is the bot in it?): %s", guild_id, exc
                    )
                    continue
                log.info("Synced %d commands to guild %s", len(synced), guild_id)
            await self._drop_global_commands()
            return
        marker = self._marker()
        commands_payload = [c.to_dict(self.tree) for c in self.tree.get_commands()]
        # The application too: a new DISCORD_TOKEN for another application must sync its own set.
        payload = json.dumps({"app": self.application_id, "commands": commands_payload}, sort_keys=True)
        digest = hashlib.sha256(payload.encode()).hexdigest()
        if _read_marker(marker) == digest:
            log.info("Command set unchanged; global sync skipped")
            return
        synced = await self.tree.sync()
        try:
            _write_marker(marker, digest)
        except OSError as exc:  # only costs a redundant sync at the next start
            log.warning("Could not record the command sync in %s: %s", marker, exc)
        log.info("Synced %d commands globally", len(synced))

    def _marker(self) -> Path:
        """Where the digest of the last global sync is kept (a few bytes next to the database)."""
        return Path(str(self.settings.database_path) + ".commands.sha256")

    async def _drop_global_commands(self) -> None:
        """Moving from global commands to DISCORD_GUILD_IDS: remove the global set this bot synced
        earlier, or members of those guilds would see every command twice. Done once (the marker
        of the global sync goes with it)."""
        marker = self._marker()
        if not marker.is_file():
            return
        self.tree.clear_commands(guild=None)  # the guilds already hold their copies
        try:
            await self.tree.sync()
        except (discord.HTTPException, KeyError, TypeError, ValueError) as exc:
            log.error("Could not remove the global commands synced earlier: %s", exc)
            return
        marker.unlink(missing_ok=True)
        log.info("Removed the global commands synced earlier: commands now live in DISCORD_GUILD_IDS")

    async def close(self) -> None:
        self.closing = True
        if self.video_service is not None:
            await self.video_service.stop()
        await super().close()


def _read_marker(marker: Path) -> str | None:
    """The digest of the last global sync; None (sync again) when there is none or it is unreadable."""
    try:
        return marker.read_text().strip() if marker.is_file() else None
    except OSError:
        return None


def _write_marker(marker: Path, digest: str) -> None:
    marker.write_text(digest)


class VideoCommandTree(app_commands.CommandTree["VideoBot"]):
    """One error handler for every command: members get a clear ephemeral line, logs get the rest."""

    async def on_error(
        self, interaction: discord.Interaction[VideoBot], error: app_commands.AppCommandError
    ) -> None:
        await reply_error(interaction, error)
