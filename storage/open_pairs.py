"""Which pair a learner is in: the one query every part of Together asks.

Kept apart from storage/pairs.py so that the pair notices (storage/notices.py),
which pairs.py itself schedules, and the pair's step (storage/in_step.py) ask
it the same way without a loop between the modules.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import is_postgres
from storage.models import Pair


def of_learner(learner_id: int) -> ColumnElement[bool]:
    """The pairs the learner is in, on either side."""
    return or_(col(Pair.inviter_id) == learner_id, col(Pair.partner_id) == learner_id)


def other_of(pair: Pair, learner_id: int) -> int:
    """The pair's other learner."""
    return pair.partner_id if pair.inviter_id == learner_id else pair.inviter_id


async def open_pair(session: AsyncSession, learner_id: int, *, lock: bool = False) -> Pair | None:
    """The learner's pair while it lasts; with `lock`, held for this transaction on
    PostgreSQL (a reveal and an unlink at the same moment take turns)."""
    query = select(Pair).where(of_learner(learner_id), col(Pair.ended_at).is_(None))
    if lock and is_postgres(session):
        query = query.with_for_update()
    return (await session.exec(query)).first()
