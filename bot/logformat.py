"""LOG_FORMAT: the log as text for people (discord.py's format, coloured only on a terminal) or as
one JSON object per line for a log collector.

JSON lines carry the same facts as the text ones (time, level, logger, message, and the traceback
when there is one); secrets are kept out of both by the code that logs, not here.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TextIO

# discord.py's own plain layout, so text logs look the same with or without colour.
PLAIN = logging.Formatter("[{asctime}] [{levelname:<8}] {name}: {message}", "%Y-%m-%d %H:%M:%S", style="{")


def formatter_for(log_format: str, stream: TextIO) -> logging.Formatter | None:
    """The formatter for LOG_FORMAT on ``stream``; None: discord.py's coloured one (a terminal only).

    discord.py colours whenever it runs in Docker, terminal or not: a log file or a collector would
    get escape codes, so colour is left to discord.py only when the stream is a terminal.
    """
    if log_format == "json":
        return JsonFormatter()
    isatty = getattr(stream, "isatty", None)
    return None if callable(isatty) and isatty() else PLAIN


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (a traceback goes in ``exc``, newlines escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)
