"""README's settings table, ``.env.example`` and ``bot.config`` describe the same settings.

Why: an operator sets what README and ``.env.example`` say; a setting missing from either is one they
cannot find, and a default that differs is one they are told wrong. The code's list is derived from
``load_settings`` itself (``known_settings``), so it cannot drift from what the bot reads.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import known_settings, load_settings

REPO = Path(__file__).resolve().parents[2]
BASE = {"DISCORD_TOKEN": "token", "MINIMAX_API_KEY": "key"}
REQUIRED = ("DISCORD_TOKEN", "MINIMAX_API_KEY")
_PLAIN_DEFAULT = re.compile(r"`[^`]*`(?: / `[^`]*`)*")


def readme_settings() -> dict[str, str | None]:
    """Each setting in README's table with its documented default (None: unset, empty or described)."""
    text = (REPO / "README.md").read_text()
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    found: dict[str, str | None] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        names = re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0])
        defaults: list[str | None] = [None] * len(names)
        if _PLAIN_DEFAULT.fullmatch(cells[1]):
            values = re.findall(r"`([^`]*)`", cells[1])
            if len(values) == len(names):
                defaults = list(values)
        found.update(zip(names, defaults, strict=True))
    return found


def example_settings() -> dict[str, str]:
    found = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            found[key.strip()] = value.strip()
    return found


def test_every_setting_is_in_the_code_readme_and_env_example() -> None:
    code = set(known_settings())
    assert set(readme_settings()) == code, "README's settings table and bot/config.py differ"
    assert set(example_settings()) == code, ".env.example and bot/config.py differ"


@pytest.mark.parametrize("name", sorted(set(known_settings()) - set(REQUIRED)))
def test_documented_defaults_are_the_codes_defaults(name: str) -> None:
    """The value README and .env.example give as the default means exactly what leaving it unset does."""
    unset = load_settings(BASE, env_file=None)
    readme_default = readme_settings().get(name)
    if readme_default is not None:
        assert load_settings({**BASE, name: readme_default}, env_file=None) == unset, f"README: {name}"
    example = example_settings().get(name, "")
    assert load_settings({**BASE, name: example}, env_file=None) == unset, f".env.example: {name}"
    if readme_default is None:
        assert example == "", f"{name}: README gives no plain default, so .env.example leaves it empty"


def test_required_settings_are_marked_required_and_left_empty() -> None:
    for name in REQUIRED:
        assert readme_settings()[name] is None
        assert example_settings()[name] == ""


def test_every_ranged_setting_states_its_range_in_readme() -> None:
    from bot.config import RANGES

    section = (REPO / "README.md").read_text().split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = {
        name: line
        for line in section.splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split(" | ")[0])
    }
    for name, (low, high) in RANGES.items():
        row = rows[name]
        stated = f"{_number(low)}–{_number(high)}"
        assert stated in row, f"README's row of {name} does not state its range {stated}"


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"
