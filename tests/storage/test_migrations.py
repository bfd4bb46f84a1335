"""Migrations build the schema on both engines, can be undone, and match the models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from storage.db import downgrade_schema, normalise_url, upgrade_schema
from storage.repo import Repo
from tests.helpers import COURSE, make_learner, record_sent

MORNING = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 in Amsterdam


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


async def test_head_matches_the_models_and_can_be_undone(db: AsyncEngine):
    async with db.connect() as connection:
        assert {"learner", "delivery", "answer"} <= await connection.run_sync(_tables)
        assert await connection.run_sync(_diff) == []
    await downgrade_schema(db)
    async with db.connect() as connection:
        assert not {"learner", "delivery", "answer"} & await connection.run_sync(_tables)
    await upgrade_schema(db)
    await upgrade_schema(db)  # running it again changes nothing
    async with db.connect() as connection:
        assert {"learner", "delivery", "answer"} <= await connection.run_sync(_tables)


def test_plain_urls_get_async_drivers():
    assert normalise_url("postgresql://postgres@127.0.0.1:5432/test").startswith(
        "postgresql+asyncpg://"
    )
    assert normalise_url("sqlite:///bridges.db") == "sqlite+aiosqlite:///bridges.db"
    assert normalise_url("sqlite+aiosqlite:///x.db") == "sqlite+aiosqlite:///x.db"


async def test_downgrading_the_week_refuses_after_a_restart(db: AsyncEngine):
    """Round 2 repeats (learner, lesson), which the older schema cannot hold: refuse, keep all."""
    async with db.begin() as connection:
        await connection.exec_driver_sql(
            "INSERT INTO learner (id, first_name, language, onboarding_step, status, next_lesson,"
            " created_at, round, due_kind) VALUES (1, 'a', 'en', 'done', 'active', 1,"
            " '2026-03-01 07:00:00', 2, 'lesson')"
        )
    with pytest.raises(Exception, match="restarted the course"):
        await downgrade_schema(db, "0002")
    async with db.connect() as connection:
        assert await connection.run_sync(_diff) == []  # still at head, nothing changed


async def test_downgrading_the_week_moves_an_evening_due_instant_to_the_next_lesson(
    db: AsyncEngine,
):
    repo = Repo(db)
    await make_learner(repo, MORNING - timedelta(hours=1), checkin_time="20:00")
    (claim,) = await repo.claim_due(MORNING, COURSE)
    assert await record_sent(repo, claim, now=MORNING, message_id=1)
    await downgrade_schema(db, "0002")
    async with db.connect() as connection:
        (due,) = (await connection.exec_driver_sql("SELECT next_due_at FROM learner")).one()
    # 08:00 in Amsterdam the next day, not the evening check-in's 20:00.
    assert str(due).startswith("2026-03-03 07:00:00")


async def test_the_checkin_time_keeps_its_value_through_the_rename(db: AsyncEngine):
    """0005 renames learner.reflection_time to checkin_time; each learner keeps their time."""
    repo = Repo(db)
    await make_learner(repo, MORNING - timedelta(hours=1), checkin_time="21:30")
    await downgrade_schema(db, "0004")
    async with db.connect() as connection:
        (old,) = (await connection.exec_driver_sql("SELECT reflection_time FROM learner")).one()
    assert old == "21:30"
    await upgrade_schema(db)
    learner = await repo.get_learner(1001)
    assert learner is not None and learner.checkin_time == "21:30"
    async with db.connect() as connection:
        assert await connection.run_sync(_diff) == []
