"""The project says how it may be used and changed: a LICENSE that pyproject.toml names, a
CHANGELOG and a CONTRIBUTING guide that points at the tests guide."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_license_is_mit_and_named_in_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert (REPO / "LICENSE").read_text().startswith("MIT License")


def test_changelog_and_contributing_exist_and_point_at_the_tests_guide() -> None:
    assert (REPO / "CHANGELOG.md").read_text().startswith("# Changelog")
    assert "tests/README.md" in (REPO / "CONTRIBUTING.md").read_text()


def test_readme_names_every_benchmark_script() -> None:
    readme = (REPO / "README.md").read_text()
    for script in sorted((REPO / "bench").glob("bench_*.py")):
        assert f"`{script.name}" in readme, f"README's Development section does not describe {script.name}"
