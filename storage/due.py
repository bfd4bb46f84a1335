"""Who is due: the claim's one indexed range scan over `next_due_at`, and the backlog it sees.

One condition (`due_filter`) serves the claim, the tick's lateness and send
window, and the health probe, so they never disagree about who is waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy import select as sql_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.claims import DueSpan
from scheduler.states import DueKind, LearnerStatus, Step
from storage.db import is_postgres
from storage.models import Learner


@dataclass(frozen=True)
class Due:
    """A due learner as the claim reads them: only the columns it needs."""

    id: int
    first_name: str
    language: str
    timezone: str
    daily_time: str
    next_due_at: datetime
    due_kind: str = DueKind.LESSON
    checkin_time: str | None = None
    round: int = 1  # which time through the course (/restart)
    course_from: int = 1  # the day this round starts at (joined a partner further along)


def due_filter(now: datetime, early: timedelta) -> list[Any]:
    """Who is due by `now + early`: active, onboarded, not paused (or the pause has run out)."""
    return [
        col(Learner.next_due_at) <= now + early,
        Learner.status == LearnerStatus.ACTIVE,
        Learner.onboarding_step == Step.DONE,
        or_(col(Learner.paused_since).is_(None), col(Learner.paused_until) <= now),
    ]


async def pick_due(session: AsyncSession, now: datetime, early: timedelta, limit: int) -> list[Due]:
    """Up to `limit` due learners, earliest due first; PostgreSQL skips rows another
    process holds, SQLite's single writer serialises."""
    query = (
        sql_select(
            col(Learner.id),
            col(Learner.first_name),
            col(Learner.language),
            col(Learner.timezone),
            col(Learner.daily_time),
            col(Learner.next_due_at),
            col(Learner.due_kind),
            col(Learner.checkin_time),
            col(Learner.round),
            col(Learner.course_from),
        )
        .where(*due_filter(now, early))
        .order_by(col(Learner.next_due_at))
        .limit(limit)
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    connection = await session.connection()
    rows = (await connection.execute(query)).all()
    return [
        Due(learner_id, name, language, zone, daily, due, kind, checkin_time, round_, start)
        for learner_id, name, language, zone, daily, due, kind, checkin_time, round_, start in rows
        # Always set once onboarding is done; the check is for the type checker.
        if zone is not None and daily is not None and due is not None
    ]


async def oldest_due(session: AsyncSession, now: datetime) -> datetime | None:
    """When the longest-waiting due learner was due (None when nobody is): lateness."""
    result = await session.exec(
        select(func.min(Learner.next_due_at)).where(*due_filter(now, timedelta(0)))
    )
    value = result.one()
    return value if isinstance(value, datetime) else None


async def due_span(session: AsyncSession, now: datetime, early: timedelta) -> DueSpan:
    """The backlog the send window spreads: learners due by `now + early`, first and last."""
    count, first, last = (
        await session.exec(
            select(
                func.count(),
                func.min(col(Learner.next_due_at)),
                func.max(col(Learner.next_due_at)),
            ).where(*due_filter(now, early))
        )
    ).one()
    return DueSpan(int(count), aggregate_instant(first), aggregate_instant(last))


def aggregate_instant(value: object) -> datetime | None:
    """An aggregate's instant as aware UTC (SQLite's min/max lose the column type)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
