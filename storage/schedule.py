"""A learner's one due instant: set from their settings, pause and newest delivery.

Every change that can move a learner's next moment (a setting, a pause, an
answer that ends an auto-pause, /today while paused) takes the learner row
with `lock_learner` and calls `reschedule` in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.due import next_due_at, parse_daily_time
from scheduler.states import DeliveryState, DueKind, LearnerStatus, Step
from storage.db import is_postgres
from storage.models import Delivery, Learner
from storage.owed import newest_deliveries, owed_followup


async def lock_learner(session: AsyncSession, learner_id: int) -> Learner | None:
    """The learner row, locked for this transaction on PostgreSQL.

    A settings change computes `next_due_at` from the newest delivery; the
    lock makes it wait for a tick that is claiming this learner, so the two
    never both schedule today. (SQLite's BEGIN IMMEDIATE already serialises.)
    """
    query = select(Learner).where(Learner.id == learner_id)
    if is_postgres(session):
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def reschedule(session: AsyncSession, learner: Learner, now: datetime) -> None:
    """Set `next_due_at` from the learner's settings, pause and newest delivery.

    NULL means "nothing to send": onboarding unfinished, stopped, blocked,
    or paused without an end date. A finished course is found by the claim.
    An evening check-in or snoozed lesson still owed today comes first
    (the learner's one due instant, with `due_kind` saying which).
    """
    learner.due_kind = DueKind.LESSON
    if (
        learner.onboarding_step != Step.DONE
        or learner.status != LearnerStatus.ACTIVE
        or learner.timezone is None
        or learner.daily_time is None
    ):
        learner.next_due_at = None
        return
    if learner.paused_since is not None and learner.paused_until is None:
        learner.next_due_at = None
        return
    start = now
    if learner.paused_until is not None and learner.paused_until > now:
        start = learner.paused_until
    last_day = await last_delivery_day(session, learner.id)
    learner.next_due_at = next_due_at(
        parse_daily_time(learner.daily_time), learner.timezone, start, after_day=last_day
    )
    if start == now:
        # The newest delivery not failed: one still `sending` keeps its check-in owed.
        newest = await newest_deliveries(session, [learner.id])
        owed = owed_followup(learner, newest.get(learner.id), now)
        if owed is not None and owed[0] < learner.next_due_at:
            learner.next_due_at, learner.due_kind = owed


async def last_delivery_day(session: AsyncSession, learner_id: int) -> date | None:
    """The newest local day with a lesson that did not fail: the next one is after it."""
    result = await session.exec(
        select(func.max(Delivery.local_date)).where(
            Delivery.learner_id == learner_id, Delivery.state != DeliveryState.FAILED
        )
    )
    value = result.one()
    return value if isinstance(value, date) else None


async def latest_delivery(
    session: AsyncSession, learner_id: int, *, sent_only: bool = False
) -> Delivery | None:
    """The newest delivery by the local day it counts for; with `sent_only`, the newest sent.

    A check-in stays open until the next lesson *arrives*, so answers look
    only at sent deliveries: a failed or still-sending one closes nothing.
    """
    query = select(Delivery).where(Delivery.learner_id == learner_id)
    if sent_only:
        query = query.where(Delivery.state == DeliveryState.SENT)
    result = await session.exec(
        query.order_by(col(Delivery.local_date).desc(), col(Delivery.id).desc()).limit(1)
    )
    return result.first()
