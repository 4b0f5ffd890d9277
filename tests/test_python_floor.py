"""The Python versions the project says it runs on are the ones its code can run on."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tallyflow", "tallyctl", "jobs", "dash_app", "dags", "bench", "tests")


def _floor() -> tuple[int, int]:
    spec = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    major, minor = re.search(r">=\s*(\d+)\.(\d+)", spec).groups()
    return int(major), int(minor)


@pytest.mark.fast
def test_the_floor_is_the_same_in_pyproject_makefile_readme_and_image():
    major, minor = _floor()
    assert f"({major}, {minor}) <= v" in (ROOT / "Makefile").read_text()
    assert f"Python {major}.{minor}–" in (ROOT / "README.md").read_text()
    assert f"FROM python:{major}.{minor}-" in (ROOT / "Dockerfile").read_text()
    ruff = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]
    assert ruff["target-version"] == f"py{major}{minor}"


@pytest.mark.fast
def test_no_code_needs_more_than_the_floor():
    # datetime.UTC and tomllib came in 3.11: below that the floor would be a lie.
    newer = {"from datetime import UTC": (3, 11), "import tomllib": (3, 11),
             "from typing import Self": (3, 11), "ExceptionGroup": (3, 11)}
    needs = max((version for package in PACKAGES
                 for path in (ROOT / package).rglob("*.py")
                 for text in [path.read_text()]
                 for marker, version in newer.items() if marker in text), default=(3, 0))
    assert needs <= _floor()
