"""The claim: reserve the deliveries of due learners as a set, in one short transaction.

    claim_due
      ├─ lease.reclaim_lost       rows of any kind whose lease ran out: held again
      ├─ due.pick_due             up to `batch` due learners, earliest first
      ├─ followups.claim_followups    those due for an evening check-in or a snoozed lesson
      ├─ silence.weeks / pause_silent  freezes, delivered lessons, one note for who went silent
      ├─ plan_lesson / insert_lessons / advance   today's lesson, reserved `sending`,
      │                                           and each learner's next due instant
      │    └─ in_step.held_back   a learner a day ahead of their partner waits (once told)
      ├─ recalls.with_recalls     the earlier answers the claimed lessons show back
      ├─ kept.with_notes          the day's notes an evening check-in shows back
      ├─ pairs.with_together      whose lesson shows its practice for two
      └─ notices.claim_notices    pair notices due: a partner's answer, a link ended

A handful of statements whatever the batch size: PostgreSQL skips rows
another process holds; SQLite's single writer serialises. Only after the
commit does anything go to Telegram, and each learner's `next_due_at` has
moved to a later moment in the same commit, so a crash after it never makes
anyone due again today.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, text, update
from sqlalchemy import select as sql_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.checkin_time import checkin_at
from scheduler.claims import DEFAULT_LEASE, Claim, CourseEntry, next_entry
from scheduler.due import local_date, next_due_at, parse_daily_time
from scheduler.freeze import AUTO_PAUSE_AFTER
from scheduler.states import ClaimKind, DeliveryState, DueKind
from storage import lease as leases
from storage.claimed import stored_claim
from storage.db import is_postgres
from storage.due import Due, pick_due
from storage.followups import claim_followups
from storage.in_step import held_back, wait
from storage.kept import with_notes
from storage.models import Delivery, Learner
from storage.notices import claim_notices
from storage.pairs import with_together
from storage.recalls import with_recalls
from storage.silence import pause_silent, weeks, with_week
from storage.types import UTCDateTime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LessonPlan:
    """What one claim does for one learner: this lesson for this local day, next due then.

    With `checkin_apart` the check-in comes on its own in the evening, and
    `next_due_at` is that evening instant (the learner's due kind: `checkin`).
    """

    learner: Due
    day: int
    entry: CourseEntry
    local_date: date
    next_due_at: datetime
    final: bool = False  # the course's last lesson
    checkin_apart: bool = False
    # The next day's lesson instant (`next_due_at` is the evening when the check-in comes
    # apart): where a learner waiting for their partner goes instead (storage/in_step.py).
    next_lesson_at: datetime | None = None


async def claim_due(
    session: AsyncSession,
    now: datetime,
    course: Sequence[CourseEntry],
    *,
    batch: int = 100,
    lease: timedelta = DEFAULT_LEASE,
    early: timedelta = timedelta(0),
    auto_pause_after: int = AUTO_PAUSE_AFTER,
) -> list[Claim]:
    """Reserve the deliveries of up to `batch` due learners, earliest due first.

    What is due depends on the learner's due kind: the lesson, or a follow-up
    of a lesson already sent (its evening check-in, or the snoozed lesson
    again). A learner silent for `auto_pause_after` lessons in a row gets one
    note instead, and is paused. `early` lets a busy minute start before the
    learners' chosen time, so lateness is spread rather than piled on the last
    in line; a lesson still counts for the local day it was due.
    """
    postgres = is_postgres(session)
    claims = [
        stored_claim(learner, delivery, kind, resend=True, final=_final(delivery, course))
        for kind, delivery, learner in await leases.reclaim_lost(
            session, now, lease, batch, postgres=postgres
        )
    ]
    room = batch - len(claims)
    picked = await pick_due(session, now, early, room) if room > 0 else []
    due = [learner for learner in picked if learner.due_kind == DueKind.LESSON]
    claims += await claim_followups(
        session, [learner for learner in picked if learner.due_kind != DueKind.LESSON], now, lease
    )
    if due:
        history = await weeks(session, due)
        claims += await pause_silent(
            session,
            [learner for learner in due if history[learner.id].silent >= auto_pause_after],
            now,
        )
        due = [learner for learner in due if history[learner.id].silent < auto_pause_after]
        delivered = {learner.id: list(history[learner.id].delivered) for learner in due}
        claims += [
            with_week(claim, history[claim.learner_id])
            for claim in await _claim_lessons(
                session, due, delivered, now, course, postgres=postgres
            )
        ]
    claims = await with_together(
        session, await with_notes(session, await with_recalls(session, claims, course)), course
    )
    return claims + await claim_notices(session, now, lease, batch - len(claims), postgres=postgres)


async def _claim_lessons(
    session: AsyncSession,
    due: Sequence[Due],
    delivered: dict[int, list[str]],
    now: datetime,
    course: Sequence[CourseEntry],
    *,
    postgres: bool,
) -> list[Claim]:
    """Today's lesson for each learner due for one (`delivered`: the lessons each already
    has this round, read with their week), reserved, and their next due instant."""
    if not due:
        return []
    plans: list[LessonPlan] = []
    next_due: dict[int, datetime | None] = {}
    for learner in due:
        plan = plan_lesson(learner, delivered[learner.id], now, course)
        next_due[learner.id] = None if plan is None else plan.next_due_at
        if plan is not None:
            plans.append(plan)
    plans = await _in_step(session, plans, next_due, now, course)
    reserved = await insert_lessons(session, plans, now)
    await _advance(session, next_due, postgres=postgres)
    apart = [plan.learner.id for plan in plans if plan.checkin_apart]
    if apart:  # the lesson goes with its check-in apart: the evening is next
        await session.exec(
            update(Learner)
            .where(col(Learner.id).in_(apart))
            .values(due_kind=DueKind.CHECKIN)
            .execution_options(synchronize_session=False)
        )
    return [
        lesson_claim(plan, *reserved[plan.learner.id])
        for plan in plans
        if plan.learner.id in reserved
    ]


async def _in_step(
    session: AsyncSession,
    plans: list[LessonPlan],
    next_due: dict[int, datetime | None],
    now: datetime,
    course: Sequence[CourseEntry],
) -> list[LessonPlan]:
    """The plans of learners not waiting for their partner (storage/in_step.py); one who
    waits is told once and goes on to their own time tomorrow."""
    lessons = {plan.learner.id: (plan.day, plan.entry.lesson_id) for plan in plans}
    held = await held_back(session, lessons, course, now)
    for plan in plans:
        if plan.learner.id in held:
            next_due[plan.learner.id] = plan.next_lesson_at
            await wait(session, plan.learner.id, held[plan.learner.id], plan.entry.lesson_id, now)
    return [plan for plan in plans if plan.learner.id not in held]


def _final(delivery: Delivery, course: Sequence[CourseEntry]) -> bool:
    return delivery.lesson_day >= len(course)


def plan_lesson(
    learner: Due, delivered: list[str], now: datetime, course: Sequence[CourseEntry]
) -> LessonPlan | None:
    """Today's lesson for one learner, or None (course finished, or a zone we cannot use)."""
    place = next_entry(course, delivered, learner.course_from)
    if place is None:
        return None  # the course is finished: nothing more is due
    # Claimed early (the send window), the lesson still belongs to the day it was due.
    at = max(now, learner.next_due_at)
    try:
        today = local_date(at, learner.timezone)
        due = next_due_at(
            parse_daily_time(learner.daily_time), learner.timezone, at, after_day=today
        )
        checkin_time = (
            None if learner.checkin_time is None else parse_daily_time(learner.checkin_time)
        )
        checkin_due = checkin_at(at, today, checkin_time, learner.timezone)
    except (ValueError, LookupError) as error:
        # One broken row (a zone the server no longer knows) must not stop
        # everyone else's lessons: set it aside and say so.
        log.error("learner %s cannot be scheduled: %s", learner.id, error)
        return None
    day, entry = place
    final = day >= len(course)
    if checkin_due is not None:
        return LessonPlan(learner, day, entry, today, checkin_due, final, True, due)
    return LessonPlan(learner, day, entry, today, due, final, next_lesson_at=due)


async def insert_lessons(
    session: AsyncSession, plans: list[LessonPlan], now: datetime
) -> dict[int, tuple[int, int]]:
    """Insert the planned deliveries, reviving failed ones; learner id -> (id, attempt).

    A row that exists and is not `failed` is left alone (the unique key on
    learner, round and lesson is the last guard against a second send). On
    PostgreSQL the rows travel as arrays (`unnest`), so the statement is the same
    whatever the batch and SQLAlchemy compiles it once: a hundred rows of literal
    VALUES were compiled afresh for every batch, which cost more than the database.
    """
    if not plans:
        return {}
    rows = [
        {
            "learner_id": plan.learner.id,
            "lesson_id": plan.entry.lesson_id,
            "round": plan.learner.round,
            "lesson_day": plan.day,
            "checkin_kind": plan.entry.checkin_kind,
            "local_date": plan.local_date,
            **leases.new_lesson(now, checkin_apart=plan.checkin_apart),
        }
        for plan in plans
    ]
    postgres = is_postgres(session)
    insert = postgres_insert(Delivery) if postgres else sqlite_insert(Delivery)
    rows_in = (
        insert.from_select(list(rows[0]), _unnested(rows)) if postgres else insert.values(rows)
    )
    statement = rows_in.on_conflict_do_update(
        index_elements=[col(Delivery.learner_id), col(Delivery.round), col(Delivery.lesson_id)],
        set_={
            **leases.revived_lesson(insert.excluded),
            "local_date": insert.excluded.local_date,
            "lesson_day": insert.excluded.lesson_day,
            "failure": None,
        },
        where=col(Delivery.state) == DeliveryState.FAILED,
    ).returning(col(Delivery.learner_id), col(Delivery.id), col(Delivery.attempts))
    connection = await session.connection()
    result = await connection.execute(statement)
    return {
        learner_id: (delivery_id, attempts)
        for learner_id, delivery_id, attempts in result
        if delivery_id is not None
    }


def _unnested(rows: list[dict[str, Any]]) -> Any:
    """SELECT … FROM unnest(:learner_id, :lesson_id, …): one array per column, each bound
    as a parameter, so the statement's text never depends on how many rows there are."""
    table = Delivery.__table__  # type: ignore[attr-defined]
    names = list(rows[0])
    arrays = [
        bindparam(name, [row[name] for row in rows], type_=ARRAY(table.c[name].type))
        for name in names
    ]
    unnested = func.unnest(*arrays).table_valued(*names).render_derived()
    return sql_select(*(unnested.c[name] for name in names))


async def _advance(
    session: AsyncSession, next_due: dict[int, datetime | None], *, postgres: bool
) -> None:
    """Move every claimed learner's `next_due_at` on (NULL when nothing is left) at once.

    A timed pause that has run out ends here too: the claim only picks
    learners whose pause is over.
    """
    if not next_due:
        return
    connection = await session.connection()
    if postgres:
        await connection.execute(
            text(
                "UPDATE learner SET next_due_at = data.due, paused_since = NULL, "
                "paused_until = NULL FROM unnest(CAST(:ids AS BIGINT[]), "
                "CAST(:dues AS TIMESTAMPTZ[])) AS data(id, due) WHERE learner.id = data.id"
            ),
            {"ids": list(next_due), "dues": list(next_due.values())},
        )
        return
    # SQLite: one prepared statement run for every row, inside the one write transaction.
    await connection.execute(
        update(Learner)
        .where(col(Learner.id) == bindparam("learner"))
        .values(
            next_due_at=bindparam("due", type_=UTCDateTime()),
            paused_since=None,
            paused_until=None,
        ),
        [{"learner": learner, "due": due} for learner, due in next_due.items()],
    )


def lesson_claim(plan: LessonPlan, delivery_id: int, attempt: int) -> Claim:
    """The claim of a lesson just reserved from its plan."""
    return Claim(
        delivery_id=delivery_id,
        attempt=attempt,
        learner_id=plan.learner.id,
        first_name=plan.learner.first_name,
        language=plan.learner.language,
        lesson_id=plan.entry.lesson_id,
        lesson_day=plan.day,
        local_date=plan.local_date,
        timezone=plan.learner.timezone,
        due_at=plan.learner.next_due_at,
        kind=ClaimKind.LESSON,
        checkin_apart=plan.checkin_apart,
        final=plan.final,
    )
