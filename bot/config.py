"""Settings: read once from the environment and ``.env``, validated, frozen.

Every problem is reported as one line naming the setting and what it expects, so an operator can
fix a deployment without reading a traceback. Secrets are wrapped so that no repr, log line or
exception text can show them.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from dotenv import dotenv_values

T = TypeVar("T")

PERIODS = ("day", "week", "month")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")


# The sane range of every numeric setting, inclusive, in the unit the operator writes (README's settings
# table states each). Checked on the number as written, after its own parsing, so "five" and "0.1" get
# the setting's usual message and only a well-formed value outside the range gets this one.
RANGES: dict[str, tuple[float, float]] = {
    "MINIMAX_RPM": (1, 10_000),
    "MINIMAX_QUERY_RPM": (1, 100_000),
    "MINIMAX_TIMEOUT_SECONDS": (1, 600),
    "MAX_DOWNLOAD_MB": (1, 4096),
    "MAX_EXTENDED_SECONDS": (4, 3600),
    "DEFAULT_QUOTA_CREDITS": (0, 1_000_000),
    "USER_INSTALL_CREDITS": (0, 1_000_000),
    "POLL_FIRST_DELAY_SECONDS": (0.1, 3600),
    "POLL_MIN_INTERVAL_SECONDS": (0.1, 3600),
    "POLL_MAX_INTERVAL_SECONDS": (0.1, 3600),
    "POLL_RATE_SHARE": (0.01, 1),
    "TASK_TIMEOUT_MINUTES": (1, 1440),
    "STATUS_EDIT_INTERVAL_SECONDS": (0.1, 300),
    "ACCOUNT_PAUSE_MINUTES": (0.1, 1440),
    "SUBMIT_CONCURRENCY": (1, 32),
    "DELIVERY_CONCURRENCY": (1, 32),
    "LEASE_SECONDS": (2, 600),
    "RETENTION_DAYS": (1, 36_500),
    "MAX_MEMBER_CREDITS": (0, 1_000_000),
    "MAX_GUILD_CAP_CREDITS": (0, 100_000_000),
    "MAX_QUEUED_PER_MEMBER": (1, 100_000),
    "SPEND_LIMIT_USD": (0.01, 1_000_000),
    "METRICS_PORT": (1, 65_535),
    "CALLBACK_PORT": (1, 65_535),
    "SHARD_COUNT": (1, 16_384),
}

# Discord ids are 64-bit snowflakes whose top bit is never set.
MAX_SNOWFLAKE = 2**63 - 1

# Path segments that belong to an endpoint, not to a base URL: the bot appends /v1/... and /v2/...
_VERSION_SEGMENT = re.compile(r"v\d+", re.IGNORECASE)


class ConfigError(Exception):
    """One bad setting; ``str()`` is the whole line shown to the operator at start.

    ``problem`` is the same line without the "Configuration error:" prefix, for a caller that
    frames it itself (``--check``'s "✗ settings: …"), so no line says it twice.
    """

    def __init__(self, setting: str, expected: str) -> None:
        self.setting = setting
        self.problem = f"{setting} {expected}"
        super().__init__(f"Configuration error: {self.problem}")


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
    # PostgreSQL instead of the SQLite file when set (its password makes it a secret).
    database_url: Secret | None = None
    discord_guild_ids: tuple[int, ...] = ()
    minimax_rpm: int = 5
    default_quota_tenths: int = 50
    default_quota_period: str = "day"
    log_level: str = "INFO"
    log_format: str = "text"
    # Timing knobs of the task lifecycle (seconds unless named otherwise).
    # None: the catalog's generation-time prior decides (see bot.lifecycle.estimate).
    poll_first_delay: float | None = None
    poll_min_interval: float = 5.0
    poll_max_interval: float = 60.0
    poll_share_of_rate: float = 0.5
    minimax_query_rpm: int = 120
    task_timeout: float = 20 * 60.0
    status_edit_interval: float = 5.0
    minimax_timeout: float = 30.0
    max_download_bytes: int = 512 * 1024 * 1024
    # The longest video Extend and Loop may make, all its segments together (seconds).
    max_extended_seconds: int = 60
    download_dir: Path | None = None
    # Submissions stop this long after the API reports an account problem (key, balance, plan).
    account_pause: float = 15 * 60.0
    submit_concurrency: int = 2
    # Deliveries (download, then upload) at once: bounds the bandwidth and the disk they hold.
    delivery_concurrency: int = 4
    # How long a process's claim on a task lasts unrenewed (several processes on PostgreSQL): a dead
    # process's tasks are taken over this long after its last renewal.
    lease_seconds: float = 30.0
    # The operator's money: which servers may use the bot, what all of them may spend together,
    # what a server's moderators may grant, who the operator is, and a member's tasks in flight.
    allowed_guild_ids: tuple[int, ...] = ()
    spend_limit_usd: Decimal | None = None
    spend_limit_period: str = "day"
    max_member_credits_tenths: int = 100_000
    max_guild_cap_credits_tenths: int | None = None
    owner_ids: tuple[int, ...] = ()
    max_queued_per_member: int = 3
    # Metrics and health endpoints (issue 14): off unless METRICS_PORT is set.
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    # Sharding (issue 14): None runs one unsharded gateway connection, as a single process always did.
    shard_count: int | None = None
    shard_ids: tuple[int, ...] = ()  # this process's shards; empty with a count: all of them

    def guild_allowed(self, guild_id: int | None) -> bool:
        """``ALLOWED_GUILD_IDS``: empty lets every server in; ``None`` (no server) is not a server."""
        return guild_id is None or not self.allowed_guild_ids or guild_id in self.allowed_guild_ids

    # Finished tasks' prompts are erased this many days after they finished; None: kept.
    retention_days: int | None = None
    # Said once at start (keys in .env that look like ours but are not settings); not compared.
    warnings: tuple[str, ...] = field(default=(), compare=False)
    # Push notifications (bot.minimax.callbacks, bot.lifecycle.pushes): off without CALLBACK_URL.
    callback_url: str | None = None
    callback_host: str = "127.0.0.1"
    callback_port: int = 8080
    # A thread on every public status card, for servers that did not choose (`/videoadmin policy threads`).
    thread_per_video: bool = False
    # User install (issue 13): off unless the operator allows it. With it on, a member may add the app
    # to their own account and use /video in DMs and in servers the bot is not in, paying from a
    # personal allowance (these credits per this period) under the bot-wide ceiling.
    user_install: bool = False
    user_install_tenths: int = 50
    user_install_period: str = "day"

    def personal_allowance(self, guild_id: int | None) -> tuple[int, str]:
        """The operator's default limit and period for a request in ``guild_id``: a guild without its
        own default gets ``DEFAULT_QUOTA_*``; no guild (a DM, a personal install) gets
        ``USER_INSTALL_*``. The one place that says which default applies where."""
        if guild_id is None:
            return self.user_install_tenths, self.user_install_period
        return self.default_quota_tenths, self.default_quota_period

    @property
    def own_shards(self) -> tuple[int, ...]:
        """The shards this process connects (empty when unsharded)."""
        if self.shard_count is None:
            return ()
        return self.shard_ids or tuple(range(self.shard_count))

    @property
    def syncs_commands(self) -> bool:
        """Whether this process syncs the slash commands: unsharded, or holding shard 0. One process
        owns the sync, so several never race to rewrite the same command set (and shard 0 always
        exists, whatever the split)."""
        return self.shard_count is None or 0 in self.own_shards

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
        value = convert(raw.strip())
    except (ValueError, InvalidOperation):
        raise ConfigError(name, f"{expected} (got {raw.strip()!r})") from None
    _check_range(name, raw.strip())
    return value


def _check_range(name: str, raw: str) -> None:
    if name not in RANGES:
        return
    low, high = RANGES[name]
    if not low <= float(raw.removeprefix("$")) <= high:
        raise ConfigError(name, f"must be between {low:g} and {high:g} (got {raw!r})")


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


def _usd(raw: str) -> Decimal:
    value = Decimal(raw.removeprefix("$"))
    if not value.is_finite() or value <= 0 or value > 1_000_000 or value != value.quantize(Decimal("0.01")):
        raise ValueError
    return value


def snowflakes(name: str) -> Callable[[str], tuple[int, ...]]:
    """Comma-separated Discord ids, and nothing else: ``111 222`` is not read as ``111222``.

    For every id-list setting (one rule); the error shows the part that is not an id.
    """

    def convert(raw: str) -> tuple[int, ...]:
        ids: list[int] = []
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isascii() or not part.isdigit() or not 0 < int(part) <= MAX_SNOWFLAKE:
                whole = "" if part == raw.strip() else f" (got {raw!r})"  # the value once, not twice
                raise ConfigError(
                    name, f"must be Discord ids separated by commas; {part!r} is not an id{whole}"
                )
            ids.append(int(part))
        return tuple(ids)

    return convert


def _base_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.query or parts.fragment:
        extra = ("?" + parts.query if parts.query else "") + ("#" + parts.fragment if parts.fragment else "")
        raise ConfigError("MINIMAX_BASE_URL", f"must not carry a query string: drop {extra!r}")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError
    _ = parts.port  # raises ValueError for a port that is not a number in range ("host:abc")
    if not parts.hostname:
        raise ValueError
    segments = parts.path.split("/")
    for index, segment in enumerate(segments):
        if _VERSION_SEGMENT.fullmatch(segment):
            endpoint = "/".join(segments[index:]).rstrip("/")
            raise ConfigError(
                "MINIMAX_BASE_URL",
                f"must be the base the bot adds /v1/... and /v2/... to: drop '/{endpoint}' (got {raw!r})",
            )
    return raw.rstrip("/")


def _database_file(raw: str) -> Path:
    """A file SQLite can create or open for writing, in a folder that exists or can be created.

    Checked with the other settings, so a bad path is one line naming DATABASE_PATH, not a failure
    at open. (Whether an existing file is a sound database is the open's, or --check's, business.)
    """
    path = Path(raw).expanduser()
    try:
        if path.is_dir():
            raise ConfigError("DATABASE_PATH", f"is a directory ({raw!r}): name a file inside it")
        if path.exists() and not path.is_file():
            raise ConfigError("DATABASE_PATH", f"is not a regular file ({raw!r})")
        existing = path.parent
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise ConfigError(
                "DATABASE_PATH", f"cannot be created: {str(existing)!r} is a file, not a directory"
            )
        # SQLite writes its -wal and -shm files next to the database, so the folder must be writable.
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ConfigError(
                "DATABASE_PATH", f"cannot be written: the folder {str(existing)!r} is read-only"
            )
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            raise ConfigError("DATABASE_PATH", f"cannot be written: the file {raw!r} is read-only")
    except OSError as exc:
        raise ConfigError("DATABASE_PATH", f"cannot be used ({exc.strerror or type(exc).__name__})") from None
    return path


def _callback_url(raw: str) -> str:
    """A public https URL: MiniMax pushes there, through the operator's reverse proxy."""
    parts = urlsplit(raw)
    if parts.scheme != "https" or not parts.hostname or parts.fragment:
        raise ValueError
    _ = parts.port
    return raw


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 < value < 65536:
        raise ValueError
    return value


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


def _database_url(env: Mapping[str, str | None]) -> Secret | None:
    """``DATABASE_URL``: unset means SQLite at ``DATABASE_PATH``; the error never repeats the value
    (it may hold a password)."""
    raw = (env.get("DATABASE_URL") or "").strip()
    if not raw:
        return None
    if not raw.startswith(("postgresql://", "postgres://")) or any(ch.isspace() for ch in raw):
        raise ConfigError(
            "DATABASE_URL", "must be a postgresql:// URL (leave it unset to use SQLite at DATABASE_PATH)"
        )
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


class _Reads(Mapping[str, str | None]):
    """The merged settings, remembering which names were asked for: the names of our settings."""

    def __init__(self, values: dict[str, str | None]) -> None:
        self._values = values
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str | None:
        self.asked.add(key)
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def _prefix(name: str) -> str:
    return name.split("_", 1)[0] + "_"


def unknown_key_warnings(keys: list[str], known: set[str]) -> tuple[str, ...]:
    """One line per key that looks like one of ours (same first word) but is none: a misspelling."""
    prefixes = {_prefix(name) for name in known}
    lines = []
    for key in keys:
        if key in known or _prefix(key) not in prefixes:
            continue
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        lines.append(f"{key} in .env is not a setting and is ignored{hint}")
    return tuple(lines)


def known_settings() -> tuple[str, ...]:
    """Every setting's name, as ``load_settings`` reads them (the one list, derived, never typed)."""
    # A database path that is always valid, so the answer does not depend on the working directory.
    scratch = str(Path(tempfile.gettempdir()) / "known-settings.sqlite3")
    reads = _Reads({"DISCORD_TOKEN": "x", "MINIMAX_API_KEY": "x", "DATABASE_PATH": scratch})
    _build(reads)
    return tuple(sorted(reads.asked))


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Settings:
    """Merge ``.env`` (if present) under the real environment and validate every value."""
    merged: dict[str, str | None] = {}
    file_keys: list[str] = []
    if env_file is not None and Path(env_file).is_file():
        from_file = _read_env_file(Path(env_file))
        file_keys = list(from_file)
        merged.update(from_file)
    merged.update(os.environ if environ is None else environ)
    env = _Reads(merged)
    settings = _build(env)
    warnings = unknown_key_warnings(file_keys, env.asked) + _combination_warnings(settings)
    return replace(settings, warnings=warnings) if warnings else settings


def _combination_warnings(settings: Settings) -> tuple[str, ...]:
    """Settings that are each valid but together do less than the operator likely expects."""
    if settings.user_install and settings.discord_guild_ids:
        return (
            "USER_INSTALL=on with DISCORD_GUILD_IDS set: commands synced to those servers only do not "
            "exist in DMs or other servers; leave DISCORD_GUILD_IDS empty to sync them globally",
        )
    return ()


def _build(env: Mapping[str, str | None]) -> Settings:
    settings = Settings(
        discord_token=_required_secret(env, "DISCORD_TOKEN", "your Discord bot token"),
        minimax_api_key=_required_secret(env, "MINIMAX_API_KEY", "your MiniMax API key"),
        minimax_base_url=_parse(
            env, "MINIMAX_BASE_URL", "https://api.minimax.io", _base_url, "must be an http(s) URL"
        ),
        database_path=_parse(env, "DATABASE_PATH", None, _database_file, "must be a file path")
        or _database_file("data/videobot.sqlite3"),
        database_url=_database_url(env),
        discord_guild_ids=_parse(
            env,
            "DISCORD_GUILD_IDS",
            (),
            snowflakes("DISCORD_GUILD_IDS"),
            "must be comma-separated guild ids (numbers)",
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
        log_format=_parse(env, "LOG_FORMAT", "text", _choice(LOG_FORMATS), "must be text or json"),
        poll_first_delay=_parse(
            env, "POLL_FIRST_DELAY_SECONDS", None, _positive_float, "must be seconds above 0"
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
        max_extended_seconds=_parse(
            env, "MAX_EXTENDED_SECONDS", 60, _positive_int, "must be a whole number of seconds above 0"
        ),
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
        lease_seconds=_parse(env, "LEASE_SECONDS", 30.0, _positive_float, "must be seconds above 0"),
        retention_days=_parse(
            env, "RETENTION_DAYS", None, _positive_int, "must be a whole number of days above 0, or empty"
        ),
        callback_url=_parse(
            env, "CALLBACK_URL", None, _callback_url, "must be a public https:// URL (or unset)"
        ),
        callback_host=_parse(env, "CALLBACK_HOST", "127.0.0.1", str, "must be an address to listen on"),
        callback_port=_parse(env, "CALLBACK_PORT", 8080, _port, "must be a port number from 1 to 65535"),
        thread_per_video=_parse(env, "THREAD_PER_VIDEO", False, _on_off, "must be on or off"),
    )
    settings = _with_money_settings(settings, env)
    settings = _with_metrics_settings(settings, env)
    settings = _with_shard_settings(settings, env)
    settings = _with_user_install_settings(settings, env)
    if settings.allowed_guild_ids and not set(settings.discord_guild_ids) <= set(settings.allowed_guild_ids):
        raise ConfigError("DISCORD_GUILD_IDS", "must list only servers that are also in ALLOWED_GUILD_IDS")
    if settings.poll_min_interval > settings.poll_max_interval:
        raise ConfigError("POLL_MIN_INTERVAL_SECONDS", "must not exceed POLL_MAX_INTERVAL_SECONDS")
    return settings


def _with_money_settings(settings: Settings, env: Mapping[str, str | None]) -> Settings:
    """The operator's money settings (issue 10), read in their own block."""
    return replace(
        settings,
        allowed_guild_ids=_parse(
            env,
            "ALLOWED_GUILD_IDS",
            (),
            snowflakes("ALLOWED_GUILD_IDS"),
            "must be comma-separated guild ids (numbers)",
        ),
        spend_limit_usd=_parse(
            env, "SPEND_LIMIT_USD", None, _usd, "must be US dollars above 0 (at most two decimals)"
        ),
        spend_limit_period=_parse(
            env, "SPEND_LIMIT_PERIOD", "day", _choice(PERIODS), "must be day, week or month"
        ),
        max_member_credits_tenths=_parse(
            env, "MAX_MEMBER_CREDITS", 100_000, _credits, "must be a number of credits ≥ 0 (one decimal)"
        ),
        max_guild_cap_credits_tenths=_parse(
            env,
            "MAX_GUILD_CAP_CREDITS",
            None,
            _credits,
            "must be a number of credits ≥ 0 (one decimal)",
        ),
        owner_ids=_parse(
            env, "OWNER_IDS", (), snowflakes("OWNER_IDS"), "must be comma-separated user ids (numbers)"
        ),
        max_queued_per_member=_parse(
            env, "MAX_QUEUED_PER_MEMBER", 3, _positive_int, "must be a whole number above 0"
        ),
    )


def _with_user_install_settings(settings: Settings, env: Mapping[str, str | None]) -> Settings:
    """User install (issue 13), read in its own block: off unless switched on."""
    return replace(
        settings,
        user_install=_parse(env, "USER_INSTALL", False, _on_off, "must be on or off"),
        user_install_tenths=_parse(
            env, "USER_INSTALL_CREDITS", 50, _credits, "must be a number of credits ≥ 0 (one decimal)"
        ),
        user_install_period=_parse(
            env, "USER_INSTALL_PERIOD", "day", _choice(PERIODS), "must be day, week or month"
        ),
    )


_HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*")


def _host(raw: str) -> str:
    """An address to listen on: an IP address (0.0.0.0 and :: mean every interface) or a host name."""
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        if len(raw) > 253 or not _HOST_NAME.fullmatch(raw):
            raise ValueError from None
    return raw


def _with_metrics_settings(settings: Settings, env: Mapping[str, str | None]) -> Settings:
    """The metrics and health endpoints (issue 14), read in their own block."""
    return replace(
        settings,
        metrics_port=_parse(env, "METRICS_PORT", None, _port, "must be a port number from 1 to 65535"),
        metrics_host=_parse(
            env, "METRICS_HOST", "127.0.0.1", _host, "must be a host name or IP address to listen on"
        ),
    )


def _shard_ids(raw: str) -> tuple[int, ...]:
    """Comma-separated shard numbers (0 and up), each once."""
    ids: list[int] = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isascii() or not part.isdigit():
            raise ConfigError(
                "SHARD_IDS", f"must be shard numbers separated by commas; {part!r} is not one (got {raw!r})"
            )
        if int(part) in ids:
            raise ConfigError("SHARD_IDS", f"names shard {int(part)} twice (got {raw!r})")
        ids.append(int(part))
    return tuple(ids)


def _with_shard_settings(settings: Settings, env: Mapping[str, str | None]) -> Settings:
    """Sharding (issue 14): ``SHARD_COUNT`` shards in all, ``SHARD_IDS`` the ones this process runs."""
    count: int | None = _parse(
        env, "SHARD_COUNT", None, _positive_int, "must be a whole number of shards above 0"
    )
    ids: tuple[int, ...] = _parse(
        env, "SHARD_IDS", (), _shard_ids, "must be shard numbers separated by commas"
    )
    if ids and count is None:
        raise ConfigError(
            "SHARD_IDS", "needs SHARD_COUNT, the number of shards across every process (e.g. SHARD_COUNT=2)"
        )
    if count is not None:
        beyond = [shard for shard in ids if shard >= count]
        if beyond:
            raise ConfigError(
                "SHARD_IDS",
                f"must be shard numbers from 0 to {count - 1} (SHARD_COUNT={count}); {beyond[0]} is not",
            )
    return replace(settings, shard_count=count, shard_ids=tuple(sorted(ids)))
