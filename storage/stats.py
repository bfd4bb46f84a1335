"""What course authors learn from learners: read-only aggregates for `bridges stats`.

Every question is answered by a GROUP BY in the database, so the numbers
come back as a few hundred rows whether the course has ten learners or a
million; nothing here writes, and every query runs in one read-only
transaction (a plain deferred BEGIN on SQLite, so the bot's writer never
waits; a repeatable-read snapshot on PostgreSQL, so the tables agree with
each other). Values come back raw (lesson ids, answer values, languages):
their labels and keys live in the course, which `bot/tools/stats.py` joins.

Where learners leave the course:

- *paused*: the lesson most recently sent before their pause began
  (`paused_since`; a /resume clears it, so this is every pause still on record);
- *stopped* / *blocked*: the last lesson sent to learners who sent /stop or
  blocked the bot;
- *silent*: the last answered lesson of learners with at least `SILENT_AFTER`
  unanswered sent lessons after it (`None` when they never answered at all).

Snoozing does not exist yet, so there is no snooze column to count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import aliased
from sqlmodel import col

from scheduler.states import AnswerVia, DeliveryState, KeptRole, LearnerStatus, Step
from storage.db import READ_ONLY
from storage.health import DatabaseUnavailable
from storage.health import short_reason as reason
from storage.models import Answer, Delivery, Invite, KeptMessage, Learner, Pair

# This many unanswered lessons in a row (after the last answer): the learner has fallen silent.
SILENT_AFTER = 3
# The check-in kinds whose answers are a fixed set of values worth counting.
COUNTED_KINDS = ("choice", "scale")


@dataclass(frozen=True)
class Totals:
    """Head counts; `paused` is paused at the instant the report was asked for."""

    learners: int
    onboarded: int
    active: int
    paused: int
    stopped: int
    blocked: int
    lessons_sent: int
    answers: int


@dataclass(frozen=True)
class LessonCount:
    """One lesson: how many learners it reached (state `sent`) and how many answered it."""

    lesson_id: str
    lesson_day: int
    checkin_kind: str
    learners: int
    answered: int


@dataclass(frozen=True)
class ValueCount:
    """How often learners of one language gave one answer to one choice or scale check-in."""

    lesson_id: str
    lesson_day: int
    checkin_kind: str
    language: str
    value: str
    count: int


@dataclass(frozen=True)
class Leaving:
    """Learners who left at one lesson; `lesson_id` is None for "before any lesson/answer"."""

    lesson_id: str | None
    lesson_day: int | None
    paused: int = 0
    stopped: int = 0
    blocked: int = 0
    silent: int = 0


@dataclass(frozen=True)
class Ways:
    """How answers came (storage/models.py `Answer.via`), so authors see how learners really
    answer: `before` counts answers kept before `via` was (it is not known for them);
    `early` came before their evening check-in was asked. `notes` are words kept on a
    day that answered nothing; `edited`, kept messages the learner later edited."""

    tap: int = 0
    typed: int = 0
    text: int = 0
    voice: int = 0
    before: int = 0
    early: int = 0
    notes: int = 0
    edited: int = 0


@dataclass(frozen=True)
class TogetherCount:
    """Pair mode (issue 16): invites by what became of them, links made and ended, and the
    answer rate (answers per lesson sent) of learners who were ever linked against those
    who never were, so authors see whether taking it together helps people go on."""

    invites: int = 0
    accepted: int = 0
    expired: int = 0
    revoked: int = 0
    links: int = 0
    ended: int = 0
    linked_sent: int = 0
    linked_answers: int = 0
    single_sent: int = 0
    single_answers: int = 0


@dataclass(frozen=True)
class CourseStats:
    totals: Totals
    lessons: list[LessonCount]  # by day
    values: list[ValueCount]  # by day, language, value
    leaving: list[Leaving]  # by day, "before any" first
    ways: Ways = Ways()
    together: TogetherCount = TogetherCount()


SENT = col(Delivery.state) == DeliveryState.SENT


async def read_stats(engine: AsyncEngine, now: datetime) -> CourseStats:
    """Every aggregate `bridges stats` shows, read in one read-only transaction.

    Database errors come back as `DatabaseUnavailable` with a one-line reason
    (an unmigrated database says which table is missing), never as SQL.
    """
    if engine.dialect.name == "postgresql":
        view = engine.execution_options(isolation_level="REPEATABLE READ")
    else:
        view = engine.execution_options(**{READ_ONLY: True})
    try:
        async with view.connect() as conn:
            stats = CourseStats(
                totals=await _totals(conn, now),
                lessons=await _lessons(conn),
                values=await _values(conn),
                leaving=await _leaving(conn),
                ways=await _ways(conn),
                together=await _together(conn, now),
            )
            await conn.rollback()
            return stats
    except (SQLAlchemyError, OSError) as error:
        raise DatabaseUnavailable(reason(error)) from error


async def _totals(conn: AsyncConnection, now: datetime) -> Totals:
    status = col(Learner.status)
    paused_now = and_(
        col(Learner.paused_since).is_not(None),
        or_(col(Learner.paused_until).is_(None), col(Learner.paused_until) > now),
    )
    learners = (
        await conn.execute(
            select(
                func.count(),
                _count_where(col(Learner.onboarding_step) == Step.DONE),
                _count_where(status == LearnerStatus.ACTIVE),
                _count_where(and_(status == LearnerStatus.ACTIVE, paused_now)),
                _count_where(status == LearnerStatus.STOPPED),
                _count_where(status == LearnerStatus.BLOCKED),
            ).select_from(Learner)
        )
    ).one()
    sent = (await conn.execute(select(func.count()).select_from(Delivery).where(SENT))).scalar()
    answers = (await conn.execute(select(func.count()).select_from(Answer))).scalar()
    everyone, onboarded, active, paused, stopped, blocked = (int(n or 0) for n in learners)
    return Totals(
        learners=everyone,
        onboarded=onboarded,
        active=active,
        paused=paused,
        stopped=stopped,
        blocked=blocked,
        lessons_sent=int(sent or 0),
        answers=int(answers or 0),
    )


async def _ways(conn: AsyncConnection) -> Ways:
    via = col(Answer.via)
    answers = (
        await conn.execute(
            select(
                _count_where(via == AnswerVia.TAP),
                _count_where(via == AnswerVia.TYPED),
                _count_where(via == AnswerVia.TEXT),
                _count_where(via == AnswerVia.VOICE),
                _count_where(via.is_(None)),
                _count_where(col(Answer.early).is_(True)),
            ).select_from(Answer)
        )
    ).one()
    kept = (
        await conn.execute(
            select(
                _count_where(col(KeptMessage.role) == KeptRole.NOTE),
                _count_where(col(KeptMessage.edited_at).is_not(None)),
            ).select_from(KeptMessage)
        )
    ).one()
    tap, typed, text, voice, before, early = (int(n or 0) for n in answers)
    notes, edited = (int(n or 0) for n in kept)
    return Ways(tap, typed, text, voice, before, early, notes, edited)


async def _together(conn: AsyncConnection, now: datetime) -> TogetherCount:
    used, revoked = col(Invite.used_at), col(Invite.revoked_at)
    invites = (
        await conn.execute(
            select(
                func.count(),
                _count_where(used.is_not(None)),
                _count_where(
                    and_(used.is_(None), revoked.is_(None), col(Invite.expires_at) <= now)
                ),
                _count_where(and_(used.is_(None), revoked.is_not(None))),
            ).select_from(Invite)
        )
    ).one()
    links = (
        await conn.execute(
            select(func.count(), _count_where(col(Pair.ended_at).is_not(None))).select_from(Pair)
        )
    ).one()
    ever = select(col(Pair.inviter_id)).union(select(col(Pair.partner_id)))
    linked = col(Delivery.learner_id).in_(ever)
    rates = (
        await conn.execute(
            select(
                _count_where(linked),
                _count_where(and_(linked, col(Answer.id).is_not(None))),
                _count_where(~linked),
                _count_where(and_(~linked, col(Answer.id).is_not(None))),
            )
            .select_from(Delivery)
            .outerjoin(Answer, col(Answer.delivery_id) == col(Delivery.id))
            .where(SENT)
        )
    ).one()
    numbers = [int(n or 0) for n in (*invites, *links, *rates)]
    return TogetherCount(*numbers)


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    """COUNT of the rows that meet `condition`, portable to both engines (no FILTER clause)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def _lessons(conn: AsyncConnection) -> list[LessonCount]:
    """The funnel and the answer rate: learners reached and answers, per lesson."""
    query = (
        select(
            col(Delivery.lesson_id),
            col(Delivery.lesson_day),
            col(Delivery.checkin_kind),
            func.count(distinct(col(Delivery.learner_id))),
            func.count(col(Answer.id)),
        )
        .select_from(Delivery)
        .outerjoin(Answer, col(Answer.delivery_id) == col(Delivery.id))
        .where(SENT)
        .group_by(col(Delivery.lesson_id), col(Delivery.lesson_day), col(Delivery.checkin_kind))
        .order_by(col(Delivery.lesson_day), col(Delivery.lesson_id))
    )
    return [
        LessonCount(lesson_id, int(day), kind, int(learners), int(answered))
        for lesson_id, day, kind, learners, answered in (await conn.execute(query)).all()
    ]


async def _values(conn: AsyncConnection) -> list[ValueCount]:
    """Answers to choice and scale check-ins, counted per value and learner language."""
    query = (
        select(
            col(Delivery.lesson_id),
            col(Delivery.lesson_day),
            col(Delivery.checkin_kind),
            col(Learner.language),
            col(Answer.value),
            func.count(),
        )
        .select_from(Answer)
        .join(Delivery, col(Delivery.id) == col(Answer.delivery_id))
        .join(Learner, col(Learner.id) == col(Answer.learner_id))
        .where(col(Delivery.checkin_kind).in_(COUNTED_KINDS))
        .group_by(
            col(Delivery.lesson_id),
            col(Delivery.lesson_day),
            col(Delivery.checkin_kind),
            col(Learner.language),
            col(Answer.value),
        )
        .order_by(col(Delivery.lesson_day), col(Learner.language), col(Answer.value))
    )
    return [
        ValueCount(lesson_id, int(day), kind, language, value, int(count))
        for lesson_id, day, kind, language, value, count in (await conn.execute(query)).all()
    ]


async def _leaving(conn: AsyncConnection) -> list[Leaving]:
    """Paused, stopped, blocked and silent learners, counted at the lesson where they left."""
    paused = await _last_sent(
        conn,
        col(Learner.paused_since).is_not(None),
        col(Delivery.sent_at) <= col(Learner.paused_since),
    )
    stopped = await _last_sent(conn, col(Learner.status) == LearnerStatus.STOPPED)
    blocked = await _last_sent(conn, col(Learner.status) == LearnerStatus.BLOCKED)
    silent = await _silent(conn)
    places = sorted(
        set(paused) | set(stopped) | set(blocked) | set(silent),
        key=lambda place: (place[1] or 0, place[0] or ""),
    )
    return [
        Leaving(
            lesson_id,
            day,
            paused=paused.get((lesson_id, day), 0),
            stopped=stopped.get((lesson_id, day), 0),
            blocked=blocked.get((lesson_id, day), 0),
            silent=silent.get((lesson_id, day), 0),
        )
        for lesson_id, day in places
    ]


Place = tuple[str | None, int | None]


async def _last_sent(
    conn: AsyncConnection, learners: ColumnElement[bool], *also: ColumnElement[bool]
) -> dict[Place, int]:
    """For the `learners` chosen, the newest lesson sent to each (meeting `also`), counted."""
    last = (
        select(
            col(Learner.id).label("learner_id"),
            func.max(col(Delivery.local_date)).label("last_date"),
        )
        .select_from(Learner)
        .outerjoin(Delivery, and_(col(Delivery.learner_id) == col(Learner.id), SENT, *also))
        .where(learners)
        .group_by(col(Learner.id))
        .subquery()
    )
    return await _count_at(conn, last)


async def _silent(conn: AsyncConnection) -> dict[Place, int]:
    """Learners with SILENT_AFTER or more unanswered lessons after their last answer."""
    answered = (
        select(
            col(Delivery.learner_id).label("learner_id"),
            func.max(col(Delivery.local_date)).label("last_date"),
        )
        .join(Answer, col(Answer.delivery_id) == col(Delivery.id))
        .group_by(col(Delivery.learner_id))
        .subquery()
    )
    silent = (
        select(
            col(Delivery.learner_id).label("learner_id"),
            answered.c.last_date,
        )
        .select_from(Delivery)
        .outerjoin(answered, answered.c.learner_id == col(Delivery.learner_id))
        .outerjoin(Answer, col(Answer.delivery_id) == col(Delivery.id))
        .where(
            SENT,
            col(Answer.id).is_(None),
            or_(answered.c.last_date.is_(None), col(Delivery.local_date) > answered.c.last_date),
        )
        .group_by(col(Delivery.learner_id), answered.c.last_date)
        .having(func.count() >= SILENT_AFTER)
        .subquery()
    )
    return await _count_at(conn, silent)


async def _count_at(conn: AsyncConnection, last: Any) -> dict[Place, int]:
    """Count the learners of `last` (learner_id, last_date) by the lesson sent on that date.

    `last_date` NULL (nothing sent, or never answered) counts as (None, None).
    """
    lesson = aliased(Delivery)
    query = (
        select(
            col(lesson.lesson_id), col(lesson.lesson_day), func.count(distinct(last.c.learner_id))
        )
        .select_from(last)
        .outerjoin(
            lesson,
            and_(
                col(lesson.learner_id) == last.c.learner_id,
                col(lesson.local_date) == last.c.last_date,
                col(lesson.state) == DeliveryState.SENT,
            ),
        )
        .group_by(col(lesson.lesson_id), col(lesson.lesson_day))
    )
    return {
        (lesson_id, None if day is None else int(day)): int(count)
        for lesson_id, day, count in (await conn.execute(query)).all()
    }
