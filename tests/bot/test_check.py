"""``python -m bot --check`` against local fakes: one ✓/✗ line per check, exit 0 or 1."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.check import run_checks
from bot.config import load_settings
from tests.builders import write_damaged_database
from tests.fakes.fake_minimax import FakeMiniMax

TOKEN = "discord-token-for-check"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def discord_users_me() -> AsyncIterator[str]:
    """The one Discord route --check calls: GET /users/@me with the bot token."""

    async def users_me(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bot {TOKEN}":
            return web.json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        return web.json_response({"id": "1", "username": "videobot", "discriminator": "0", "bot": True})

    app = web.Application()
    app.router.add_get("/api/v10/users/@me", users_me)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/api/v10"
    await runner.cleanup()


def settings_for(fake: FakeMiniMax, tmp_path: Path, *, token: str = TOKEN, key: str = "test-key") -> object:
    return load_settings(
        {
            "DISCORD_TOKEN": token,
            "MINIMAX_API_KEY": key,
            "MINIMAX_BASE_URL": fake.base_url,
            "DATABASE_PATH": str(tmp_path / "db" / "bot.sqlite3"),
        },
        env_file=None,
    )


async def test_all_checks_pass(
    fake_minimax_any: FakeMiniMax, discord_users_me: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(fake_minimax_any, tmp_path)
    status = await run_checks(settings, discord_api=discord_users_me)  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert status == 0, out
    lines = out.strip().splitlines()
    assert len(lines) == 4
    assert all(line.startswith("✓") for line in lines)
    # #16: a check creates nothing (it used to create and migrate the database); it says what it would do.
    assert not (tmp_path / "db").exists()
    assert "the first start creates it" in out
    assert "videobot" in out


async def test_the_check_says_which_families_a_pay_as_you_go_key_can_use(
    fake_minimax: FakeMiniMax, discord_users_me: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(fake_minimax, tmp_path)
    assert await run_checks(settings, discord_api=discord_users_me) == 0  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert "key accepted; usable: Hailuo 2.3/02/01 (V1) and MiniMax-H3 (V2" in out


async def test_a_token_plan_key_gets_a_cross_for_h3_and_1080p_with_the_reason(
    discord_users_me: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Checked failing before: --check said nothing about what the key covers."""
    key = "sk-cp-token-plan-key"
    async with FakeMiniMax(flavour="official", api_key=key) as fake:
        settings = settings_for(fake, tmp_path, key=key)
        status = await run_checks(settings, discord_api=discord_users_me)  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert status == 0, "the families are information, not a broken deployment"
    crosses = [line for line in out.splitlines() if line.startswith("✗")]
    assert len(crosses) == 2
    assert "MiniMax-H3" in crosses[0] and "pay-as-you-go" in crosses[0]
    assert "1080P" in crosses[1] and "768P/6 s" in crosses[1]
    assert key not in out


async def test_bad_keys_are_reported_without_leaking(
    fake_minimax: FakeMiniMax, discord_users_me: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(fake_minimax, tmp_path, token="wrong-discord-token", key="wrong-minimax-key")
    status = await run_checks(settings, discord_api=discord_users_me)  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert status == 1
    assert "✗ MiniMax API" in out and "MINIMAX_API_KEY" in out
    assert "✗ Discord: DISCORD_TOKEN was refused" in out
    assert "wrong-discord-token" not in out and "wrong-minimax-key" not in out


@pytest.mark.parametrize("kind", ["text file"])  # a directory is now a settings error (test_config)
async def test_unusable_database_is_one_cross_line(
    fake_minimax_any: FakeMiniMax,
    discord_users_me: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
) -> None:
    target = tmp_path / "db" / "bot.sqlite3"
    if kind == "directory":
        target.mkdir(parents=True)
    else:
        target.parent.mkdir()
        target.write_text("not a database\n" * 10)
    settings = settings_for(fake_minimax_any, tmp_path)
    status = await run_checks(settings, discord_api=discord_users_me)  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert status == 1
    assert "Traceback" not in out
    database_lines = [line for line in out.splitlines() if "database" in line]
    assert database_lines == [
        f"✗ database {target}: "
        + (
            "it is a directory; DATABASE_PATH must name a file"
            if kind == "directory"
            else "it is not a SQLite database (or it is encrypted); check DATABASE_PATH"
        )
    ]
    assert "✓ MiniMax API" in out and "✓ Discord" in out  # the other checks still ran


# ``python -m bot --check`` as a launcher runs it: discord.py pointed at a fake before the entry point.
CHECK_LAUNCHER = (
    "import sys, discord\n"
    "discord.http.Route.BASE = sys.argv[1]\n"
    "from bot.__main__ import main\n"
    "sys.exit(main(['--check']))\n"
)


async def test_the_entry_point_checks_the_discord_that_discord_py_is_pointed_at(
    fake_minimax_any: FakeMiniMax, discord_users_me: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "MINIMAX_", "DATABASE_"))}
    env |= {
        "DISCORD_TOKEN": TOKEN,
        "MINIMAX_API_KEY": "test-key",
        "MINIMAX_BASE_URL": fake_minimax_any.base_url,
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "PYTHONPATH": str(REPO),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHECK_LAUNCHER,
        discord_users_me,
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    out = stdout.decode()
    assert proc.returncode == 0, out + stderr.decode()
    assert "✓ Discord: token accepted (logged in as videobot)" in out


async def test_a_damaged_database_is_one_cross_line(
    fake_minimax_any: FakeMiniMax,
    discord_users_me: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """It opened, then ``PRAGMA integrity_check`` raised sqlite3's error: a traceback, no ✗ line."""
    target = tmp_path / "db" / "bot.sqlite3"
    target.parent.mkdir()
    write_damaged_database(target)
    settings = settings_for(fake_minimax_any, tmp_path)
    status = await run_checks(settings, discord_api=discord_users_me)  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert status == 1
    database_lines = [line for line in out.splitlines() if "database" in line]
    assert len(database_lines) == 1
    assert database_lines[0].startswith(f"✗ database {target}: the file is damaged (SQLite's quick check: ")
    assert database_lines[0].endswith("); restore a backup")
    assert "✓ MiniMax API" in out and "✓ Discord" in out


async def test_database_url_checks_postgresql_and_hides_its_password(
    fake_minimax: FakeMiniMax,
    discord_users_me: str,
    tmp_path: Path,
    pg_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = pg_url.replace("postgres@", "postgres:not-shown@")  # trust auth: any password is accepted
    settings = load_settings(
        {
            "DISCORD_TOKEN": TOKEN,
            "MINIMAX_API_KEY": "test-key",
            "MINIMAX_BASE_URL": fake_minimax.base_url,
            "DATABASE_PATH": str(tmp_path / "db" / "bot.sqlite3"),
            "DATABASE_URL": url,
        },
        env_file=None,
    )
    status = await run_checks(settings, discord_api=discord_users_me)
    out = capsys.readouterr().out
    assert status == 0, out
    assert "✓ database postgresql://postgres:***@127.0.0.1" in out
    assert "not-shown" not in out
    assert not (tmp_path / "db" / "bot.sqlite3").exists()  # SQLite was not used


async def test_check_neither_migrates_nor_touches_an_old_database(
    fake_minimax_any: FakeMiniMax, discord_users_me: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from storage import LATEST_VERSION, Database

    path = tmp_path / "db" / "bot.sqlite3"
    db = await Database.open(path, target_version=1)
    await db.close()
    before = path.read_bytes()
    status = await run_checks(settings_for(fake_minimax_any, tmp_path), discord_api=discord_users_me)  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert status == 0, out
    assert f"schema version 1; the next start copies it and migrates it to version {LATEST_VERSION}" in out
    assert path.read_bytes() == before
    assert not list(path.parent.glob("*.bak"))


async def test_check_refuses_a_newer_database_naming_both_versions(
    fake_minimax_any: FakeMiniMax, discord_users_me: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    from storage import LATEST_VERSION

    path = tmp_path / "db" / "bot.sqlite3"
    path.parent.mkdir()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 5}")
    status = await run_checks(settings_for(fake_minimax_any, tmp_path), discord_api=discord_users_me)  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert status == 1
    assert f"version {LATEST_VERSION + 5}" in out and f"up to version {LATEST_VERSION}" in out


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_the_callback_url_is_tested_with_the_apis_challenge(
    fake_minimax_any: FakeMiniMax, discord_users_me: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import dataclasses

    port = _free_port()
    base = settings_for(fake_minimax_any, tmp_path)
    # Plain http on 127.0.0.1 stands in for the public URL and its proxy (config requires https).
    settings = dataclasses.replace(
        base,  # type: ignore[type-var]
        callback_url=f"http://127.0.0.1:{port}/minimax/push",
        callback_port=port,
    )
    assert await run_checks(settings, discord_api=discord_users_me) == 0  # type: ignore[arg-type]
    assert "✓ push notifications: CALLBACK_URL" in capsys.readouterr().out
    # A URL that leads nowhere (the proxy points at another port): one ✗ line that says where to look.
    elsewhere = dataclasses.replace(settings, callback_url=f"http://127.0.0.1:{_free_port()}/minimax/push")
    assert await run_checks(elsewhere, discord_api=discord_users_me) == 1
    out = capsys.readouterr().out
    assert "✗ push notifications" in out and "cannot be reached from this machine" in out


async def _run_check_command(
    discord_api: str, tmp_path: Path, **settings: str
) -> tuple[int | None, list[str], str]:
    """The real ``python -m bot --check`` in a child process: (exit status, screen lines, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "MINIMAX_", "DATABASE_"))}
    env.pop("LOG_LEVEL", None)
    env |= {"PYTHONPATH": str(REPO), **settings}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHECK_LAUNCHER,
        discord_api,
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode, stdout.decode().splitlines(), stderr.decode()


async def test_the_command_shows_one_line_per_check_and_keeps_retries_off_the_screen(
    fake_minimax: FakeMiniMax, discord_users_me: str, tmp_path: Path
) -> None:
    """#16 item 8, checked failing before: each retry of the API check printed two log lines."""
    fake_minimax.inject("query", 503, times=2)  # the client retries twice, logging each retry
    settings = {
        "DISCORD_TOKEN": TOKEN,
        "MINIMAX_API_KEY": "test-key",
        "MINIMAX_BASE_URL": fake_minimax.base_url,
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
    }
    status, lines, stderr = await _run_check_command(discord_users_me, tmp_path, **settings)
    assert status == 0, lines
    assert fake_minimax.counts["query"] == 3  # the retries happened, and were not shown
    assert stderr == ""
    assert [line[:2] for line in lines] == ["✓ "] * 4, lines
    assert [line.split(":")[0].split(" ")[1] for line in lines] == [
        "settings",
        "database",
        "MiniMax",
        "Discord",
    ]
    minimax = lines[2]
    assert "a free status query, no video made" in minimax and "key accepted" in minimax

    # LOG_LEVEL=DEBUG asks for the log: the retries show there (standard error), the lines stay four.
    fake_minimax.inject("query", 503, times=1)
    status, lines, stderr = await _run_check_command(
        discord_users_me, tmp_path, **settings, LOG_LEVEL="DEBUG"
    )
    assert status == 0 and len(lines) == 4
    assert "retrying in" in stderr


async def test_an_unreachable_api_is_one_cross_line_that_says_the_check_is_free(
    discord_users_me: str, tmp_path: Path
) -> None:
    closed = f"http://127.0.0.1:{_free_port()}"
    status, lines, stderr = await _run_check_command(
        discord_users_me,
        tmp_path,
        DISCORD_TOKEN=TOKEN,
        MINIMAX_API_KEY="test-key",
        MINIMAX_BASE_URL=closed,
        DATABASE_PATH=str(tmp_path / "bot.sqlite3"),
        MINIMAX_TIMEOUT_SECONDS="2",
    )
    assert status == 1
    assert stderr == "", stderr  # five failed attempts, none of them on the screen
    crosses = [line for line in lines if line.startswith("✗")]
    assert len(crosses) == 1, lines
    assert crosses[0].startswith(f"✗ MiniMax API at {closed} (a free status query, no video made): ")
    assert "cannot connect" in crosses[0]
    assert len(lines) == 4


async def test_a_bad_setting_is_one_line_with_the_prefix_said_once(
    discord_users_me: str, tmp_path: Path
) -> None:
    """#16 item 8, checked failing before: "✗ settings: Configuration error: …", and the value twice."""
    status, lines, stderr = await _run_check_command(
        discord_users_me, tmp_path, DISCORD_TOKEN=TOKEN, MINIMAX_API_KEY="k", DISCORD_GUILD_IDS="111 222"
    )
    assert status == 1 and stderr == ""
    assert lines == [
        "✗ settings: DISCORD_GUILD_IDS must be Discord ids separated by commas; '111 222' is not an id"
    ]
