"""Settings: defaults, validation messages naming the setting, secrets that never show."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, Secret, load_settings

BASE = {"DISCORD_TOKEN": "discord-secret-token", "MINIMAX_API_KEY": "minimax-secret-key"}


def load(**extra: str) -> object:
    return load_settings({**BASE, **extra}, env_file=None)


def test_defaults() -> None:
    settings = load_settings(BASE, env_file=None)
    assert settings.minimax_base_url == "https://api.minimax.io"
    assert settings.database_path == Path("data/videobot.sqlite3")
    assert settings.discord_guild_ids == ()
    assert settings.minimax_rpm == 5
    assert settings.default_quota_tenths == 50
    assert settings.default_quota_period == "day"
    assert settings.log_level == "INFO"
    assert settings.task_timeout == 20 * 60


def test_values_are_parsed() -> None:
    settings = load_settings(
        {
            **BASE,
            "MINIMAX_BASE_URL": "https://api.chainhub.tech/minimax/",
            "DISCORD_GUILD_IDS": "1, 22,333",
            "MINIMAX_RPM": "20",
            "DEFAULT_QUOTA_CREDITS": "2.5",
            "DEFAULT_QUOTA_PERIOD": "Week",
            "LOG_LEVEL": "debug",
            "TASK_TIMEOUT_MINUTES": "1.5",  # fractions of a minute still parse (0.5 is now below range)
        },
        env_file=None,
    )
    assert settings.minimax_base_url == "https://api.chainhub.tech/minimax"
    assert settings.discord_guild_ids == (1, 22, 333)
    assert settings.minimax_rpm == 20
    assert settings.default_quota_tenths == 25
    assert settings.default_quota_period == "week"
    assert settings.log_level == "DEBUG"
    assert settings.task_timeout == 90


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MINIMAX_RPM", "0"),
        ("MINIMAX_RPM", "five"),
        ("MINIMAX_BASE_URL", "ftp://example.com"),
        ("MINIMAX_BASE_URL", "api.minimax.io"),
        ("MINIMAX_BASE_URL", "https://api.minimax.io:abc"),
        ("MINIMAX_BASE_URL", "https://:443"),
        ("DISCORD_GUILD_IDS", "12,abc"),
        ("DEFAULT_QUOTA_CREDITS", "-1"),
        ("DEFAULT_QUOTA_CREDITS", "1.25"),
        ("DEFAULT_QUOTA_PERIOD", "year"),
        ("LOG_LEVEL", "LOUD"),
        ("POLL_RATE_SHARE", "1.5"),
        ("POLL_MIN_INTERVAL_SECONDS", "-3"),
        ("CALLBACK_URL", "http://bot.example.com/minimax"),
        ("CALLBACK_URL", "bot.example.com/minimax"),
        ("CALLBACK_PORT", "70000"),
        ("CALLBACK_PORT", "http"),
        ("THREAD_PER_VIDEO", "sometimes"),
        ("USER_INSTALL", "maybe"),
        ("USER_INSTALL_CREDITS", "-2"),
        ("USER_INSTALL_CREDITS", "lots"),
        ("USER_INSTALL_PERIOD", "year"),
    ],
)
def test_bad_value_names_the_setting(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(**{name: value})
    assert info.value.setting == name
    assert name in str(info.value)
    assert "\n" not in str(info.value)


def test_a_download_dir_under_a_file_is_refused_at_start_up(tmp_path: Path) -> None:
    """Found now, with the setting's name, not as a confusing error at the first delivery."""
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ConfigError) as info:
        load(DOWNLOAD_DIR=str(tmp_path / "a-file" / "videos"))
    assert info.value.setting == "DOWNLOAD_DIR"
    assert load(DOWNLOAD_DIR=str(tmp_path / "new" / "videos")).download_dir == tmp_path / "new" / "videos"
    with pytest.raises(ConfigError) as info:
        load(DOWNLOAD_DIR="~no-such-user-here/videos")
    assert info.value.setting == "DOWNLOAD_DIR"


@pytest.mark.parametrize("missing", ["DISCORD_TOKEN", "MINIMAX_API_KEY"])
def test_missing_secret(missing: str) -> None:
    env = {k: v for k, v in BASE.items() if k != missing}
    with pytest.raises(ConfigError) as info:
        load_settings(env, env_file=None)
    assert missing in str(info.value)


def test_interval_bounds_are_consistent() -> None:
    with pytest.raises(ConfigError, match="POLL_MIN_INTERVAL_SECONDS"):
        load(POLL_MIN_INTERVAL_SECONDS="90", POLL_MAX_INTERVAL_SECONDS="60")


def test_dotenv_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DISCORD_TOKEN=from-file\nMINIMAX_API_KEY=file-key\nMINIMAX_RPM=7\n")
    settings = load_settings({"MINIMAX_RPM": "9"}, env_file=env_file)
    assert settings.discord_token.reveal() == "from-file"
    assert settings.minimax_rpm == 9


def test_secrets_never_show() -> None:
    settings = load_settings(BASE, env_file=None)
    text = repr(settings) + str(settings)
    assert "discord-secret-token" not in text
    assert "minimax-secret-key" not in text
    assert repr(Secret("abc")) == "Secret('********')"
    bad = {**BASE, "DISCORD_TOKEN": "has space"}
    with pytest.raises(ConfigError) as info:
        load_settings(bad, env_file=None)
    assert "has space" not in str(info.value)


def test_env_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"DISCORD_TOKEN=abc\nMINIMAX_API_KEY=caf\xe9\n")  # Latin-1 é
    with pytest.raises(ConfigError) as info:
        load_settings({}, env_file=env_file)
    assert info.value.setting == str(env_file)
    assert "not valid UTF-8" in str(info.value) and "\n" not in str(info.value)


def test_log_level_accepts_critical_and_says_so() -> None:
    assert load_settings({**BASE, "LOG_LEVEL": "critical"}, env_file=None).log_level == "CRITICAL"
    with pytest.raises(ConfigError, match="DEBUG, INFO, WARNING, ERROR or CRITICAL"):
        load(LOG_LEVEL="LOUD")


def test_database_url_unset_means_sqlite_and_a_postgres_url_is_kept_secret() -> None:
    assert load_settings(BASE, env_file=None).database_url is None
    url = "postgresql://bot:pg-password@db.example/videobot"
    settings = load_settings({**BASE, "DATABASE_URL": url}, env_file=None)
    assert settings.database_url is not None and settings.database_url.reveal() == url
    assert "pg-password" not in repr(settings)


def test_database_url_of_another_kind_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, "DATABASE_URL": "mysql://bot:pg-password@db/videobot"}, env_file=None)
    assert caught.value.setting == "DATABASE_URL"
    assert "postgresql://" in str(caught.value) and "pg-password" not in str(caught.value)


def test_user_install_is_off_unless_the_operator_allows_it() -> None:
    """Off by default: the commands stay guild-installed and a DM is refused (issue 13)."""
    settings = load()
    assert (settings.user_install, settings.user_install_tenths, settings.user_install_period) == (
        False,
        50,
        "day",
    )
    on = load(USER_INSTALL="on", USER_INSTALL_CREDITS="2.5", USER_INSTALL_PERIOD="Week")
    assert (on.user_install, on.user_install_tenths, on.user_install_period) == (True, 25, "week")


def test_user_install_with_server_only_commands_is_warned_about() -> None:
    """Commands synced to listed servers only are not offered in DMs: say so once at start."""
    env = {**BASE, "USER_INSTALL": "on", "DISCORD_GUILD_IDS": "111"}
    (warning,) = load_settings(env, env_file=None).warnings
    assert "DISCORD_GUILD_IDS" in warning and "globally" in warning
    assert load_settings({**BASE, "USER_INSTALL": "on"}, env_file=None).warnings == ()


def test_the_personal_allowance_applies_only_without_a_guild() -> None:
    settings = load(DEFAULT_QUOTA_CREDITS="7", USER_INSTALL_CREDITS="3", USER_INSTALL_PERIOD="month")
    assert settings.personal_allowance(None) == (30, "month")
    assert settings.personal_allowance(1000) == (70, "day")


def test_a_personal_allowance_out_of_range_is_refused() -> None:
    with pytest.raises(ConfigError, match="USER_INSTALL_CREDITS"):
        load(USER_INSTALL_CREDITS="2000000")


def test_thread_per_video_is_off_unless_switched_on() -> None:
    assert load().thread_per_video is False
    assert load(THREAD_PER_VIDEO="on").thread_per_video is True
    assert load(THREAD_PER_VIDEO="OFF").thread_per_video is False


# ------------------------------------------------------------------ footguns an operator meets (#16)


@pytest.mark.parametrize(
    ("value", "bad_part"),
    [("111 222", "111 222"), ("111;222", "111;222"), ("111,2x2", "2x2"), ("9" * 20, "9" * 20), ("-5", "-5")],
)
def test_guild_ids_must_be_comma_separated_ids(value: str, bad_part: str) -> None:
    """``111 222`` was read as the single id 111222: the guild sync then failed for a guild that
    does not exist. Refused, showing the part that is not an id."""
    with pytest.raises(ConfigError) as info:
        load(DISCORD_GUILD_IDS=value)
    assert info.value.setting == "DISCORD_GUILD_IDS"
    assert repr(bad_part) in str(info.value)
    assert load(DISCORD_GUILD_IDS=" 111 , 222,").discord_guild_ids == (111, 222)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("value", "drop"),
    [
        ("https://api.minimax.io/v1", "/v1"),
        ("https://api.minimax.io/v1/", "/v1"),
        ("https://api.minimax.io/v1/video_generation", "/v1/video_generation"),
        ("https://api.chainhub.tech/minimax/v2/video_generation", "/v2/video_generation"),
        ("https://api.minimax.io?GroupId=123", "?GroupId=123"),
        ("https://api.minimax.io/#top", "#top"),
    ],
)
def test_base_url_with_an_endpoint_or_query_is_refused(value: str, drop: str) -> None:
    """The bot adds /v1/... itself: such a URL passed start-up and failed on the first video."""
    with pytest.raises(ConfigError) as info:
        load(MINIMAX_BASE_URL=value)
    assert info.value.setting == "MINIMAX_BASE_URL"
    assert repr(drop) in str(info.value)
    assert "\n" not in str(info.value)


def test_a_resellers_prefix_is_still_a_base_url() -> None:
    for url in (
        "https://api.chainhub.tech/minimax",
        "https://example.com/v1beta/minimax",
        "http://127.0.0.1:8080",
    ):
        assert load(MINIMAX_BASE_URL=url).minimax_base_url == url  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["folder in place of the file", "file in place of the folder"])
def test_database_path_problems_are_a_setting_error(tmp_path: Path, kind: str) -> None:
    """These failed at open (exit 1, "directory cannot be created (File exists)"); now one line
    naming DATABASE_PATH with the other settings."""
    if kind == "folder in place of the file":
        (tmp_path / "bot.sqlite3").mkdir()
        target = tmp_path / "bot.sqlite3"
    else:
        (tmp_path / "data").write_text("")
        target = tmp_path / "data" / "bot.sqlite3"
    with pytest.raises(ConfigError) as info:
        load(DATABASE_PATH=str(target))
    assert info.value.setting == "DATABASE_PATH"
    assert ("is a directory" if kind.startswith("folder") else "is a file, not a directory") in str(
        info.value
    )
    assert load(DATABASE_PATH=str(tmp_path / "new" / "db.sqlite3")).database_path == (  # type: ignore[attr-defined]
        tmp_path / "new" / "db.sqlite3"
    )
    assert not (tmp_path / "new").exists()  # checking creates nothing


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MINIMAX_TIMEOUT_SECONDS", "1e-9"),
        ("MINIMAX_TIMEOUT_SECONDS", "100000"),
        ("TASK_TIMEOUT_MINUTES", "0.6"),
        ("TASK_TIMEOUT_MINUTES", "100000"),
        ("MINIMAX_RPM", "1000000"),
        ("MAX_DOWNLOAD_MB", "99999999"),
        ("POLL_RATE_SHARE", "0.000001"),
        ("SUBMIT_CONCURRENCY", "5000"),
        ("ACCOUNT_PAUSE_MINUTES", "1e-9"),
        ("STATUS_EDIT_INTERVAL_SECONDS", "0.001"),
    ],
)
def test_numbers_outside_their_sane_range_are_refused(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(**{name: value})
    assert info.value.setting == name
    assert "must be between" in str(info.value) and repr(value) in str(info.value)


def test_every_numeric_setting_has_a_range() -> None:
    from bot.config import RANGES, known_settings

    numeric = {
        name
        for name in known_settings()
        if name
        not in ("DISCORD_TOKEN", "MINIMAX_API_KEY", "MINIMAX_BASE_URL", "DATABASE_PATH", "DOWNLOAD_DIR")
        and name not in ("DISCORD_GUILD_IDS", "DEFAULT_QUOTA_PERIOD", "LOG_LEVEL", "LOG_FORMAT")
        and name not in ("ALLOWED_GUILD_IDS", "OWNER_IDS", "SPEND_LIMIT_PERIOD")  # id lists, a choice
        and name not in ("METRICS_HOST", "CALLBACK_HOST", "CALLBACK_URL")  # addresses
        and name not in ("THREAD_PER_VIDEO", "USER_INSTALL")  # on or off
        and name != "USER_INSTALL_PERIOD"  # a choice
        and name != "DATABASE_URL"  # a postgresql:// URL
        and name != "SHARD_IDS"  # a list of shard numbers, each checked against SHARD_COUNT
    }
    assert numeric <= set(RANGES), numeric - set(RANGES)
    assert set(RANGES) <= set(known_settings())


def test_a_misspelled_setting_in_env_is_warned_about_once(tmp_path: Path) -> None:
    """``MINIMAX_RMP`` was silently ignored (the bot ran at the default rate)."""
    env_file = tmp_path / ".env"
    env_file.write_text(
        "DISCORD_TOKEN=a\nMINIMAX_API_KEY=b\nMINIMAX_RMP=20\nPOLL_FRIST_DELAY_SECONDS=3\nEDITOR=vim\n"
    )
    settings = load_settings({}, env_file=env_file)
    assert settings.warnings == (
        "MINIMAX_RMP in .env is not a setting and is ignored; did you mean MINIMAX_RPM?",
        "POLL_FRIST_DELAY_SECONDS in .env is not a setting and is ignored; "
        "did you mean POLL_FIRST_DELAY_SECONDS?",
    )
    assert load_settings(BASE, env_file=None).warnings == ()


def test_retention_days_is_off_by_default_and_whole_days() -> None:
    assert load_settings(BASE, env_file=None).retention_days is None
    assert load(RETENTION_DAYS="30").retention_days == 30  # type: ignore[attr-defined]
    for bad in ("0", "thirty", "1.5", "100000"):
        with pytest.raises(ConfigError, match="RETENTION_DAYS"):
            load(RETENTION_DAYS=bad)


def test_push_notifications_are_off_until_a_callback_url_is_set() -> None:
    settings = load()
    pushes = (settings.callback_url, settings.callback_host, settings.callback_port)
    assert pushes == (None, "127.0.0.1", 8080)
    assert settings.poll_first_delay is None  # the catalog's prior decides
    on = load(CALLBACK_URL="https://bot.example.com/minimax/push", CALLBACK_PORT="9000")
    assert (on.callback_url, on.callback_port) == ("https://bot.example.com/minimax/push", 9000)
