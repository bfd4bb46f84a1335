from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox import Sandbox
from lessons.loader import Course, load_course
from tests.e2e.harness import Bridges
from tests.helpers import SettableClock


@pytest.fixture(scope="session")
def course() -> Course:
    return load_course()


@pytest.fixture
async def sandbox(clock: SettableClock) -> AsyncIterator[Sandbox]:
    """Telegram's flood limits in real time plus the test clock's jumps (a new day refills)."""
    start = clock.now

    def flood_clock() -> float:
        return time.monotonic() + (clock.now - start).total_seconds()

    async with Sandbox(clock=flood_clock) as running:
        yield running


@pytest.fixture
async def bridges(
    sandbox: Sandbox, tmp_path: Path, course: Course, clock: SettableClock
) -> AsyncIterator[Bridges]:
    bot = Bridges(sandbox, tmp_path / "bridges.db", course, clock)
    await bot.start()
    yield bot
    await bot.stop()
