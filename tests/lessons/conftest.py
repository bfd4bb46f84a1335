"""A copy of the course to break, for the checker's tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lessons.loader import LESSONS_DIR


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """The lessons, templates and safety files, copied where a test may change them."""
    root = tmp_path / "lessons"
    for part in ("en", "nl", "templates", "safety"):
        shutil.copytree(LESSONS_DIR / part, root / part)
    return root
