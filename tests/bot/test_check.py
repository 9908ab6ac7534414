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
    assert (tmp_path / "db" / "bot.sqlite3").is_file()
    assert "videobot" in out


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


@pytest.mark.parametrize("kind", ["directory", "text file"])
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
