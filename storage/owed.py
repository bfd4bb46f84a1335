"""What a learner is still owed on their newest lesson: its evening check-in or a snoozed resend.

Shared by every reschedule (storage/base.py) and the follow-up claim
(storage/followups.py), so a settings change never forgets an owed check-in.
"""

from __future__ import annotations

from datetime import datetime

from scheduler.due import parse_daily_time
from scheduler.reflection import checkin_at
from scheduler.states import DeliveryState, DueKind, FollowUpState
from storage.models import Delivery, Learner


def evening_of(learner: Learner, delivery: Delivery, now: datetime) -> datetime | None:
    """The evening check-in instant of `delivery`'s day, if it is still ahead of `now`."""
    if learner.reflection_time is None or learner.timezone is None:
        return None
    return checkin_at(
        now, delivery.local_date, parse_daily_time(learner.reflection_time), learner.timezone
    )


def owed_followup(
    learner: Learner, delivery: Delivery | None, now: datetime
) -> tuple[datetime, DueKind] | None:
    """A follow-up still owed on the newest delivery, for a reschedule: (when, kind) or None."""
    if delivery is None or delivery.state != DeliveryState.SENT:
        return None
    if delivery.snooze_state == FollowUpState.PENDING and delivery.snoozed_until is not None:
        return max(delivery.snoozed_until, now), DueKind.SNOOZED
    if delivery.checkin_state == FollowUpState.PENDING:
        if learner.reflection_time is None:
            return now, DueKind.CHECKIN  # turned off: the owed check-in comes at once
        evening = evening_of(learner, delivery, now)
        if evening is not None:
            return evening, DueKind.CHECKIN
    return None
