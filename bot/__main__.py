"""Composition root: settings → logging → storage → HTTP session → API client → bot.

``python -m bot`` runs the bot; ``python -m bot --check`` verifies a deployment without starting it.
Start-up problems end in one clear line and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

import aiohttp
import discord

from bot.config import ConfigError, Settings, load_settings
from bot.minimax.callbacks import CallbackSwitch
from bot.minimax.client import MiniMaxClient
from bot.minimax.ratelimit import SubmitRateLimiter
from storage import DatabaseUnavailable, Storage, StorageError

log = logging.getLogger("bot")

EXIT_CONFIG = 2


def _setup_logging(level: str) -> None:
    discord.utils.setup_logging(level=getattr(logging, level), root=True)
    # Every REST call at DEBUG drowns the log; discord.http warnings (rate limits) still show.
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    logging.getLogger("discord.gateway").setLevel(max(logging.INFO, getattr(logging, level)))
    # discord.py logs webhook URLs at DEBUG, and a follow-up URL carries the interaction's token.
    logging.getLogger("discord.webhook").setLevel(max(logging.INFO, getattr(logging, level)))
    # aiosqlite logs every statement at DEBUG; our own storage logs what matters.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, getattr(logging, level)))


def make_client(settings: Settings, session: aiohttp.ClientSession) -> MiniMaxClient:
    return MiniMaxClient(
        session,
        settings.minimax_api_key.reveal(),
        settings.minimax_base_url,
        timeout=settings.minimax_timeout,
        submit_limiter=SubmitRateLimiter(settings.minimax_rpm),
        callback=CallbackSwitch(settings.callback_url) if settings.callback_url else None,
    )


async def open_storage(settings: Settings) -> Storage:
    """The database with the operator's quota defaults (what guilds without their own default get)."""
    return await Storage.open(
        settings.database_path,
        default_limit_tenths=settings.default_quota_tenths,
        default_period=settings.default_quota_period,
    )


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _run(settings: Settings) -> int:
    from bot.app import VideoBot

    try:
        storage = await open_storage(settings)
    except DatabaseUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except (StorageError, OSError) as exc:
        print(f"Cannot open the database at {settings.database_path}: {exc}", file=sys.stderr)
        return 1
    try:
        async with aiohttp.ClientSession() as session:
            bot = VideoBot(settings, storage, make_client(settings, session))
            loop = asyncio.get_running_loop()
            signalled = asyncio.Event()  # a stop asked for: what start-up then raises is not a failure
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, _request_close, bot, sig, signalled)
            try:
                async with bot:
                    await bot.start(settings.discord_token.reveal())
            except discord.LoginFailure:
                print(
                    "Discord refused DISCORD_TOKEN: check the bot token in the Developer Portal.",
                    file=sys.stderr,
                )
                return 1
            except discord.PrivilegedIntentsRequired:
                print("Discord refused the requested gateway intents.", file=sys.stderr)
                return 1
            except (aiohttp.ClientError, OSError, TimeoutError, discord.GatewayNotFound) as exc:
                if not signalled.is_set():  # a signal during start-up closes the session under the login
                    # Only the login can end up here: once connected, discord.py reconnects by itself.
                    print(
                        f"Cannot reach Discord ({_one_line(exc)}); check the network and try again.",
                        file=sys.stderr,
                    )
                    return 1
            except discord.HTTPException as exc:
                if not signalled.is_set():
                    print(
                        f"Discord answered HTTP {exc.status} at start-up: {_one_line(exc)}", file=sys.stderr
                    )
                    return 1
    finally:
        await storage.close()
    log.info("Shut down cleanly")
    return 0


_closing: set[asyncio.Task[None]] = set()


def _request_close(bot: discord.Client, sig: signal.Signals, signalled: asyncio.Event) -> None:
    log.info("Received %s, shutting down", sig.name)
    signalled.set()
    # Keep a reference: the loop holds tasks only weakly, and a collected close() would hang shutdown.
    task = asyncio.get_running_loop().create_task(bot.close())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Hailuo video bot for Discord")
    parser.add_argument("--check", action="store_true", help="check the configuration and exit")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        if args.check:
            # --check answers 0 (all fine) or 1 (a ✗ line); exit 2 is the bot refusing to start.
            print(f"✗ settings: {exc}")
            return 1
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    if args.check:
        from bot.check import run_checks

        return asyncio.run(run_checks(settings, discord_api=discord.http.Route.BASE))
    _setup_logging(settings.log_level)
    try:
        return asyncio.run(_run(settings))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
