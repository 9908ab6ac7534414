"""Settings: read once from the environment and ``.env``, validated, frozen.

Every problem is reported as one line naming the setting and what it expects, so an operator can
fix a deployment without reading a traceback. Secrets are wrapped so that no repr, log line or
exception text can show them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from dotenv import dotenv_values

T = TypeVar("T")

PERIODS = ("day", "week", "month")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """One bad setting; ``str()`` is the whole line shown to the operator."""

    def __init__(self, setting: str, expected: str) -> None:
        super().__init__(f"Configuration error: {setting} {expected}")
        self.setting = setting


class Secret:
    """A string that never shows itself by accident."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Settings:
    discord_token: Secret
    minimax_api_key: Secret
    minimax_base_url: str = "https://api.minimax.io"
    database_path: Path = Path("data/videobot.sqlite3")
    discord_guild_ids: tuple[int, ...] = ()
    minimax_rpm: int = 5
    default_quota_tenths: int = 50
    default_quota_period: str = "day"
    log_level: str = "INFO"
    # Timing knobs of the task lifecycle (seconds unless named otherwise).
    poll_first_delay: float = 30.0
    poll_min_interval: float = 5.0
    poll_max_interval: float = 60.0
    poll_share_of_rate: float = 0.5
    minimax_query_rpm: int = 120
    task_timeout: float = 20 * 60.0
    status_edit_interval: float = 5.0
    minimax_timeout: float = 30.0
    max_download_bytes: int = 512 * 1024 * 1024
    download_dir: Path | None = None
    # Submissions stop this long after the API reports an account problem (key, balance, plan).
    account_pause: float = 15 * 60.0
    submit_concurrency: int = 2
    # Deliveries (download, then upload) at once: bounds the bandwidth and the disk they hold.
    delivery_concurrency: int = 4
    # A thread on every public status card, for servers that did not choose (`/videoadmin policy threads`).
    thread_per_video: bool = False

    @property
    def poll_query_budget_per_minute(self) -> float:
        """Queries per minute the poller may spend: its configured share of the query rate."""
        return max(1.0, self.minimax_query_rpm * self.poll_share_of_rate)


def _parse(
    env: Mapping[str, str | None], name: str, default: T, convert: Callable[[str], T], expected: str
) -> T:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return convert(raw.strip())
    except (ValueError, InvalidOperation):
        raise ConfigError(name, f"{expected} (got {raw.strip()!r})") from None


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0 or value == float("inf"):
        raise ValueError
    return value


def _share(raw: str) -> float:
    value = float(raw)
    if not 0 < value <= 1:
        raise ValueError
    return value


def _credits(raw: str) -> int:
    value = Decimal(raw)
    if value < 0 or value > 1_000_000 or (value * 10) % 1 != 0:
        raise ValueError
    return int(value * 10)


def _guild_ids(raw: str) -> tuple[int, ...]:
    ids = tuple(int(part) for part in raw.replace(" ", "").split(",") if part)
    if any(i <= 0 for i in ids):
        raise ValueError
    return ids


def _base_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError
    _ = parts.port  # raises ValueError for a port that is not a number in range ("host:abc")
    if not parts.hostname:
        raise ValueError
    return raw.rstrip("/")


def _writable_directory(raw: str) -> Path:
    """A directory the bot can create (or has) and write in; checked now, not at the first video."""
    try:
        path = Path(raw).expanduser()
        existing = path
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        usable = existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)
    except (OSError, RuntimeError):  # a parent it may not read; "~nobody" with no such user
        raise ValueError from None
    if not usable:
        raise ValueError
    return path


def _on_off(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("on", "true", "yes", "1"):
        return True
    if value in ("off", "false", "no", "0"):
        return False
    raise ValueError


def _choice(options: tuple[str, ...], *, upper: bool = False) -> Callable[[str], str]:
    def convert(raw: str) -> str:
        value = raw.upper() if upper else raw.lower()
        if value not in options:
            raise ValueError
        return value

    return convert


def _required_secret(env: Mapping[str, str | None], name: str, what: str) -> Secret:
    raw = (env.get(name) or "").strip()
    if not raw:
        raise ConfigError(name, f"is missing: set it to {what} in the environment or in .env")
    if any(ch.isspace() for ch in raw):
        raise ConfigError(name, f"must be {what} without spaces")
    return Secret(raw)


def _read_env_file(path: Path) -> dict[str, str | None]:
    """The file's values; an unreadable or non-UTF-8 file is a configuration error, not a traceback."""
    try:
        return dotenv_values(path, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            str(path), f"is not valid UTF-8 text (byte {exc.object[exc.start]:#04x}): save it as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(str(path), f"cannot be read ({exc.strerror or type(exc).__name__})") from None


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Settings:
    """Merge ``.env`` (if present) under the real environment and validate every value."""
    env: dict[str, str | None] = {}
    if env_file is not None and Path(env_file).is_file():
        env.update(_read_env_file(Path(env_file)))
    env.update(os.environ if environ is None else environ)

    settings = Settings(
        discord_token=_required_secret(env, "DISCORD_TOKEN", "your Discord bot token"),
        minimax_api_key=_required_secret(env, "MINIMAX_API_KEY", "your MiniMax API key"),
        minimax_base_url=_parse(
            env, "MINIMAX_BASE_URL", "https://api.minimax.io", _base_url, "must be an http(s) URL"
        ),
        database_path=_parse(
            env, "DATABASE_PATH", Path("data/videobot.sqlite3"), Path, "must be a file path"
        ),
        discord_guild_ids=_parse(
            env, "DISCORD_GUILD_IDS", (), _guild_ids, "must be comma-separated guild ids (numbers)"
        ),
        minimax_rpm=_parse(env, "MINIMAX_RPM", 5, _positive_int, "must be a whole number above 0"),
        default_quota_tenths=_parse(
            env, "DEFAULT_QUOTA_CREDITS", 50, _credits, "must be a number of credits ≥ 0 (one decimal)"
        ),
        default_quota_period=_parse(
            env, "DEFAULT_QUOTA_PERIOD", "day", _choice(PERIODS), "must be day, week or month"
        ),
        log_level=_parse(
            env,
            "LOG_LEVEL",
            "INFO",
            _choice(LOG_LEVELS, upper=True),
            "must be DEBUG, INFO, WARNING, ERROR or CRITICAL",
        ),
        poll_first_delay=_parse(
            env, "POLL_FIRST_DELAY_SECONDS", 30.0, _positive_float, "must be seconds above 0"
        ),
        poll_min_interval=_parse(
            env, "POLL_MIN_INTERVAL_SECONDS", 5.0, _positive_float, "must be seconds above 0"
        ),
        poll_max_interval=_parse(
            env, "POLL_MAX_INTERVAL_SECONDS", 60.0, _positive_float, "must be seconds above 0"
        ),
        poll_share_of_rate=_parse(
            env, "POLL_RATE_SHARE", 0.5, _share, "must be a fraction above 0 and at most 1"
        ),
        minimax_query_rpm=_parse(
            env, "MINIMAX_QUERY_RPM", 120, _positive_int, "must be a whole number above 0"
        ),
        task_timeout=_parse(env, "TASK_TIMEOUT_MINUTES", 20.0, _positive_float, "must be minutes above 0")
        * 60,
        status_edit_interval=_parse(
            env, "STATUS_EDIT_INTERVAL_SECONDS", 5.0, _positive_float, "must be seconds above 0"
        ),
        minimax_timeout=_parse(
            env, "MINIMAX_TIMEOUT_SECONDS", 30.0, _positive_float, "must be seconds above 0"
        ),
        max_download_bytes=_parse(
            env, "MAX_DOWNLOAD_MB", 512, _positive_int, "must be a whole number of megabytes above 0"
        )
        * 1024
        * 1024,
        download_dir=_parse(
            env,
            "DOWNLOAD_DIR",
            None,
            _writable_directory,
            "must be a directory the bot can create and write in",
        ),
        account_pause=_parse(env, "ACCOUNT_PAUSE_MINUTES", 15.0, _positive_float, "must be minutes above 0")
        * 60,
        submit_concurrency=_parse(
            env, "SUBMIT_CONCURRENCY", 2, _positive_int, "must be a whole number above 0"
        ),
        delivery_concurrency=_parse(
            env, "DELIVERY_CONCURRENCY", 4, _positive_int, "must be a whole number above 0"
        ),
        thread_per_video=_parse(env, "THREAD_PER_VIDEO", False, _on_off, "must be on or off"),
    )
    if settings.poll_min_interval > settings.poll_max_interval:
        raise ConfigError("POLL_MIN_INTERVAL_SECONDS", "must not exceed POLL_MAX_INTERVAL_SECONDS")
    return settings
