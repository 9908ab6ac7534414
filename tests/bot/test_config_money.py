"""The operator's money settings: allowed servers, the spending ceiling, maxima, owners, tasks in flight."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.config import ConfigError, Settings, load_settings

BASE = {"DISCORD_TOKEN": "discord-secret-token", "MINIMAX_API_KEY": "minimax-secret-key"}


def load(**extra: str) -> Settings:
    return load_settings({**BASE, **extra}, env_file=None)


def test_defaults_leave_every_server_in_and_no_ceiling() -> None:
    settings = load()
    assert settings.allowed_guild_ids == () and settings.guild_allowed(123)
    assert settings.spend_limit_usd is None and settings.spend_limit_period == "day"
    assert settings.max_member_credits_tenths == 100_000
    assert settings.max_guild_cap_credits_tenths is None
    assert settings.owner_ids == ()
    assert settings.max_queued_per_member == 3


def test_values_are_parsed() -> None:
    settings = load(
        ALLOWED_GUILD_IDS="11, 22",
        SPEND_LIMIT_USD="$25.50",
        SPEND_LIMIT_PERIOD="Month",
        MAX_MEMBER_CREDITS="12.5",
        MAX_GUILD_CAP_CREDITS="300",
        OWNER_IDS="7,8",
        MAX_QUEUED_PER_MEMBER="5",
        DISCORD_GUILD_IDS="22",
    )
    assert settings.allowed_guild_ids == (11, 22)
    assert settings.guild_allowed(11) and not settings.guild_allowed(33) and settings.guild_allowed(None)
    assert (settings.spend_limit_usd, settings.spend_limit_period) == (Decimal("25.50"), "month")
    assert (settings.max_member_credits_tenths, settings.max_guild_cap_credits_tenths) == (125, 3000)
    assert settings.owner_ids == (7, 8)
    assert settings.max_queued_per_member == 5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ALLOWED_GUILD_IDS", "12,abc"),
        ("ALLOWED_GUILD_IDS", "-4"),
        ("SPEND_LIMIT_USD", "0"),
        ("SPEND_LIMIT_USD", "-5"),
        ("SPEND_LIMIT_USD", "ten"),
        ("SPEND_LIMIT_USD", "1.005"),
        ("SPEND_LIMIT_USD", "inf"),
        ("SPEND_LIMIT_PERIOD", "year"),
        ("MAX_MEMBER_CREDITS", "-1"),
        ("MAX_MEMBER_CREDITS", "2.55"),
        ("MAX_GUILD_CAP_CREDITS", "lots"),
        ("OWNER_IDS", "me"),
        ("MAX_QUEUED_PER_MEMBER", "0"),
    ],
)
def test_bad_value_names_the_setting(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(**{name: value})
    assert caught.value.setting == name
    assert str(caught.value).startswith(f"Configuration error: {name} ")


def test_commands_are_not_synced_to_a_server_the_bot_would_leave() -> None:
    with pytest.raises(ConfigError) as caught:
        load(ALLOWED_GUILD_IDS="1", DISCORD_GUILD_IDS="1,2")
    assert caught.value.setting == "DISCORD_GUILD_IDS"
