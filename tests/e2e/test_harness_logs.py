"""The harness's log checks: what counts as a problem in the bot's output, and secrets in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import BotHarness

pytestmark = pytest.mark.e2e

PLAIN = """\
[2026-01-01 10:00:00] [INFO    ] bot: Synced 2 commands to guild 1
[2026-01-01 10:00:01] [ERROR   ] bot.lifecycle: delivery failed
[2026-01-01 10:00:02] [WARNING ] discord.gateway: Shard ID None heartbeat blocked
"""
# discord.utils.setup_logging colours its output inside Docker even when it writes to a file.
COLOURED = (
    "\x1b[30;1m2026-01-01 10:00:03\x1b[0m \x1b[31mERROR   \x1b[0m \x1b[35mcogs.video\x1b[0m boom\n"
    "Traceback (most recent call last):\n"
    "\x1b[30;1m2026-01-01 10:00:04\x1b[0m \x1b[34;1mINFO    \x1b[0m \x1b[35mbot\x1b[0m "
    "an ERROR word in a message\n"
)


def test_error_lines_and_tracebacks_are_problems_in_plain_and_coloured_logs(tmp_path: Path) -> None:
    harness = BotHarness(tmp_path)
    harness.log_path.write_text(PLAIN + COLOURED)
    problems = harness.log_problems()
    assert problems == [
        "[2026-01-01 10:00:01] [ERROR   ] bot.lifecycle: delivery failed",
        "2026-01-01 10:00:03 ERROR    cogs.video boom",
        "Traceback (most recent call last):",
    ]
    assert harness.log_problems(allow=["delivery failed", "boom", "Traceback"]) == []


def test_assert_clean_reports_a_leaked_token(tmp_path: Path) -> None:
    harness = BotHarness(tmp_path)
    harness.log_path.write_text(f"[2026-01-01 10:00:00] [INFO    ] bot: token is {harness.fake.token}\n")
    with pytest.raises(AssertionError, match="a secret appears"):
        harness.assert_clean()
