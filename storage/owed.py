"""What a learner is still owed on their newest lesson: its evening check-in or a snoozed resend.

Shared by every reschedule (storage/schedule.py) and the follow-up claim
(storage/followups.py), so a settings change never forgets an owed check-in.
Both look at the newest delivery that has not failed: a lesson still
`sending` (its reply lost, the lease pending) keeps its check-in owed, since
the lease will deliver it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.checkin_time import checkin_at
from scheduler.due import local_date, parse_daily_time
from scheduler.states import DeliveryState, DueKind, FollowUpState
from storage.models import Delivery, Learner


async def newest_deliveries(session: AsyncSession, ids: Sequence[int]) -> dict[int, Delivery]:
    """Each learner's newest delivery that has not failed, in one query for the batch.

    Sent or still `sending`: a lesson whose reply was lost is not over, and
    what it owes (its evening check-in) must survive until the lease settles it.
    """
    if not ids:
        return {}
    rows = (
        await session.exec(
            select(Delivery)
            .where(col(Delivery.learner_id).in_(ids), Delivery.state != DeliveryState.FAILED)
            .order_by(col(Delivery.local_date).desc(), col(Delivery.id).desc())
        )
    ).all()
    newest: dict[int, Delivery] = {}
    for delivery in rows:
        newest.setdefault(delivery.learner_id, delivery)
    return newest


def owed_checkin_at(learner: Learner, delivery: Delivery, now: datetime) -> datetime | None:
    """The evening check-in instant of `delivery`'s day, if it is still ahead of `now`."""
    if learner.checkin_time is None or learner.timezone is None:
        return None
    return checkin_at(
        now, delivery.local_date, parse_daily_time(learner.checkin_time), learner.timezone
    )


def on_its_day(learner: Learner, delivery: Delivery, now: datetime) -> bool:
    """Whether `now` is still the local day `delivery` was for: follow-ups never run a day late."""
    return learner.timezone is not None and delivery.local_date == local_date(now, learner.timezone)


def owed_followup(
    learner: Learner, delivery: Delivery | None, now: datetime
) -> tuple[datetime, DueKind] | None:
    """A follow-up still owed on the newest delivery, for a reschedule: (when, kind) or None.

    Only on the delivery's own local day: a snoozed lesson or a check-in from
    yesterday is not sent on top of today's lesson. A check-in whose evening
    has already passed today (the check-in time moved earlier) comes at once.
    """
    if delivery is None or delivery.state == DeliveryState.FAILED:
        return None
    if not on_its_day(learner, delivery, now):
        return None
    if (
        delivery.state == DeliveryState.SENT
        and delivery.snooze_state == FollowUpState.PENDING
        and delivery.snoozed_until is not None
    ):
        return max(delivery.snoozed_until, now), DueKind.SNOOZED
    if delivery.checkin_state == FollowUpState.PENDING:
        checkin_due = owed_checkin_at(learner, delivery, now)
        if checkin_due is not None:
            return checkin_due, DueKind.CHECKIN
        return now, DueKind.CHECKIN  # turned off, or its evening already passed: at once
    return None
