"""``python -m bot --check`` against local fakes: one ✓/✗ line per check, exit 0 or 1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import discord
import pytest
from aiohttp import web

from bot.check import run_checks
from bot.config import load_settings
from tests.fakes.fake_minimax import FakeMiniMax

TOKEN = "discord-token-for-check"


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


@pytest.fixture
def route_base(discord_users_me: str) -> Iterator[None]:
    original = discord.http.Route.BASE
    discord.http.Route.BASE = discord_users_me
    yield
    discord.http.Route.BASE = original


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


@pytest.mark.usefixtures("route_base")
async def test_all_checks_pass(
    fake_minimax_any: FakeMiniMax, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = await run_checks(settings_for(fake_minimax_any, tmp_path))  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert status == 0, out
    lines = out.strip().splitlines()
    assert len(lines) == 4
    assert all(line.startswith("✓") for line in lines)
    assert (tmp_path / "db" / "bot.sqlite3").is_file()
    assert "videobot" in out


@pytest.mark.usefixtures("route_base")
async def test_bad_keys_are_reported_without_leaking(
    fake_minimax: FakeMiniMax, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(fake_minimax, tmp_path, token="wrong-discord-token", key="wrong-minimax-key")
    status = await run_checks(settings)  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert status == 1
    assert "✗ MiniMax API" in out and "MINIMAX_API_KEY" in out
    assert "✗ Discord: DISCORD_TOKEN was refused" in out
    assert "wrong-discord-token" not in out and "wrong-minimax-key" not in out


@pytest.mark.usefixtures("route_base")
@pytest.mark.parametrize("kind", ["directory", "text file"])
async def test_unusable_database_is_one_cross_line(
    fake_minimax_any: FakeMiniMax, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    target = tmp_path / "db" / "bot.sqlite3"
    if kind == "directory":
        target.mkdir(parents=True)
    else:
        target.parent.mkdir()
        target.write_text("not a database\n" * 10)
    status = await run_checks(settings_for(fake_minimax_any, tmp_path))  # type: ignore[arg-type]
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
