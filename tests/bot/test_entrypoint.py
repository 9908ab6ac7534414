"""``python -m bot`` as an operator meets it: one clear line and exit status 2 on bad settings."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import open_storage
from bot.config import load_settings
from storage import QuotaDefaults
from tests.builders import write_damaged_database

REPO = Path(__file__).resolve().parents[2]
CLEAN_ENV_NAMES = (
    "DISCORD_TOKEN",
    "MINIMAX_API_KEY",
    "MINIMAX_RPM",
    "MINIMAX_BASE_URL",
    "DATABASE_PATH",
    "LOG_LEVEL",
)


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
    assert result.returncode == 1  # a failed check, like every other ✗ line
    assert result.stdout.startswith("✗ settings")
    assert "DISCORD_TOKEN" in result.stdout


def test_env_file_that_is_not_utf8_exits_2_without_traceback(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"DISCORD_TOKEN=abc\nMINIMAX_API_KEY=caf\xe9\n")
    result = run_bot(tmp_path)
    assert result.returncode == 2
    assert ".env" in result.stderr and "UTF-8" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_folder_as_database_path_is_a_setting_error_exit_2(tmp_path: Path) -> None:
    """Found with the other settings (#16): one line naming DATABASE_PATH, exit 2 (was exit 1 at open)."""
    target = tmp_path / "db"
    target.mkdir()
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN=abc\nMINIMAX_API_KEY=def\nDATABASE_PATH={target}\n")
    result = run_bot(tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DATABASE_PATH" in lines[0] and "is a directory" in lines[0]


@pytest.mark.parametrize("value", ["111 222", "111,abc"])
def test_guild_ids_that_are_not_comma_separated_exit_2(tmp_path: Path, value: str) -> None:
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN=abc\nMINIMAX_API_KEY=def\nDISCORD_GUILD_IDS={value}\n")
    result = run_bot(tmp_path)
    assert result.returncode == 2
    assert "DISCORD_GUILD_IDS" in result.stderr and "Traceback" not in result.stderr


def test_a_misspelled_key_is_warned_about_at_start(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "DISCORD_TOKEN=abc\nMINIMAX_API_KEY=def\nMINIMAX_RMP=9\nMINIMAX_RPM=lots\n"
    )
    result = run_bot(tmp_path)
    assert result.returncode == 2  # MINIMAX_RPM=lots is still the error
    assert "MINIMAX_RMP" not in result.stderr  # a bad value stops first; the warning is for a bot that runs
    (tmp_path / ".env").write_text("DISCORD_TOKEN=abc\nMINIMAX_API_KEY=def\nMINIMAX_RMP=9\n")
    result = run_bot(tmp_path, "--check")
    assert result.stderr.count("MINIMAX_RMP") == 1 and "did you mean MINIMAX_RPM?" in result.stderr


@pytest.mark.parametrize("kind", ["text file"])
def test_unusable_database_exits_1_with_one_line(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "db"
    if kind == "directory":
        target.mkdir()
    else:
        target.write_text("not a database, just words\n" * 10)
    (tmp_path / ".env").write_text(
        f"DISCORD_TOKEN=abc\nMINIMAX_API_KEY=def\nDATABASE_PATH={target}\nLOG_LEVEL=ERROR\n"
    )
    result = run_bot(tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Cannot open the database {target}")
    assert ("is a directory" if kind == "directory" else "not a SQLite database") in lines[0]


def test_damaged_database_exits_2_with_one_line_naming_database_path(tmp_path: Path) -> None:
    """The file opened and migrated before; the damage surfaced later, in a member's request."""
    target = write_damaged_database(tmp_path / "bot.sqlite3")
    (tmp_path / ".env").write_text(
        f"DISCORD_TOKEN=abc\nMINIMAX_API_KEY=def\nDATABASE_PATH={target}\nLOG_LEVEL=ERROR\n"
    )
    result = run_bot(tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"The database at DATABASE_PATH ({target}) is damaged")


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# The real entry point, with discord.py's REST base pointed where the test says (as README's launcher).
LAUNCHER = (
    "import sys, discord\n"
    "discord.http.Route.BASE = sys.argv[1]\n"
    "from bot.__main__ import main\n"
    "sys.exit(main([]))\n"
)


def launch_against(tmp_path: Path, discord_port: int) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of a bot whose Discord is ``127.0.0.1:discord_port``."""
    (tmp_path / ".env").write_text(
        "DISCORD_TOKEN=abc\nMINIMAX_API_KEY=def\n"
        f"MINIMAX_BASE_URL=http://127.0.0.1:{closed_port()}\nDATABASE_PATH={tmp_path / 'bot.sqlite3'}\n"
        "LOG_LEVEL=ERROR\n"
    )
    base_env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV_NAMES}
    command = [sys.executable, "-c", LAUNCHER, f"http://127.0.0.1:{discord_port}/api/v10"]
    return command, {**base_env, "PYTHONPATH": str(REPO)}


def test_discord_unreachable_exits_1_with_one_line(tmp_path: Path) -> None:
    command, env = launch_against(tmp_path, closed_port())  # nothing listens there
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Cannot reach Discord (")
    assert "abc" not in result.stderr  # the token never shows


def test_a_signal_while_logging_in_is_a_clean_stop_not_a_failure(tmp_path: Path) -> None:
    """SIGTERM during start-up closes the HTTP session under the login: that is the stop the
    operator asked for, exit 0, not "Cannot reach Discord"."""
    with socket.socket() as silent_discord:  # accepts the login request and never answers it
        silent_discord.bind(("127.0.0.1", 0))
        silent_discord.listen()
        silent_discord.settimeout(30)
        command, env = launch_against(tmp_path, silent_discord.getsockname()[1])
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            connection, _ = silent_discord.accept()  # the bot is inside its login now
            with connection:
                process.send_signal(signal.SIGTERM)
                stdout, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr + stdout and "Cannot reach Discord" not in stderr


async def test_storage_is_opened_with_the_operators_quota_defaults(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "DISCORD_TOKEN": "abc",
            "MINIMAX_API_KEY": "def",
            "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
            "DEFAULT_QUOTA_CREDITS": "2.5",
            "DEFAULT_QUOTA_PERIOD": "week",
        },
        env_file=None,
    )
    storage = await open_storage(settings)
    try:
        assert storage.quota.defaults == QuotaDefaults(25, "week")
        usage = await storage.quota.usage(1, 2, now=1_715_774_400.0)
        assert (usage.limit_tenths, usage.period) == (25, "week")
    finally:
        await storage.close()


def test_backup_copies_the_database_and_says_where(tmp_path: Path) -> None:
    """#16 item 11: ``python -m bot backup PATH``, SQLite's online backup (safe while the bot runs)."""
    import asyncio
    import sqlite3

    database = tmp_path / "data" / "bot.sqlite3"
    asyncio.run(_create(database))
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN=abc\nMINIMAX_API_KEY=def\nDATABASE_PATH={database}\n")
    writer = sqlite3.connect(database, isolation_level=None)  # a bot in the middle of a write
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO bot_state (key, value, updated_at) VALUES ('uncommitted', 'x', 0)")
    try:
        result = run_bot(tmp_path, "backup", "copy.sqlite3")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.returncode == 0, result.stderr
    assert "copy.sqlite3" in result.stdout
    with sqlite3.connect(tmp_path / "copy.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert "tasks" in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert conn.execute("SELECT count(*) FROM bot_state WHERE key = 'uncommitted'").fetchone() == (0,)
    (tmp_path / "backups").mkdir()
    assert run_bot(tmp_path, "backup", "backups").returncode == 0
    assert len(list((tmp_path / "backups").glob("bot-*.sqlite3"))) == 1


def test_backup_without_a_database_is_one_line_exit_1(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DISCORD_TOKEN=abc\nMINIMAX_API_KEY=def\n")
    result = run_bot(tmp_path, "backup", "copy.sqlite3")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "no database file" in result.stderr
    assert not (tmp_path / "copy.sqlite3").exists()


async def _create(path: Path) -> None:
    from storage import Storage

    await (await Storage.open(path)).close()


def test_a_second_copy_on_the_same_database_is_refused(tmp_path: Path) -> None:
    """#16 item 10: two copies on one file would both deliver every task (every video posted twice)."""
    import fcntl

    from bot.instance import lock_path

    database = tmp_path / "bot.sqlite3"
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN=abc\nMINIMAX_API_KEY=def\nDATABASE_PATH={database}\n")
    with lock_path(database).open("w") as running:  # the first copy, as bot.instance.claim holds it
        running.write("4242")
        running.flush()
        fcntl.flock(running, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run_bot(tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Another copy of the bot is running on DATABASE_PATH" in lines[0] and "4242" in lines[0]
    assert not database.exists()  # refused before the database was opened


def test_the_claim_is_released_with_the_process_and_can_be_taken_again(tmp_path: Path) -> None:
    from bot.instance import AlreadyRunning, claim, release

    database = tmp_path / "db" / "bot.sqlite3"
    first = claim(database)
    with pytest.raises(AlreadyRunning, match=str(os.getpid())):
        claim(database)
    release(first)
    release(claim(database))


def test_env_file_names_the_settings_file(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "bot.env").write_text("DISCORD_TOKEN=abc\nMINIMAX_API_KEY=def\nMINIMAX_RPM=lots\n")
    result = run_bot(tmp_path, "--env-file", "conf/bot.env")
    assert result.returncode == 2 and "MINIMAX_RPM" in result.stderr  # that file was read
    result = run_bot(tmp_path, "--env-file", "conf/missing.env")
    assert result.returncode == 2
    assert result.stderr.strip() == "Configuration error: --env-file 'conf/missing.env' is not a file"


def _pyproject() -> dict[str, Any]:
    import tomllib

    with (REPO / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def test_version_names_the_release_and_exits_0(tmp_path: Path) -> None:
    """#16 item 9: ``--version`` works without any settings (no .env here)."""
    result = run_bot(tmp_path, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"hailuo-videobot {_pyproject()['project']['version']}"


def test_the_console_script_is_python_m_bot() -> None:
    """``hailuo-videobot`` runs the same ``main`` as ``python -m bot`` (so every option is the same)."""
    import importlib

    from bot.__main__ import main

    target = _pyproject()["project"]["scripts"]["hailuo-videobot"]
    module, _, name = target.partition(":")
    assert getattr(importlib.import_module(module), name) is main


def test_the_installed_console_script_behaves_like_python_m_bot(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "hailuo-videobot"
    assert script.is_file(), "the console script is missing: run `pip install -e '.[dev]'` again"
    base_env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV_NAMES}
    run = subprocess.run(
        [str(script)], cwd=tmp_path, env=base_env, capture_output=True, text=True, timeout=60
    )
    same = run_bot(tmp_path)
    assert (run.returncode, run.stderr) == (same.returncode, same.stderr) == (2, same.stderr)
    assert "DISCORD_TOKEN" in run.stderr
    usage = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert usage.stdout.startswith("usage: hailuo-videobot ")
