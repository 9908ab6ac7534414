"""METRICS_PORT and METRICS_HOST (issue 14): off by default, and a bad value is one clear line."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings

BASE = {"DISCORD_TOKEN": "token", "MINIMAX_API_KEY": "key"}


def test_metrics_are_off_by_default_and_local_when_on() -> None:
    assert load_settings(BASE, env_file=None).metrics_port is None
    settings = load_settings({**BASE, "METRICS_PORT": "9100"}, env_file=None)
    assert (settings.metrics_port, settings.metrics_host) == (9100, "127.0.0.1")
    for host in ("0.0.0.0", "::", "metrics.internal"):
        assert load_settings({**BASE, "METRICS_HOST": host}, env_file=None).metrics_host == host


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("METRICS_PORT", "0"),
        ("METRICS_PORT", "65536"),
        ("METRICS_PORT", "http"),
        ("METRICS_HOST", "http://127.0.0.1"),
        ("METRICS_HOST", "local host"),
        ("METRICS_HOST", "127.0.0.1:9100"),
    ],
)
def test_a_bad_value_names_the_setting(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, name: value}, env_file=None)
    assert caught.value.setting == name
    assert str(caught.value).startswith(f"Configuration error: {name} must be")
