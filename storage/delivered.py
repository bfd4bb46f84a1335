"""The lessons each learner already has this round: where the claim, /today and a pair's
step find a learner's place in the course (scheduler.claims.next_entry)."""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.states import DeliveryState
from storage.models import Delivery, Learner


async def delivered_lessons(session: AsyncSession, ids: list[int]) -> dict[int, list[str]]:
    """The lessons each learner already has (sent or being sent); failed ones go again.

    Only this round's: after /restart the course starts over, history kept.
    """
    rows = (
        await session.exec(
            select(Delivery.learner_id, Delivery.lesson_id)
            .join(Learner, col(Learner.id) == Delivery.learner_id)
            .where(
                col(Delivery.learner_id).in_(ids),
                Delivery.state != DeliveryState.FAILED,
                col(Delivery.round) == col(Learner.round),
            )
        )
    ).all()
    delivered: dict[int, list[str]] = defaultdict(list)
    for learner_id, lesson_id in rows:
        delivered[learner_id].append(lesson_id)
    return delivered
