"""Every setting the bot reads is documented: a row in README's settings table and a line in
.env.example, and the example file itself loads (with the two secrets filled in)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import load_settings

REPO = Path(__file__).resolve().parents[2]
_READ = re.compile(r'"([A-Z][A-Z0-9_]+)"')


def settings_read() -> set[str]:
    source = (REPO / "bot" / "config.py").read_text()
    return {
        name
        for name in _READ.findall(source)
        if name not in {"INFO", "DEBUG", "WARNING", "ERROR", "CRITICAL"}
    }


def test_every_setting_has_a_readme_row_and_an_example_line() -> None:
    names = settings_read()
    assert {"ALLOWED_GUILD_IDS", "SPEND_LIMIT_USD", "MAX_QUEUED_PER_MEMBER", "DISCORD_TOKEN"} <= names
    readme = (REPO / "README.md").read_text()
    example = (REPO / ".env.example").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    assert not [n for n in names if not any(f"`{n}`" in row for row in rows)]
    assert not [n for n in names if not re.search(rf"^{n}=", example, re.MULTILINE)]


def test_the_example_file_loads(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text((REPO / ".env.example").read_text())
    settings = load_settings({"DISCORD_TOKEN": "token", "MINIMAX_API_KEY": "key"}, env_file=env)
    assert settings.max_queued_per_member == 3 and settings.spend_limit_usd is None
