"""``--check`` says how this process is sharded, against Discord's recommendation (GET /gateway/bot)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.check import run_checks
from bot.config import Settings, load_settings
from tests.fakes.fake_discord import FakeDiscord
from tests.fakes.fake_minimax import FakeMiniMax


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


def settings_for(minimax: FakeMiniMax, discord: FakeDiscord, tmp_path: Path, **env: str) -> Settings:
    return load_settings(
        {
            "DISCORD_TOKEN": discord.token,
            "MINIMAX_API_KEY": "test-key",
            "MINIMAX_BASE_URL": minimax.base_url,
            "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
            **env,
        },
        env_file=None,
    )


async def _lines(settings: Settings, discord: FakeDiscord, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert await run_checks(settings, discord_api=discord.api_url) == 0
    return [line for line in capsys.readouterr().out.splitlines() if "sharding" in line]


async def test_an_unsharded_bot_hears_nothing_until_discord_recommends_shards(
    fake_minimax: FakeMiniMax, fake_discord: FakeDiscord, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(fake_minimax, fake_discord, tmp_path)
    assert await _lines(settings, fake_discord, capsys) == []
    fake_discord.recommended_shards = 3
    [line] = await _lines(settings, fake_discord, capsys)
    assert (
        line.startswith("✓ sharding: off") and "Discord recommends 3 shards" in line and "SHARD_COUNT" in line
    )


async def test_a_sharded_process_names_its_shards_and_who_syncs(
    fake_minimax: FakeMiniMax, fake_discord: FakeDiscord, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_discord.recommended_shards = 4
    first = settings_for(fake_minimax, fake_discord, tmp_path, SHARD_COUNT="2", SHARD_IDS="0")
    [line] = await _lines(first, fake_discord, capsys)
    assert line == (
        "✓ sharding: this process runs shard(s) 0 of SHARD_COUNT=2 (fewer than recommended); "
        "Discord recommends 4; it syncs the commands (shard 0)"
    )
    second = dataclasses.replace(first, shard_count=4, shard_ids=(1, 3))
    [line] = await _lines(second, fake_discord, capsys)
    assert line == "✓ sharding: this process runs shard(s) 1, 3 of SHARD_COUNT=4; Discord recommends 4"
