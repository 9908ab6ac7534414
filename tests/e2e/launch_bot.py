"""Run a bot, unmodified, against a local fake of Discord.

Usage: ``python tests/e2e/launch_bot.py <discord_api_base> <gateway_url> [--api-minute SECONDS]
[--script FILE | --module NAME] [-- bot arguments]``. It points discord.py at the fake (``Route.BASE``
for REST, webhooks and interaction callbacks; ``DEFAULT_GATEWAY`` for the websocket) and then runs
the bot exactly as ``python -m bot`` would, so the code under test is the code that ships.

``--api-minute`` shortens the API's minute (``bot.minimax.ratelimit.WINDOW_SECONDS``, the window
``MINIMAX_RPM`` counts submits in), as the fake MiniMax's clock shortens a video's making: a test
can then watch the account's limit bind over a few seconds instead of minutes.
"""

from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="launch_bot.py")
    parser.add_argument("api_base", help="e.g. http://127.0.0.1:PORT/api/v10")
    parser.add_argument("gateway_url", help="e.g. ws://127.0.0.1:PORT/")
    parser.add_argument("--api-minute", type=float, help="seconds the API's rate-limit minute lasts")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--module", default="bot", help="module to run as __main__ (default: bot)")
    target.add_argument("--script", type=Path, help="a script file to run as __main__ instead")
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    bot_args = argv[split + 1 :]  # everything after "--" belongs to the bot

    import discord.gateway
    import discord.http
    import yarl

    discord.http.Route.BASE = args.api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(args.gateway_url)

    # Behave like ``python -m``: the launcher's own folder must not shadow the bot's imports.
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p != here]
    if args.api_minute is not None:
        from bot.minimax import ratelimit

        ratelimit.WINDOW_SECONDS = args.api_minute  # read at each use, by every limiter
    if args.script is not None:
        sys.argv = [str(args.script), *bot_args]
        runpy.run_path(str(args.script), run_name="__main__")
    else:
        sys.argv = [args.module, *bot_args]
        sys.path.insert(0, "")
        runpy.run_module(args.module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
