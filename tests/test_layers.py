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


# Packages from the bottom up: each may import those before it, never those after it.
LAYERS = ("lessons", "scheduler", "storage", "bot")
# What a fresh interpreter may not load once it has imported a whole package.
FOREIGN = {
    "lessons": {"telegram", "sqlalchemy", "sqlmodel"},
    "scheduler": {"telegram", "sqlalchemy", "sqlmodel"},
    "storage": {"telegram"},
    "bot": set(),
}


def _modules_of(package: str) -> list[str]:
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts and path.name != "__main__.py"
    )


@pytest.mark.parametrize("package", LAYERS)
def test_a_package_loads_only_the_layers_below_it(package: str):
    """Checked in a fresh interpreter, so transitive imports count, not just the import lines."""
    import json
    import subprocess
    import sys

    script = (
        "import importlib, json, sys\n"
        f"for name in {_modules_of(package)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(result.stdout))
    above = set(LAYERS[LAYERS.index(package) + 1 :])
    assert loaded & above == set(), f"{package} loads {sorted(loaded & above)}"
    assert loaded & FOREIGN[package] == set()
