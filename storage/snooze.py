""" "Later" on a lesson: it comes again once, at the chosen time, still for its own day."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.checkin_time import snooze_until
from scheduler.due import local_date, parse_daily_time
from scheduler.states import DueKind
from storage import lease
from storage.base import view
from storage.schedule import latest_delivery, lock_learner
from storage.views import SnoozeOutcome


async def snooze(
    session: AsyncSession, learner_id: int, delivery_id: int, choice: str, now: datetime
) -> SnoozeOutcome:
    """Snooze today's newest lesson, once; the claim then finds the learner due (kind
    `snoozed`) at that instant."""
    learner = await lock_learner(session, learner_id)
    if learner is None or learner.timezone is None:
        return SnoozeOutcome("unknown")
    latest = await latest_delivery(session, learner_id, sent_only=True)
    if latest is None or latest.id != delivery_id:
        return SnoozeOutcome("closed")
    if latest.snoozed_until is not None:
        return SnoozeOutcome("already")
    if view(learner).is_paused(now) or latest.local_date != local_date(now, learner.timezone):
        return SnoozeOutcome("closed")
    checkin_time = None if learner.checkin_time is None else parse_daily_time(learner.checkin_time)
    until = snooze_until(choice, now, checkin_time, learner.timezone)
    if until is None or (
        learner.next_due_at is not None
        and until > learner.next_due_at
        and learner.due_kind == DueKind.LESSON
    ):
        return SnoozeOutcome("too_late")
    lease.snooze(latest, until)
    learner.next_due_at, learner.due_kind = until, DueKind.SNOOZED
    return SnoozeOutcome("snoozed", until, learner.timezone)
