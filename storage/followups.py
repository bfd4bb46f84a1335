"""Follow-ups of a sent lesson at claim time: its evening check-in and a snoozed resend.

A learner row keeps one `next_due_at` and a `due_kind` that says what is due
then (scheduler.states.DueKind), so the claim stays one indexed range scan
whatever is due. A follow-up belongs to the learner's newest delivery and is
held, sent and recorded like the lesson itself, through the same lease
(storage/lease.py): the claim holds it under a new attempt number in the
same short transaction that advances `next_due_at`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.claims import DEFAULT_LEASE, Claim
from scheduler.due import local_date, next_due_at, occurrence_on, parse_daily_time
from scheduler.states import ClaimKind, DeliveryState, DueKind, FollowUpState
from storage import lease as leases
from storage.claimed import stored_claim
from storage.due import Due
from storage.models import Delivery, Learner
from storage.owed import newest_deliveries, on_its_day, owed_checkin_at

log = logging.getLogger(__name__)

# An evening check-in more than this late (its lesson day is over) is not asked any more.
STALE_CHECKIN = timedelta(hours=6)


async def claim_followups(
    session: AsyncSession,
    picked: Sequence[Due],
    now: datetime,
    lease: timedelta = DEFAULT_LEASE,
) -> list[Claim]:
    """Hold the evening check-ins and snoozed resends of learners due for one.

    Each learner's `next_due_at` moves on in the same transaction: to the
    evening check-in still owed after a snoozed lesson, else to the next
    lesson. A follow-up that no longer applies (its lesson never arrived,
    or its day is over) is simply passed over. A check-in whose lesson is
    still `sending` (its reply lost) waits one lease for that lesson to settle.
    """
    if not picked:
        return []
    ids = [learner.id for learner in picked]
    learners = {
        learner.id: learner
        for learner in (await session.exec(select(Learner).where(col(Learner.id).in_(ids))))
    }
    newest = await newest_deliveries(session, ids)
    last_days = await _last_days(session, ids)
    claims: list[Claim] = []
    for learner_id in ids:
        learner = learners[learner_id]
        delivery = newest.get(learner_id)
        if delivery is not None and _awaits_its_lesson(learner, delivery):
            learner.next_due_at = now + lease  # still `checkin`: asked once the lesson lands
            continue
        claim = None
        if delivery is not None and delivery.state == DeliveryState.SENT:
            claim = _hold_followup(learner, delivery, now)
        if claim is not None:
            claims.append(claim)
        _next_after_followup(learner, delivery, last_days.get(learner_id), now)
    return claims


def _hold_followup(learner: Learner, delivery: Delivery, now: datetime) -> Claim | None:
    if learner.due_kind == DueKind.SNOOZED and delivery.snooze_state == FollowUpState.PENDING:
        if not on_its_day(learner, delivery, now):
            # The bot was down past midnight: a snooze never carries a lesson into
            # the next day, where it would stand in for that day's own lesson.
            leases.give_up(delivery, ClaimKind.SNOOZED, "dropped, its day is over")
            return None
        leases.hold(delivery, ClaimKind.SNOOZED, now)
        # Apart (no check-in buttons on it): the check-in is still owed tonight, or was
        # answered early (at lunch) and must not be asked again.
        apart = delivery.checkin_state == FollowUpState.ANSWERED or (
            delivery.checkin_state == FollowUpState.PENDING
            and owed_checkin_at(learner, delivery, now) is not None
        )
        return stored_claim(learner, delivery, ClaimKind.SNOOZED, apart=apart)
    if (
        learner.due_kind == DueKind.CHECKIN
        and delivery.checkin_state == FollowUpState.PENDING
        and _still_owed(learner, delivery, now)
    ):
        leases.hold(delivery, ClaimKind.CHECKIN, now)
        return stored_claim(learner, delivery, ClaimKind.CHECKIN)
    return None


def _next_after_followup(
    learner: Learner, delivery: Delivery | None, last_day: date | None, now: datetime
) -> None:
    """After a snoozed lesson the evening check-in may still be owed; else the next lesson.

    If the follow-up was due on an earlier day (the bot was down over the
    evening and this morning), today's lesson time has passed already and
    today has no lesson yet: it is due at once, not tomorrow.
    """
    checkin_due = None
    if (
        delivery is not None
        and learner.due_kind == DueKind.SNOOZED
        and on_its_day(learner, delivery, now)
    ):
        checkin_due = owed_checkin_at(learner, delivery, now)
    if checkin_due is not None:
        learner.next_due_at, learner.due_kind = checkin_due, DueKind.CHECKIN
        return
    learner.due_kind = DueKind.LESSON
    assert learner.timezone is not None and learner.daily_time is not None
    daily = parse_daily_time(learner.daily_time)
    today = local_date(now, learner.timezone)
    if (
        last_day is not None
        and today > last_day
        and occurrence_on(today, daily, learner.timezone) <= now
    ):
        learner.next_due_at = now
        return
    learner.next_due_at = next_due_at(daily, learner.timezone, now, after_day=last_day)


async def _last_days(session: AsyncSession, ids: list[int]) -> dict[int, date]:
    """Each learner's newest lesson day of any outcome, failed included, for the batch.

    A lesson that failed today still took today: the next one is tomorrow's.
    """
    rows = (
        await session.exec(
            select(col(Delivery.learner_id), func.max(Delivery.local_date))
            .where(col(Delivery.learner_id).in_(ids))
            .group_by(col(Delivery.learner_id))
        )
    ).all()
    return {learner_id: day for learner_id, day in rows if isinstance(day, date)}


def _awaits_its_lesson(learner: Learner, delivery: Delivery) -> bool:
    """An evening check-in whose lesson is still `sending` (a lost reply, the lease pending)."""
    return (
        learner.due_kind == DueKind.CHECKIN
        and delivery.state == DeliveryState.SENDING
        and delivery.checkin_state == FollowUpState.PENDING
    )


def _still_owed(learner: Learner, delivery: Delivery, now: datetime) -> bool:
    """An evening check-in is asked on its own day's evening, not a day late.

    If today's lesson failed, the newest lesson that arrived is an older one;
    its check-in, never asked, stays unasked rather than coming a day late.
    Turned off (`/reflect off`), an owed check-in comes at once.
    """
    if learner.checkin_time is None or learner.timezone is None:
        return True
    asked_at = occurrence_on(
        delivery.local_date, parse_daily_time(learner.checkin_time), learner.timezone
    )
    return asked_at > now - STALE_CHECKIN
