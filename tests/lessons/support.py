"""Shared by the checker's tests: edit a copy of the course and read what the checker says."""

from __future__ import annotations

from pathlib import Path

from lessons.check import find_problems


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in the file (which must be there) by `new`."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def problems(root: Path) -> list[str]:
    return [str(problem) for problem in find_problems(root)[1]]
