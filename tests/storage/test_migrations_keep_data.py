"""Upgrading a database that has data keeps every row: learners, deliveries, answers.

SQLite's batch migrations copy and drop tables; with foreign keys on, a dropped
learner table would cascade and empty the deliveries and answers. Migrating
an empty database, as the schema tests do, cannot show that.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import downgrade_schema, upgrade_schema


async def _counts(engine: AsyncEngine) -> tuple[int, int, int]:
    async with engine.connect() as connection:
        values = []
        for table in ("learner", "delivery", "answer"):
            result = await connection.execute(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
            values.append(int(result.scalar_one()))
        return values[0], values[1], values[2]


async def test_upgrading_from_the_first_schema_keeps_history(db: AsyncEngine):
    await downgrade_schema(db, "0001")
    now = datetime(2026, 3, 2, 7, 0, tzinfo=UTC).replace(tzinfo=None)
    async with db.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO learner (id, first_name, language, timezone, daily_time, "
                "onboarding_step, status, next_lesson, created_at) VALUES "
                "(1, 'Alex', 'en', 'Europe/Amsterdam', '08:00', 'done', 'active', 2, :now)"
            ),
            {"now": now},
        )
        await connection.execute(
            text(
                "INSERT INTO delivery (id, learner_id, lesson_id, lesson_day, checkin_kind, "
                "local_date, state, attempts, claimed_at, sent_at) VALUES "
                "(1, 1, 'opening-1', 1, 'choice', '2026-03-02', 'sent', 1, :now, :now)"
            ),
            {"now": now},
        )
        await connection.execute(
            text(
                "INSERT INTO answer (id, delivery_id, learner_id, value, answered_at) "
                "VALUES (1, 1, 1, 'partner', :now)"
            ),
            {"now": now},
        )
    assert await _counts(db) == (1, 1, 1)
    await upgrade_schema(db)
    assert await _counts(db) == (1, 1, 1)


async def test_reveals_made_before_pair_notices_count_as_shown_to_both(db: AsyncEngine):
    await downgrade_schema(db, "0009")
    now = datetime(2026, 3, 2, 7, 0, tzinfo=UTC).replace(tzinfo=None)
    async with db.begin() as connection:
        for learner_id, name in ((1, "Alex"), (2, "Sam")):
            await connection.execute(
                text(
                    "INSERT INTO learner (id, first_name, language, timezone, daily_time, "
                    "onboarding_step, status, next_lesson, created_at) VALUES "
                    "(:id, :name, 'en', 'Europe/Amsterdam', '08:00', 'done', 'active', 2, :now)"
                ),
                {"id": learner_id, "name": name, "now": now},
            )
        await connection.execute(
            text("INSERT INTO pair (id, inviter_id, partner_id, linked_at) VALUES (1, 1, 2, :now)"),
            {"now": now},
        )
        await connection.execute(
            text(
                "INSERT INTO reveal (id, pair_id, lesson_id, revealed_at) "
                "VALUES (1, 1, 'opening-1', :now)"
            ),
            {"now": now},
        )
    await upgrade_schema(db)
    async with db.connect() as connection:
        rows = (
            await connection.execute(
                text(
                    "SELECT reader_id, writer_id, kind, state, round FROM pair_notice "
                    "ORDER BY reader_id"
                )
            )
        ).all()
        rounds = (
            await connection.execute(text("SELECT inviter_round, partner_round FROM reveal"))
        ).all()
    assert [tuple(row) for row in rows] == [
        (1, 2, "reveal", "sent", 1),
        (2, 1, "reveal", "sent", 1),
    ]
    assert [tuple(row) for row in rounds] == [(1, 1)]
