"""/today and the end of onboarding: today's lesson now, counted once.

The same plan and insert as the claim (storage/claim.py), for one learner,
as a reply: if today's lesson already went out, the same delivery is shown
again; otherwise the next lesson is reserved as today's, and the following
one is due tomorrow at the learner's time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.claims import CourseEntry
from scheduler.due import local_date
from scheduler.states import DeliveryState, DueKind, Step
from storage.base import view
from storage.claim import insert_lessons, lesson_claim, plan_lesson
from storage.claimed import stored_claim
from storage.delivered import delivered_lessons
from storage.due import Due
from storage.in_step import held_back, wait, waiting_told
from storage.pairs import with_together
from storage.recalls import with_recalls
from storage.schedule import latest_delivery, lock_learner, reschedule
from storage.views import TodayOutcome


async def deliver_today(
    session: AsyncSession, learner_id: int, now: datetime, course: Sequence[CourseEntry]
) -> TodayOutcome:
    """Today's lesson for one learner: `new` (reserved), `again`, `sending`, `finished`,
    or `not_ready` (onboarding unfinished)."""
    learner = await lock_learner(session, learner_id)
    if learner is None or learner.onboarding_step != Step.DONE or learner.timezone is None:
        return TodayOutcome("not_ready")
    assert learner.daily_time is not None
    today = local_date(now, learner.timezone)
    latest = await latest_delivery(session, learner_id)
    # `>=`: a lesson claimed early for tomorrow (the send window) or dated in
    # a zone further east also counts: one lesson per day, never two.
    if latest is not None and latest.local_date >= today:
        if latest.state == DeliveryState.SENT:
            (again,) = await with_together(
                session,
                await with_recalls(session, [stored_claim(learner, latest, resend=True)], course),
                course,
            )
            return TodayOutcome("again", again)
        if latest.state == DeliveryState.SENDING:
            return TodayOutcome("sending")  # the tick is sending it right now
    due = Due(
        learner.id,
        learner.first_name,
        learner.language,
        learner.timezone,
        learner.daily_time,
        now,
        checkin_time=learner.checkin_time,
        round=learner.round,
        course_from=learner.course_from,
    )
    plan = plan_lesson(
        due, (await delivered_lessons(session, [learner.id]))[learner.id], now, course
    )
    if plan is None:
        return TodayOutcome("finished")
    told = await waiting_told(session, learner, plan.entry.lesson_id)
    if told is not None:  # told that it waits: so it does, until the tick decides again
        return TodayOutcome("waiting", waiting_for=told)
    lessons = {learner.id: (plan.day, plan.entry.lesson_id)}
    waiting = (await held_back(session, lessons, course, now)).get(learner.id)
    if waiting is not None:  # a day ahead of their partner: it waits, as in the tick
        await wait(session, learner.id, waiting, plan.entry.lesson_id, now, told=True)
        return TodayOutcome("waiting", waiting_for=waiting.partner_name)
    if view(learner).is_paused(now):
        # Paused, nothing is due this evening: the check-in travels with the lesson
        # rather than be promised "tonight" and never come.
        plan = replace(plan, checkin_apart=False)
    reserved = await insert_lessons(session, [plan], now)
    learner.next_due_at = plan.next_due_at
    learner.due_kind = DueKind.CHECKIN if plan.checkin_apart else DueKind.LESSON
    if learner.paused_since is not None:
        await reschedule(session, learner, now)
    if learner.id not in reserved:  # pragma: no cover - the plan skips delivered lessons
        return TodayOutcome("sending")
    (claim,) = await with_together(
        session,
        await with_recalls(session, [lesson_claim(plan, *reserved[learner.id])], course),
        course,
    )
    return TodayOutcome("new", claim)
