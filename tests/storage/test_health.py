"""Health queries (schema, backlog) and migrations under the advisory lock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, upgrade_schema
from storage.health import (
    DatabaseUnavailable,
    HealthProbe,
    head_revision,
    sqlite_file_missing,
)
from storage.repo import Repo
from tests.helpers import make_learner

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


async def test_schema_at_head_after_upgrade(db: AsyncEngine):
    schema = await HealthProbe(db).schema()
    assert schema.at_head and schema.current == head_revision()


async def test_an_empty_database_has_no_schema(tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        schema = await HealthProbe(engine).schema()
    finally:
        await engine.dispose()
    assert schema.current is None and not schema.at_head


async def test_a_closed_port_is_unavailable_with_a_short_reason():
    engine = create_engine("postgresql://postgres:hunter2secret@127.0.0.1:1/nothing")
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            await HealthProbe(engine).schema()
    finally:
        await engine.dispose()
    assert "hunter2secret" not in str(caught.value)
    assert "\n" not in str(caught.value)


async def test_backlog_counts_due_unclaimed_learners_only(repo: Repo, db: AsyncEngine):
    await make_learner(repo, NOW, learner_id=1, zone="Europe/Amsterdam", daily_time="08:00")
    await make_learner(repo, NOW, learner_id=2, zone="Europe/Amsterdam", daily_time="07:30")
    await make_learner(repo, NOW, learner_id=3, zone="Asia/Tokyo", daily_time="08:00")
    await make_learner(repo, NOW, learner_id=4, zone=None, daily_time=None)  # onboarding
    probe = HealthProbe(db)
    due_at = datetime(2026, 3, 2, 6, 45, tzinfo=UTC)  # 07:45 in Amsterdam
    backlog = await probe.backlog(due_at)
    assert backlog.due == 1  # only the 07:30 learner
    assert backlog.lateness_seconds(due_at) == 15 * 60
    later = due_at + timedelta(hours=1)
    assert (await probe.backlog(later)).due == 2
    assert (await probe.backlog(NOW)).lateness_seconds(NOW) == 0.0


def test_sqlite_file_missing(tmp_path: Path):
    assert sqlite_file_missing(f"sqlite:///{tmp_path / 'absent.db'}")
    (tmp_path / "present.db").touch()
    assert not sqlite_file_missing(f"sqlite:///{tmp_path / 'present.db'}")
    assert not sqlite_file_missing("postgresql://postgres@127.0.0.1/test")


@pytest.mark.postgres
async def test_concurrent_upgrades_migrate_once(postgres_database: str):
    """N processes starting together on a fresh database: all succeed, schema at head."""
    connection = await asyncpg.connect(postgres_database)
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    finally:
        await connection.close()
    engines = [create_engine(postgres_database) for _ in range(6)]
    try:
        results = await asyncio.gather(
            *(upgrade_schema(engine) for engine in engines), return_exceptions=True
        )
        assert [r for r in results if isinstance(r, BaseException)] == []
        schema = await HealthProbe(engines[0]).schema()
    finally:
        for engine in engines:
            await engine.dispose()
    assert schema.at_head
