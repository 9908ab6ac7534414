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
