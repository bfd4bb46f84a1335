"""Shared fixtures: `db` (SQLite and the real PostgreSQL, migrated with Alembic), `repo`, `clock`.

PostgreSQL tests create their own database for the test session and drop it
afterwards; if the server can't be reached they fail, they never skip.
"""

from __future__ import annotations

import asyncio
import os

# python-telegram-bot 22 warns (an error here) when RetryAfter is built without this opt-in.
os.environ.setdefault("PTB_TIMEDELTA", "1")
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, upgrade_schema
from storage.repo import Repo
from tests.helpers import SettableClock

POSTGRES_URL = os.environ.get(
    "BRIDGES_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; its URL."""
    name = f"bridges_test_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(POSTGRES_URL)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    def run(sql: str) -> None:
        # Its own thread and loop: the fixture may be first requested inside a test's loop.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, admin(sql)).result()

    try:
        run(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as error:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is needed for these tests: {error}")
    base, _, _ = POSTGRES_URL.rpartition("/")
    yield f"{base}/{name}"
    run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _fresh_postgres(url: str) -> AsyncEngine:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    finally:
        await connection.close()
    return create_engine(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty database migrated to head: SQLite in a temp file, or the real PostgreSQL."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'bridges.db'}")
    else:
        engine = await _fresh_postgres(request.getfixturevalue("postgres_database"))
    await upgrade_schema(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def repo(db: AsyncEngine) -> Repo:
    return Repo(db)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
