"""The lifecycle's own settings are read from the environment with defaults and one-line errors."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings

BASE = {"DISCORD_TOKEN": "token", "MINIMAX_API_KEY": "key"}


def test_defaults() -> None:
    settings = load_settings(BASE, env_file=None)
    assert settings.account_pause == 15 * 60
    assert settings.submit_concurrency == 2


def test_values_and_errors() -> None:
    settings = load_settings(
        {**BASE, "ACCOUNT_PAUSE_MINUTES": "2.5", "SUBMIT_CONCURRENCY": "4"}, env_file=None
    )
    assert (settings.account_pause, settings.submit_concurrency) == (150, 4)
    with pytest.raises(ConfigError, match="ACCOUNT_PAUSE_MINUTES"):
        load_settings({**BASE, "ACCOUNT_PAUSE_MINUTES": "0"}, env_file=None)
    with pytest.raises(ConfigError, match="SUBMIT_CONCURRENCY"):
        load_settings({**BASE, "SUBMIT_CONCURRENCY": "many"}, env_file=None)
