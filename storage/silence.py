"""Freezes and silence at claim time: who is owed a "freeze kept your streak" line, who went
silent long enough to be paused with one gentle note.

The rules are pure, over lesson days (scheduler/freeze.py); this module reads
the days for a whole claim batch in two queries and applies them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from sqlalchemy import select as sql_select
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.claims import Claim
from scheduler.due import local_date
from scheduler.freeze import apply_freezes
from scheduler.states import ClaimKind, DeliveryState, DueKind
from scheduler.streak import LessonDay
from storage.models import Answer, Delivery, Learner

log = logging.getLogger(__name__)


class DueLearner(Protocol):
    """What silence needs of a learner the claim picked."""

    @property
    def id(self) -> int: ...
    @property
    def first_name(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def round(self) -> int: ...


@dataclass(frozen=True)
class LearnerWeek:
    """What a claim needs of a learner's history: silence since they were last back, and
    whether the newest lesson day (closed by the lesson now going out) used a freeze."""

    silent: int = 0
    freeze_used: bool = False
    streak: int = 0
    # The lessons this round already has (sent or being sent; failed ones go again): the
    # learner's place in the course, read with the week so the claim needs no second read.
    delivered: tuple[str, ...] = ()


def with_week(claim: Claim, week: LearnerWeek) -> Claim:
    """The claim, telling the learner kindly when a freeze kept their streak yesterday."""
    if not week.freeze_used:
        return claim
    return replace(claim, freeze_used=True, streak=week.streak)


async def weeks(session: AsyncSession, due: Sequence[DueLearner]) -> dict[int, LearnerWeek]:
    """Each due learner's freezes, silence and delivered lessons, from two queries for
    the whole batch.

    Every delivered day counts as closed: the lesson now being claimed closes it.
    """
    ids = [learner.id for learner in due]
    rounds = {learner.id: learner.round for learner in due}
    connection = await session.connection()
    rows = (
        await connection.execute(
            sql_select(
                col(Delivery.learner_id),
                col(Delivery.local_date),
                col(Delivery.claimed_at),
                col(Answer.id),
                col(Delivery.lesson_id),
                col(Delivery.round),
            )
            .outerjoin(Answer, col(Answer.delivery_id) == Delivery.id)
            .where(col(Delivery.learner_id).in_(ids), col(Delivery.state) != DeliveryState.FAILED)
        )
    ).all()
    learners = (
        await session.exec(
            select(col(Learner.id), col(Learner.auto_paused_at), col(Learner.care_since)).where(
                col(Learner.id).in_(ids)
            )
        )
    ).all()
    back = {learner_id: since for learner_id, since, _care in learners}
    # In care (they told Bridges of crisis or harm), no streak is mentioned to them.
    in_care = {learner_id for learner_id, _since, care in learners if care is not None}
    days: dict[int, list[LessonDay]] = defaultdict(list)
    recent: dict[int, list[LessonDay]] = defaultdict(list)
    delivered: dict[int, list[str]] = defaultdict(list)
    for learner_id, day, claimed_at, answer_id, lesson_id, round_ in rows:
        if round_ == rounds[learner_id]:  # only this round's: /restart starts over
            delivered[learner_id].append(lesson_id)
        entry = LessonDay(day, answer_id is not None)
        days[learner_id].append(entry)
        since = back.get(learner_id)
        if since is None or claimed_at > since:
            recent[learner_id].append(entry)
    found: dict[int, LearnerWeek] = {}
    for learner_id in ids:
        history = days[learner_id]
        week = apply_freezes(history)
        newest = max((entry.day for entry in history), default=None)
        found[learner_id] = LearnerWeek(
            silent=apply_freezes(recent[learner_id]).silent,
            freeze_used=newest is not None and newest in week.frozen and learner_id not in in_care,
            streak=week.current,
            delivered=tuple(delivered[learner_id]),
        )
    return found


async def pause_silent(
    session: AsyncSession, silent: Sequence[DueLearner], now: datetime
) -> list[Claim]:
    """Pause learners who went silent and hand back the one note each of them gets.

    The pause is committed with the claim, so the note goes out at most
    once: a paused learner is never picked again until they come back.
    """
    if not silent:
        return []
    await session.exec(
        update(Learner)
        .where(col(Learner.id).in_([learner.id for learner in silent]))
        .values(
            paused_since=now,
            paused_until=None,
            auto_paused_at=now,
            next_due_at=None,
            due_kind=DueKind.LESSON,
        )
        .execution_options(synchronize_session=False)
    )
    for learner in silent:
        log.info("learner %s paused after silence", learner.id)
    return [
        Claim(
            delivery_id=0,
            attempt=0,
            learner_id=learner.id,
            first_name=learner.first_name,
            language=learner.language,
            lesson_id="",
            lesson_day=0,
            local_date=local_date(now, learner.timezone),
            timezone=learner.timezone,
            kind=ClaimKind.PAUSE_NOTE,
        )
        for learner in silent
    ]
