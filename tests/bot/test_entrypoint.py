"""``python -m bot`` as an operator meets it: one clear line and exit status 2 on bad settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLEAN_ENV_NAMES = ("DISCORD_TOKEN", "MINIMAX_API_KEY", "MINIMAX_RPM", "MINIMAX_BASE_URL")


def run_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base_env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV_NAMES}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env={**base_env, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_no_env_file_exits_2_naming_discord_token(tmp_path: Path) -> None:
    result = run_bot(tmp_path)
    assert result.returncode == 2
    assert "DISCORD_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


def test_malformed_setting_exits_2(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DISCORD_TOKEN=abc\nMINIMAX_API_KEY=def\nMINIMAX_RPM=lots\n")
    result = run_bot(tmp_path)
    assert result.returncode == 2
    assert "MINIMAX_RPM" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_reports_bad_settings(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "--check")
    assert result.returncode == 2
    assert result.stdout.startswith("✗ settings")
    assert "DISCORD_TOKEN" in result.stdout
