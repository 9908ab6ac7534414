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
            "TASK_TIMEOUT_MINUTES": "0.5",
        },
        env_file=None,
    )
    assert settings.minimax_base_url == "https://api.chainhub.tech/minimax"
    assert settings.discord_guild_ids == (1, 22, 333)
    assert settings.minimax_rpm == 20
    assert settings.default_quota_tenths == 25
    assert settings.default_quota_period == "week"
    assert settings.log_level == "DEBUG"
    assert settings.task_timeout == 30


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
        ("THREAD_PER_VIDEO", "sometimes"),
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


def test_thread_per_video_is_off_unless_switched_on() -> None:
    assert load().thread_per_video is False
    assert load(THREAD_PER_VIDEO="on").thread_per_video is True
    assert load(THREAD_PER_VIDEO="OFF").thread_per_video is False
