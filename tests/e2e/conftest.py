from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.tools.sandbox import Sandbox
from lessons.loader import Course, load_course
from storage.db import create_engine, upgrade_schema
from tests.e2e.harness import Bridges
from tests.helpers import SettableClock


@pytest.fixture(scope="session")
def course() -> Course:
    return load_course()


@pytest.fixture
def flood_clock(clock: SettableClock) -> Callable[[], float]:
    """Real time plus the test clock's jumps: a new simulated day refills every bucket.

    The sandbox's flood limits and the bot's own send budget both run on it, so
    a month walked in simulated days is not paced as if it were one minute.
    """
    start = clock.now

    def now() -> float:
        return time.monotonic() + (clock.now - start).total_seconds()

    return now


@pytest.fixture
async def sandbox(flood_clock: Callable[[], float]) -> AsyncIterator[Sandbox]:
    """Telegram's flood limits on the flood clock."""
    async with Sandbox(clock=flood_clock) as running:
        yield running


@pytest.fixture
async def bridges(
    sandbox: Sandbox,
    tmp_path: Path,
    course: Course,
    clock: SettableClock,
    flood_clock: Callable[[], float],
) -> AsyncIterator[Bridges]:
    bot = Bridges(sandbox, tmp_path / "bridges.db", course, clock, pace_clock=flood_clock)
    await bot.start()
    yield bot
    await bot.stop()


@pytest.fixture
async def pg(postgres_database: str) -> AsyncIterator[AsyncEngine]:
    """The real PostgreSQL only (the scale-out and fault tests), emptied and migrated to head."""
    connection = await asyncpg.connect(postgres_database)
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    finally:
        await connection.close()
    engine = create_engine(postgres_database)
    await upgrade_schema(engine)
    yield engine
    await engine.dispose()
