"""LOG_FORMAT: JSON lines for a collector; text without colour codes unless on a terminal."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from bot.config import ConfigError, load_settings
from bot.logformat import JsonFormatter, formatter_for

BASE = {"DISCORD_TOKEN": "t", "MINIMAX_API_KEY": "k"}


def record(message: str = "synced %d commands", *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord("bot.app", logging.WARNING, __file__, 1, message, args or (3,), exc_info)


def test_json_lines_carry_the_facts_on_one_line() -> None:
    line = JsonFormatter().format(record(exc=True))
    assert "\n" not in line
    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["message"]) == ("WARNING", "bot.app", "synced 3 commands")
    assert entry["time"].endswith("+00:00") and "ValueError: boom" in entry["exc"]


def test_text_has_no_colour_codes_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """discord.py colours inside Docker even into a file or a pipe; ours does not."""
    import discord.utils

    monkeypatch.setattr(discord.utils, "is_docker", lambda: True)
    formatter = formatter_for("text", io.StringIO())
    assert formatter is not None
    assert "\x1b[" not in formatter.format(record())
    assert isinstance(formatter_for("json", io.StringIO()), JsonFormatter)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert formatter_for("text", Terminal()) is None  # discord.py's coloured layout


def test_log_format_setting() -> None:
    assert load_settings(BASE, env_file=None).log_format == "text"
    assert load_settings({**BASE, "LOG_FORMAT": "JSON"}, env_file=None).log_format == "json"
    with pytest.raises(ConfigError, match="LOG_FORMAT must be text or json"):
        load_settings({**BASE, "LOG_FORMAT": "xml"}, env_file=None)
