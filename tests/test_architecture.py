"""Architecture as a test: dependencies point inward, and only bot/ touches the outside world."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OUR_PACKAGES = {"bot", "handlers", "reports", "scheduler", "storage"}

# Which of our packages each package may import (bot/, the composition root, may import all).
ALLOWED = {
    "storage": {"storage"},
    "handlers": {"handlers", "storage"},
    "reports": {"reports", "storage", "handlers"},
    "scheduler": {"scheduler", "storage", "handlers"},
}
# Chat libraries, the scheduler framework and web servers belong to the composition root only.
OUTSIDE_WORLD = {"telegram", "linebot", "apscheduler", "aiohttp", "httpx", "requests"}


def imports_of(path: Path) -> set[str]:
    """Top-level names of every module a file imports (absolute imports only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_inner_packages_import_only_inward(package: str) -> None:
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules(package)
        for name in imports_of(path)
        if (name in OUR_PACKAGES and name not in ALLOWED[package]) or name in OUTSIDE_WORLD
    }
    assert not wrong, sorted(wrong)


def test_the_real_clock_is_read_only_in_the_composition_root() -> None:
    readers = [
        str(path.relative_to(ROOT))
        for package in ALLOWED
        for path in modules(package)
        if "datetime.now(" in path.read_text(encoding="utf-8")
        or "date.today(" in path.read_text(encoding="utf-8")
        or "time.time(" in path.read_text(encoding="utf-8")
    ]
    assert readers == []


def test_the_architecture_test_sees_the_code() -> None:
    assert len(modules("handlers")) >= 5
    assert "storage" in imports_of(ROOT / "handlers" / "flow.py")
