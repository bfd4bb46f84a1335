"""No module knows both Telegram and SQL: the layering rule, kept true by a test."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("bot", {"sqlalchemy", "sqlmodel", "alembic", "asyncpg", "aiosqlite"}),
        ("storage", {"telegram"}),
        ("lessons", {"telegram", "sqlalchemy", "sqlmodel"}),
        ("scheduler", {"telegram", "sqlalchemy", "sqlmodel"}),
    ],
)
def test_package_does_not_import(package: str, forbidden: set[str]):
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & forbidden)
        for path in (ROOT / package).rglob("*.py")
        if _imports(path) & forbidden
    }
    assert offenders == {}


def test_only_the_clock_reads_the_system_time():
    readers = [
        str(path.relative_to(ROOT))
        for package in ("bot", "lessons", "scheduler", "storage")
        for path in (ROOT / package).rglob("*.py")
        if "datetime.now(" in path.read_text(encoding="utf-8")
    ]
    assert readers == ["scheduler/clock.py"]
