"""The Discord side of the composition: a ``commands.Bot`` that receives its dependencies.

The bot owns no resources it did not get from ``bot.__main__``: storage and the HTTP session are
opened and closed there, so a failed login or a signal can never leave them half-closed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import Settings
from bot.lifecycle import VideoService
from bot.lifecycle.moderation import ModerationService
from bot.lifecycle.refusal import RefusalReason
from bot.metrics import Metrics
from bot.metrics_server import MetricsServer
from bot.minimax.client import MiniMaxClient
from cogs.guilds import leave_unserved, serves
from cogs.notifier import DiscordNotifier
from cogs.replies import reply_error
from cogs.scope import GUILD_CONTEXT, GUILD_INSTALL, refuse_outside_guild
from cogs.translator import CommandTranslator
from storage import Storage

log = logging.getLogger(__name__)

# Explicit, so a typo is an error at start-up and not a silently missing feature.
EXTENSIONS: tuple[str, ...] = ("cogs.video", "cogs.admin")

# The bot has no voice. Without PyNaCl and davey (voice-only libraries) discord.py warns at every
# start that voice "will NOT be supported": a warning about nothing, which teaches operators to
# skim past warnings. Its own switches turn it off (they are what it flips after warning once).
for _switch in ("warn_nacl", "warn_dave"):
    if hasattr(discord.VoiceClient, _switch):
        setattr(discord.VoiceClient, _switch, False)

# Seconds before each new try of a failed command sync; the last one repeats. A failed sync never
# removes anything, so retrying is always safe.
SYNC_RETRY_DELAYS: tuple[float, ...] = (60.0, 300.0, 900.0, 3600.0)


class VideoBot(commands.Bot):
    """Slash commands only: no message-content intent, no prefix commands."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        client: MiniMaxClient,
        *,
        metrics: Metrics | None = None,
        **client_options: Any,
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=VideoCommandTree,
            # The default of every command; each also declares it (cogs.scope).
            allowed_contexts=GUILD_CONTEXT,
            allowed_installs=GUILD_INSTALL,
            **client_options,
        )
        self.settings = settings
        self.storage = storage
        self.minimax = client
        self.video_service: VideoService | None = None
        self.moderation_service: ModerationService | None = None
        self.failed_extensions: list[str] = []
        # Set as soon as close() is called: a signal can arrive while setup_hook is still running.
        self.closing = False
        self.sync_retry_delays: Sequence[float] = SYNC_RETRY_DELAYS
        self._sync_retry: asyncio.Task[None] | None = None
        # The API client records into the same object when __main__ built it with this one.
        self.metrics = metrics if metrics is not None else Metrics()
        self.metrics_server: MetricsServer | None = None
        self._said_ready = False
        if isinstance(self.tree, VideoCommandTree):
            self.tree.metrics = self.metrics  # the tree counts commands and the gate's refusals

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
            notifier=DiscordNotifier(self, metrics=self.metrics),
            metrics=self.metrics,
            callbacks=self.minimax.callback,
        )
        self.moderation_service = ModerationService(
            storage=self.storage, settings=self.settings, video=self.video_service
        )
        return self.video_service

    async def setup_hook(self) -> None:
        await self.start_metrics_server()  # first: /healthz answers (and /readyz says 503) during start-up
        video_service = self.compose_services()
        # Before any sync: the descriptions and choices travel with it in every language served.
        await self.tree.set_translator(CommandTranslator())
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
        if not self.settings.syncs_commands:
            log.info(
                "Commands are synced by the process holding shard 0; this one (shards %s) does not",
                ", ".join(map(str, self.settings.own_shards)),
            )
            return
        if not await self._try_sync():
            self._sync_retry = asyncio.create_task(self._retry_sync(), name="command-sync-retry")

    async def _try_sync(self) -> bool:
        """One sync attempt; True when it is complete. A failure is logged, never raised."""
        try:
            return await self.sync_commands()
        except Exception as exc:  # an HTTP error, or an answer discord.py cannot read
            # The commands registered last time keep working; a failed sync must not stop the bot.
            log.warning("Could not sync the slash commands (the previous set stays in use): %s", exc)
            return False

    async def start_metrics_server(self) -> None:
        """``METRICS_PORT``: serve the metrics and health endpoints. A port that cannot be bound is
        logged, not fatal: the videos matter more than their counts (and /healthz then fails, which
        an operator watching it sees)."""
        if self.settings.metrics_port is None or self.metrics_server is not None:
            return
        server = MetricsServer(
            self.metrics,
            host=self.settings.metrics_host,
            port=self.settings.metrics_port,
            checks={"gateway": self.gateway_connected, "database": self.database_reachable},
            refresh=self.count_tasks,
        )
        try:
            await server.start()
        except OSError as exc:
            log.error(
                "Cannot serve metrics on %s:%s (METRICS_HOST, METRICS_PORT): %s",
                self.settings.metrics_host,
                self.settings.metrics_port,
                exc.strerror or exc,
            )
            return
        self.metrics_server = server

    async def gateway_connected(self) -> bool:
        """Ready: logged in (READY received) and the gateway's socket open. ``is_ready()`` alone stays
        true while discord.py reconnects, when the bot hears no interactions."""
        ws = self.ws
        socket_open = ws is not None and bool(ws.open)
        return self.is_ready() and socket_open and not self.is_closed() and not self.closing

    async def database_reachable(self) -> bool:
        await self.storage.ping()
        return True

    async def count_tasks(self) -> None:
        self.metrics.set_task_counts(await self.storage.tasks.count_by_state())

    async def _retry_sync(self) -> None:
        """Try again later until a sync completes: a Discord outage or a guild not yet joined heals."""
        for attempt in range(1_000_000):
            delays = self.sync_retry_delays
            delay = delays[min(attempt, len(delays) - 1)]
            log.warning("The command sync is incomplete; trying again in %g s", delay)
            await asyncio.sleep(delay)
            if self.closing or await self._try_sync():
                return

    async def sync_commands(self) -> bool:
        """Guild sync is instant and cheap; a global sync happens only when the command set changed.

        Returns False when something is left to do (a guild refused the sync): then nothing that
        was working is removed, and the caller tries again later.
        """
        if self.settings.discord_guild_ids:
            failed: list[int] = []
            for guild_id in self.settings.discord_guild_ids:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                try:
                    synced = await self.tree.sync(guild=guild)
                except (discord.HTTPException, KeyError, TypeError, ValueError) as exc:
                    # One guild the bot is not in (403) must not leave the others without commands.
                    log.warning(
                        "Could not sync the commands to guild %s (is the bot in it?): %s", guild_id, exc
                    )
                    failed.append(guild_id)
                    continue
                log.info("Synced %d commands to guild %s", len(synced), guild_id)
            if failed:
                # The global set (if any) is what members of those guilds still have: keep it.
                if self._marker().is_file():
                    log.warning(
                        "Keeping the global commands until every guild in DISCORD_GUILD_IDS has its own"
                    )
                return False
            return await self._drop_global_commands()
        marker = self._marker()
        # What the sync sends, translations included: a reworded translation is a changed set too.
        translator = self.tree.translator
        commands_payload = [
            await c.get_translated_payload(self.tree, translator) if translator else c.to_dict(self.tree)
            for c in self.tree.get_commands()
        ]
        # The application too: a new DISCORD_TOKEN for another application must sync its own set.
        payload = json.dumps({"app": self.application_id, "commands": commands_payload}, sort_keys=True)
        digest = hashlib.sha256(payload.encode()).hexdigest()
        if _read_marker(marker) == digest:
            log.info("Command set unchanged; global sync skipped")
            return True
        synced = await self.tree.sync()
        try:
            _write_marker(marker, digest)
        except OSError as exc:  # only costs a redundant sync at the next start
            log.warning("Could not record the command sync in %s: %s", marker, exc)
        log.info("Synced %d commands globally", len(synced))
        return True

    def _marker(self) -> Path:
        """Where the digest of the last global sync is kept (a few bytes next to the database)."""
        return Path(str(self.settings.database_path) + ".commands.sha256")

    async def _drop_global_commands(self) -> bool:
        """Moving from global commands to DISCORD_GUILD_IDS: remove the global set this bot synced
        earlier, or members of those guilds would see every command twice. Done once (the marker
        of the global sync goes with it)."""
        marker = self._marker()
        if not marker.is_file():
            return True
        self.tree.clear_commands(guild=None)  # the guilds already hold their copies
        try:
            await self.tree.sync()
        except (discord.HTTPException, KeyError, TypeError, ValueError) as exc:
            log.warning("Could not remove the global commands synced earlier (tried again later): %s", exc)
            return False
        marker.unlink(missing_ok=True)
        log.info("Removed the global commands synced earlier: commands now live in DISCORD_GUILD_IDS")
        return True

    async def on_ready(self) -> None:
        """After every login (and reconnect without resume): leave servers ALLOWED_GUILD_IDS leaves out.

        The first time, one line says the bot is up, and as whom: what an operator looks for in
        the log after a start.
        """
        left = await leave_unserved(self.settings, self.guilds)
        if self._said_ready:
            return
        self._said_ready = True
        served = sum(1 for guild in self.guilds if guild.id not in left)
        resumed = self.video_service.resumed_count if self.video_service is not None else 0
        log.info("Ready: %s", ready_line(str(self.user), served, resumed))

    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Someone added the bot to their server: stay only if the operator serves it."""
        await leave_unserved(self.settings, [guild])

    async def close(self) -> None:
        self.closing = True
        if self._sync_retry is not None:
            self._sync_retry.cancel()
        if self.video_service is not None:
            await self.video_service.stop()
        await super().close()
        if self.metrics_server is not None:
            await self.metrics_server.stop()
            self.metrics_server = None


def ready_line(user: str, servers: int, resumed: int) -> str:
    """``"logged in as videobot#0001, serving 2 servers, 1 task resumed"``."""
    return (
        f"logged in as {user}, serving {servers} server{'' if servers == 1 else 's'}, "
        f"{resumed} task{'' if resumed == 1 else 's'} resumed"
    )


class ShardedVideoBot(VideoBot, commands.AutoShardedBot):
    """``SHARD_COUNT``: discord.py's auto-sharded client, connecting this process's shards only.

    Discord sends each shard the events (and interactions) of its own guilds, so each process answers
    the interactions of its shards; everything the bot posts goes through REST with ids only
    (:mod:`cogs.notifier`), so a process can deliver to any server, whichever shard holds it.
    """

    def __init__(
        self, settings: Settings, storage: Storage, client: MiniMaxClient, *, metrics: Metrics | None = None
    ) -> None:
        super().__init__(
            settings,
            storage,
            client,
            metrics=metrics,
            shard_count=settings.shard_count,
            shard_ids=list(settings.own_shards),
        )

    async def gateway_connected(self) -> bool:
        """Ready: every shard of this process has had its READY (``is_ready`` waits for all of them)
        and has its socket open now; one shard down means some servers get no answers."""
        shards = self.shards
        if not self.is_ready() or self.is_closed() or self.closing:
            return False
        return set(self.settings.own_shards) <= set(shards) and not any(
            info.is_closed() for info in shards.values()
        )


def build_bot(
    settings: Settings, storage: Storage, client: MiniMaxClient, *, metrics: Metrics | None = None
) -> VideoBot:
    """The bot the settings ask for: sharded when ``SHARD_COUNT`` is set, else one plain connection."""
    if settings.shard_count is None:
        return VideoBot(settings, storage, client, metrics=metrics)
    return ShardedVideoBot(settings, storage, client, metrics=metrics)


def _read_marker(marker: Path) -> str | None:
    """The digest of the last global sync; None (sync again) when there is none or it is unreadable."""
    try:
        return marker.read_text().strip() if marker.is_file() else None
    except OSError:
        return None


def _write_marker(marker: Path, digest: str) -> None:
    marker.write_text(digest)


def _user_install(interaction: discord.Interaction[VideoBot]) -> bool:
    """``USER_INSTALL``, read from the bot the interaction reached (a bare test client has none: off)."""
    settings = getattr(interaction.client, "settings", None)
    return isinstance(settings, Settings) and settings.user_install


class VideoCommandTree(app_commands.CommandTree["VideoBot"]):
    """One error handler for every command: members get a clear ephemeral line, logs get the rest.

    And one gate before any command, context menu or autocomplete runs: outside a server (a DM, a
    user install), refused; a server the bot does not serve (``ALLOWED_GUILD_IDS``), refused.
    """

    def __init__(self, client: VideoBot, **options: Any) -> None:
        super().__init__(client, **options)
        self.metrics = Metrics()  # VideoBot hands in its own

    async def interaction_check(self, interaction: discord.Interaction[VideoBot], /) -> bool:
        metrics = self.metrics
        if interaction.type is discord.InteractionType.application_command and interaction.command:
            metrics.command(interaction.command.qualified_name)
        if not await refuse_outside_guild(interaction, user_install=_user_install(interaction)):
            metrics.refused(RefusalReason.OUTSIDE_GUILD)
            return False
        if not await serves(interaction):
            metrics.refused(RefusalReason.NOT_SERVED)
            return False
        return True

    async def on_error(
        self, interaction: discord.Interaction[VideoBot], error: app_commands.AppCommandError
    ) -> None:
        await reply_error(interaction, error)
