"""deploy/ keeps the promises README makes about it: a non-root container with the database on a
volume and --check as its health check; a systemd unit that does not restart into a config error."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_dockerfile_runs_as_non_root_with_the_database_on_a_volume() -> None:
    text = (REPO / "deploy" / "Dockerfile").read_text()
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r'^VOLUME \["/data"\]', text, re.MULTILINE)
    assert "DATABASE_PATH=/data/" in text
    assert re.search(r"^HEALTHCHECK .*\"--check\"", text, re.MULTILINE)
    for folder in ("bot", "cogs", "storage"):
        assert f"COPY {folder} ./{folder}" in text  # every package the bot imports is in the image


def test_the_systemd_unit_starts_the_bot_and_stops_restarting_on_a_config_error() -> None:
    text = (REPO / "deploy" / "videobot.service").read_text()
    assert re.search(r"^ExecStart=\S+/python -m bot$", text, re.MULTILINE)
    assert re.search(r"^WorkingDirectory=", text, re.MULTILINE)  # where .env and relative paths resolve
    assert "RestartPreventExitStatus=2" in text  # bot/__main__.py's EXIT_CONFIG
    assert re.search(r"^User=(?!root)\S+", text, re.MULTILINE)


def test_exit_status_2_is_still_the_config_error() -> None:
    from bot.__main__ import EXIT_CONFIG

    assert EXIT_CONFIG == 2


def _compose() -> str:
    return (REPO / "deploy" / "docker-compose.yml").read_text()


def test_the_compose_example_splits_two_shards_over_two_bots_on_postgresql() -> None:
    text = _compose()
    assert re.search(r"^  postgres:\n    image: postgres:\d+", text, re.MULTILINE)
    assert re.findall(r"^  (bot-\d):$", text, re.MULTILINE) == ["bot-0", "bot-1"]
    assert re.findall(r'SHARD_COUNT: "(\d+)"', text) == ["2"]  # one count, shared by both bots
    assert re.findall(r'SHARD_IDS: "(\d+)"', text) == ["0", "1"]
    assert re.search(r"DATABASE_URL: postgresql://videobot:\$\{POSTGRES_PASSWORD[^}]*\}@postgres:5432/", text)
    assert "dockerfile: deploy/Dockerfile" in text
    port = re.findall(r'METRICS_PORT: "(\d+)"', text)
    assert port and f"127.0.0.1:{port[0]}/readyz" in text, "the health check asks the port the bot serves"


async def test_the_compose_health_check_fails_until_the_bot_is_ready() -> None:
    """The exact command in the compose file, run against the bot's own health server."""
    import asyncio
    import socket
    import sys

    from bot.metrics import Metrics
    from bot.metrics_server import MetricsServer

    (code,) = re.findall(r"^      - (import urllib\.request.*)$", _compose(), re.MULTILINE)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    code = re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{port}", code)
    ready = [False]

    async def gateway() -> bool:
        return ready[0]

    async def status() -> int:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        return await process.wait()

    server = MetricsServer(Metrics(), host="127.0.0.1", port=port, checks={"gateway": gateway})
    await server.start()
    try:
        assert await status() != 0  # 503: a shard is not connected yet
        ready[0] = True
        assert await status() == 0
    finally:
        await server.stop()
    assert await status() != 0  # nothing listening
