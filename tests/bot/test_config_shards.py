"""SHARD_COUNT and SHARD_IDS (issue 14): unset runs unsharded as always; a bad split is one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

BASE = {"DISCORD_TOKEN": "token", "MINIMAX_API_KEY": "key"}


def test_unset_means_one_unsharded_process_that_syncs_the_commands() -> None:
    settings = load_settings(BASE, env_file=None)
    assert (settings.shard_count, settings.shard_ids, settings.own_shards) == (None, (), ())
    assert settings.syncs_commands


def test_a_count_alone_runs_every_shard_in_this_process() -> None:
    settings = load_settings({**BASE, "SHARD_COUNT": "3"}, env_file=None)
    assert (settings.shard_count, settings.own_shards) == (3, (0, 1, 2))
    assert settings.syncs_commands


def test_only_the_process_holding_shard_0_syncs_the_commands() -> None:
    first = load_settings({**BASE, "SHARD_COUNT": "4", "SHARD_IDS": "2, 0"}, env_file=None)
    second = load_settings({**BASE, "SHARD_COUNT": "4", "SHARD_IDS": "1,3"}, env_file=None)
    assert (first.own_shards, second.own_shards) == ((0, 2), (1, 3))
    assert first.syncs_commands and not second.syncs_commands


@pytest.mark.parametrize(
    ("env", "setting", "says"),
    [
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT", "must be"),
        ({"SHARD_COUNT": "two"}, "SHARD_COUNT", "must be a whole number of shards above 0"),
        ({"SHARD_COUNT": "20000"}, "SHARD_COUNT", "must be between 1 and 16384"),
        ({"SHARD_IDS": "0"}, "SHARD_IDS", "needs SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0,2"}, "SHARD_IDS", "from 0 to 1 (SHARD_COUNT=2); 2 is not"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0 1"}, "SHARD_IDS", "'0 1' is not one"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "-1"}, "SHARD_IDS", "'-1' is not one"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "1,1"}, "SHARD_IDS", "names shard 1 twice"),
    ],
)
def test_a_bad_split_names_the_setting(env: dict[str, str], setting: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, **env}, env_file=None)
    assert caught.value.setting == setting
    assert says in str(caught.value)


def test_the_bot_refuses_to_start_on_a_shard_beyond_the_count(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "MINIMAX_", "SHARD_"))}
    env.update({**BASE, "DATABASE_PATH": str(tmp_path / "bot.sqlite3"), "SHARD_COUNT": "2", "SHARD_IDS": "2"})
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Configuration error: SHARD_IDS must be shard numbers from 0 to 1 (SHARD_COUNT=2); 2 is not"
    ]
