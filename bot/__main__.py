"""Composition root: settings → logging → storage → HTTP session → API client → bot.

``python -m bot`` runs the bot (so does the ``hailuo-videobot`` console script, the same ``main``);
``python -m bot --check`` verifies a deployment without starting it; ``--version`` names the release;
``python -m bot migrate-db --to postgresql://…`` copies the SQLite data into PostgreSQL.
Start-up problems end in one clear line and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import logging
import signal
import sys
import time
from pathlib import Path

import aiohttp
import discord

from bot import instance
from bot.config import ConfigError, Settings, load_settings
from bot.logformat import formatter_for
from bot.metrics import Metrics
from bot.minimax.callbacks import CallbackSwitch
from bot.minimax.client import MiniMaxClient
from bot.minimax.ratelimit import SubmitRateLimiter
from storage import (
    DatabaseDamaged,
    DatabaseUnavailable,
    Storage,
    StorageError,
    backup_database,
    redact_database_url,
)

log = logging.getLogger("bot")

EXIT_CONFIG = 2
DISTRIBUTION = "hailuo-videobot"  # the package's name, and its console script's ([project.scripts])


def version() -> str:
    """The installed release (pyproject's ``version``); a checkout run without installing has none."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"


def _prog() -> str:
    """How help and errors name the command: the console script by its name, else ``python -m bot``."""
    return DISTRIBUTION if sys.argv and Path(sys.argv[0]).name == DISTRIBUTION else "python -m bot"


def _setup_logging(level: str, log_format: str = "text") -> None:
    formatter = formatter_for(log_format, sys.stderr)
    if formatter is None:  # text on a terminal: discord.py's coloured layout
        discord.utils.setup_logging(level=getattr(logging, level), root=True)
    else:
        discord.utils.setup_logging(formatter=formatter, level=getattr(logging, level), root=True)
    # Every REST call at DEBUG drowns the log; discord.http warnings (rate limits) still show.
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    logging.getLogger("discord.gateway").setLevel(max(logging.INFO, getattr(logging, level)))
    # discord.py logs webhook URLs at DEBUG, and a follow-up URL carries the interaction's token.
    logging.getLogger("discord.webhook").setLevel(max(logging.INFO, getattr(logging, level)))
    # aiosqlite logs every statement at DEBUG; our own storage logs what matters.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, getattr(logging, level)))


def _check_logging(level: str, log_format: str) -> None:
    """``--check``'s screen is its ✓/✗ lines: the API client's retries and warnings stay off it (each
    line already says how its check ended). With ``LOG_LEVEL=DEBUG`` they are shown, as the log."""
    if level == "DEBUG":
        _setup_logging(level, log_format)
        return
    # A handler on the root logger, so Python's last-resort printer stays quiet too.
    logging.getLogger().addHandler(logging.NullHandler())


def make_client(
    settings: Settings, session: aiohttp.ClientSession, metrics: Metrics | None = None
) -> MiniMaxClient:
    return MiniMaxClient(
        session,
        settings.minimax_api_key.reveal(),
        settings.minimax_base_url,
        timeout=settings.minimax_timeout,
        submit_limiter=SubmitRateLimiter(settings.minimax_rpm),
        metrics=metrics,
        callback=CallbackSwitch(settings.callback_url) if settings.callback_url else None,
    )


def database_target(settings: Settings) -> str | Path:
    """Where storage opens: PostgreSQL when ``DATABASE_URL`` is set, else the SQLite file."""
    return settings.database_path if settings.database_url is None else settings.database_url.reveal()


def database_label(settings: Settings) -> str:
    """The database as messages name it (a URL without its password)."""
    if settings.database_url is None:
        return str(settings.database_path)
    return redact_database_url(settings.database_url.reveal())


async def open_storage(settings: Settings) -> Storage:
    """The database with the operator's quota defaults (what guilds without their own default get)."""
    return await Storage.open(
        database_target(settings),
        default_limit_tenths=settings.default_quota_tenths,
        default_period=settings.default_quota_period,
    )


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _run(settings: Settings) -> int:
    if settings.database_url is not None:
        # PostgreSQL serves many processes at once (reservations are atomic across them): no claim.
        return await _run_claimed(settings)
    try:
        claimed = instance.claim(settings.database_path)
    except (instance.AlreadyRunning, OSError) as exc:
        print(
            str(exc) if isinstance(exc, instance.AlreadyRunning) else f"Cannot lock the database: {exc}",
            file=sys.stderr,
        )
        return 1
    try:
        return await _run_claimed(settings)
    finally:
        instance.release(claimed)


async def _run_claimed(settings: Settings) -> int:
    from bot.app import build_bot

    try:
        storage = await open_storage(settings)
    except DatabaseDamaged as exc:
        # Refusing to start, as for a bad setting: running on a damaged file fails later, mid-request.
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    except DatabaseUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except (StorageError, OSError) as exc:
        print(f"Cannot open the database at {database_label(settings)}: {exc}", file=sys.stderr)
        return 1
    try:
        async with aiohttp.ClientSession() as session:
            metrics = Metrics()  # one registry for the bot and its API client
            bot = build_bot(settings, storage, make_client(settings, session, metrics), metrics=metrics)
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


def _backup(settings: Settings, target: Path) -> int:
    """``python -m bot backup PATH``: SQLite's online backup of DATABASE_PATH (see README, Backups)."""
    if settings.database_url is not None:
        print("DATABASE_URL is set: back PostgreSQL up with pg_dump (see README, Backups).", file=sys.stderr)
        return 1
    if target.is_dir():
        target = target / f"{settings.database_path.stem}-{time.strftime('%Y%m%d-%H%M%S')}.sqlite3"
    if target.resolve() == settings.database_path.resolve():
        print("The backup PATH is DATABASE_PATH itself: name another file.", file=sys.stderr)
        return 1
    try:
        asyncio.run(backup_database(settings.database_path, target))
    except (StorageError, OSError) as exc:
        print(f"Backup failed: {_one_line(exc)}", file=sys.stderr)
        return 1
    print(f"Backed up {settings.database_path} to {target}")
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
    parser = argparse.ArgumentParser(prog=_prog(), description="Hailuo video bot for Discord")
    parser.add_argument("--version", action="version", version=f"{DISTRIBUTION} {version()}")
    parser.add_argument("--check", action="store_true", help="check the configuration and exit")
    parser.add_argument(
        "--env-file",
        metavar="PATH",
        help="read settings from this file instead of ./.env (relative paths in it stay relative to "
        "the working directory)",
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=("backup", "migrate-db"),
        help="backup PATH: a consistent copy of the database, safe while the bot runs; "
        "migrate-db: copy the SQLite data into PostgreSQL",
    )
    parser.add_argument("path", nargs="?", help="where the backup goes (a folder: a dated file in it)")
    parser.add_argument("--to", metavar="POSTGRESQL_URL", help="migrate-db: the empty PostgreSQL database")
    args = parser.parse_args(argv)
    if args.command == "backup" and not args.path:
        parser.error("backup needs a PATH: python -m bot backup PATH")
    if args.command == "migrate-db" and not args.to:
        parser.error("migrate-db needs --to postgresql://user:password@host/dbname")
    try:
        if args.env_file is not None and not Path(args.env_file).is_file():
            raise ConfigError("--env-file", f"{args.env_file!r} is not a file")
        settings = load_settings(env_file=args.env_file or ".env")
    except ConfigError as exc:
        if args.check:
            # --check answers 0 (all fine) or 1 (a ✗ line); exit 2 is the bot refusing to start.
            print(f"✗ settings: {exc.problem}")
            return 1
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    for warning in settings.warnings:  # misspelled keys: said once, on the operator's screen
        print(f"Warning: {warning}", file=sys.stderr)
    if args.command == "backup":
        return _backup(settings, Path(args.path))
    if args.command == "migrate-db":
        from bot.migrate_db import migrate_db

        lines: list[str] = []
        status = asyncio.run(migrate_db(settings, args.to, out=lines))
        print("\n".join(lines), file=sys.stdout if status == 0 else sys.stderr)
        return status
    if args.check:
        from bot.check import run_checks

        _check_logging(settings.log_level, settings.log_format)
        return asyncio.run(run_checks(settings, discord_api=discord.http.Route.BASE))
    _setup_logging(settings.log_level, settings.log_format)
    try:
        return asyncio.run(_run(settings))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
