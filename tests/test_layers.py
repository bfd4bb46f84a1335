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
    """Every module under `package` (a folder path such as "bot" or "bot/chat")."""
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


# Inside bot/: the chat bot, operations and tools. The chat bot runs in production on its own,
# so it never loads a tool (sandbox, bench, demo, stats); of operations it uses only the
# metrics counters, a leaf module. Operations may reach tools only from the CLI, which
# dispatches to them.
def _bot_imports(path: Path) -> set[str]:
    """Every bot.* module this file imports, at any depth (function-local and TYPE_CHECKING too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("bot."))
        elif isinstance(node, ast.ImportFrom) and _within(node.module or "", "bot"):
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_chat_bot_imports_no_tool_and_of_operations_only_metrics():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in _bot_imports(path)
            if _within(name, "bot.tools")
            or (_within(name, "bot.ops") and name != "bot.ops.metrics")
        )
        for path in (ROOT / "bot" / "chat").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}
    assert len(offenders) > 20  # the walk found the chat bot's modules


def test_operations_reach_tools_only_from_the_cli():
    offenders = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "bot" / "ops").rglob("*.py")
        if path.name != "cli.py" and any(_within(n, "bot.tools") for n in _bot_imports(path))
    )
    assert offenders == []


def test_the_chat_bot_alone_loads_no_tool():
    """A fresh interpreter that imports every chat module has no bot.tools module loaded."""
    import json
    import subprocess
    import sys

    modules = _modules_of("bot/chat")
    assert modules
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('bot.'))))\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = json.loads(result.stdout)
    assert [name for name in loaded if _within(name, "bot.tools")] == []
    assert [n for n in loaded if _within(n, "bot.ops") and n != "bot.ops.metrics"] == ["bot.ops"]


def _module_graph() -> dict[str, set[str]]:
    """Who imports whom among our modules, counting every import statement wherever it sits."""
    modules = {
        name: path
        for package in ("bot", "lessons", "scheduler", "storage")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
        for name in [
            ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        ]
    }
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from a.b import c` imports a.b.c when that is a module, else a.b itself
                targets = [
                    f"{node.module}.{alias.name}"
                    if f"{node.module}.{alias.name}" in modules
                    else node.module
                    for alias in node.names
                ]
            else:
                continue
            edges.update(target for target in targets if target in modules and target != name)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import circle once, found by depth-first search."""
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            found.append([*path[path.index(node) :], node])
            return
        if node in done:
            return
        for target in sorted(graph[node]):
            visit(target, [*path, node])
        done.add(node)

    for start in sorted(graph):
        visit(start, [])
    return found


def test_no_import_circle_even_through_function_local_or_type_only_imports():
    graph = _module_graph()
    assert len(graph) > 80 and sum(len(edges) for edges in graph.values()) > 100
    assert _cycles(graph) == []


def test_the_circle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
