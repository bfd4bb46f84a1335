"""The learner's own history, read back: the points of the /progress chart and /export.

Both are one read-only transaction and plain values; the bot turns them into
a picture or a JSON file. Nothing here is about anyone but the asking learner.
/restart, which begins the course again, is here too. Each function works
inside the session it is given; `Repo` opens the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.states import DeliveryState, Step
from storage import pairs
from storage.kept import kept_for_export
from storage.models import Answer, Delivery, Learner
from storage.schedule import lock_learner, reschedule


@dataclass(frozen=True)
class ScalePoint:
    """One scale answer: the lesson (its id and day in the course) and the value 1-5."""

    lesson_id: str
    lesson_day: int
    local_date: date
    value: int


def _stamp(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


async def scale_answers(session: AsyncSession, learner_id: int) -> list[ScalePoint]:
    """Every answered scale check-in of the learner, in course order."""
    rows = (
        await session.exec(
            select(
                col(Delivery.lesson_id),
                col(Delivery.lesson_day),
                col(Delivery.local_date),
                col(Answer.value),
            )
            .join(Answer, col(Answer.delivery_id) == Delivery.id)
            .where(
                Delivery.learner_id == learner_id,
                Delivery.checkin_kind == "scale",
                Delivery.state == DeliveryState.SENT,
            )
            .order_by(col(Delivery.local_date), col(Delivery.id))
        )
    ).all()
    return [
        ScalePoint(lesson_id, day, local, int(value))
        for lesson_id, day, local, value in rows
        if value.isdigit()
    ]


async def delivered_lesson(session: AsyncSession, learner_id: int, lesson_id: str) -> bool:
    """Whether the lesson ever reached the learner, in any round (what /lesson N shows)."""
    found = await session.exec(
        select(Delivery.id).where(
            Delivery.learner_id == learner_id,
            Delivery.lesson_id == lesson_id,
            Delivery.state == DeliveryState.SENT,
        )
    )
    return found.first() is not None


async def restart(session: AsyncSession, learner_id: int, now: datetime, course_length: int) -> str:
    """Begin the course again after its last day, keeping every answer: `restarted`,
    `not_finished` (lessons still to come this round) or `unknown`."""
    learner = await lock_learner(session, learner_id)
    if learner is None or learner.onboarding_step != Step.DONE:
        return "unknown"
    sent = (
        await session.exec(
            select(func.count(func.distinct(Delivery.lesson_id))).where(
                Delivery.learner_id == learner_id,
                Delivery.round == learner.round,
                Delivery.state == DeliveryState.SENT,
            )
        )
    ).one()
    # A learner who joined a partner further along skipped the days before it.
    if sent < course_length - (learner.course_from - 1):
        return "not_finished"
    learner.round += 1
    learner.next_lesson = learner.course_from = 1
    await reschedule(session, learner, now)
    return "restarted"


async def export(session: AsyncSession, learner_id: int) -> dict[str, Any] | None:
    """Everything Bridges keeps about the learner, as JSON-ready values (None: a stranger)."""
    learner = await session.get(Learner, learner_id)
    if learner is None:
        return None
    deliveries = (
        await session.exec(
            select(Delivery)
            .where(Delivery.learner_id == learner_id)
            .order_by(col(Delivery.local_date), col(Delivery.id))
        )
    ).all()
    words = await kept_for_export(session, learner_id)
    answers = {
        answer.delivery_id: answer
        for answer in (
            await session.exec(select(Answer).where(Answer.learner_id == learner_id))
        ).all()
    }
    return {
        "settings": {
            "first_name": learner.first_name,
            "language": learner.language,
            "timezone": learner.timezone,
            "daily_time": learner.daily_time,
            "round": learner.round,
            "checkin_time": learner.checkin_time,
            "status": learner.status,
            "paused_since": _stamp(learner.paused_since),
            "paused_until": _stamp(learner.paused_until),
            "next_due_at": _stamp(learner.next_due_at),
            "enrolled_at": _stamp(learner.created_at),
        },
        "deliveries": [
            {
                "lesson_id": delivery.lesson_id,
                "round": delivery.round,
                "lesson_day": delivery.lesson_day,
                "local_date": _stamp(delivery.local_date),
                "state": delivery.state,
                "sent_at": _stamp(delivery.sent_at),
                "snoozed_until": _stamp(delivery.snoozed_until),
                "answer": (
                    None
                    if delivery.id not in answers
                    else {
                        "value": answers[delivery.id].value,
                        "answered_at": _stamp(answers[delivery.id].answered_at),
                        "private": answers[delivery.id].private,
                        "voice_file_id": answers[delivery.id].voice_file_id,
                        "voice_seconds": answers[delivery.id].voice_seconds,
                        "via": answers[delivery.id].via,
                        "early": answers[delivery.id].early,
                    }
                ),
                # The learner's own messages of that day: the answer's parts, the words
                # typed for a tap, notes; each with the words it had before an edit.
                "messages": words.get(delivery.id, []),
            }
            for delivery in deliveries
        ],
        "notes_before_the_first_lesson": words.get(None, []),
        "together": await pairs.for_export(session, learner_id),
    }
