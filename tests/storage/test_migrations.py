"""Migrations build the schema on both engines, can be undone, and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from storage.db import downgrade_schema, normalise_url, upgrade_schema


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
