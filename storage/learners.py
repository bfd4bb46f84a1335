"""Learners and their settings: enrol, onboarding answers, pause, stop, block, delete.

Every change that can move the learner's next lesson reschedules it in the
same transaction, with the learner row locked (on PostgreSQL), so a tick that
is claiming this learner and a settings change never both schedule today.
Each function works inside the session it is given; `Repo` opens the transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.checkin_time import DEFAULT_CHECKIN_TIME
from scheduler.onboarding import next_step
from scheduler.states import LearnerStatus, Step
from storage.base import view
from storage.models import (
    Answer,
    Delivery,
    Invite,
    KeptMessage,
    Learner,
    MessageEdit,
    Pair,
    PairNotice,
    Reveal,
)
from storage.open_pairs import of_learner
from storage.pairs import unlink
from storage.schedule import lock_learner, reschedule
from storage.views import LearnerView


def _next_step(learner: Learner) -> Step:
    """The first step after the language whose setting is still missing (scheduler/onboarding)."""
    return next_step(lambda setting: getattr(learner, setting) is None)


async def get_learner(session: AsyncSession, learner_id: int) -> LearnerView | None:
    learner = await session.get(Learner, learner_id)
    return None if learner is None else view(learner)


async def start_learner(
    session: AsyncSession, learner_id: int, *, first_name: str, language: str, now: datetime
) -> tuple[LearnerView, bool]:
    """Enrol a new learner, or bring back one who stopped or blocked the bot.

    Returns the learner and whether they are new. A returning learner keeps
    their settings, answers and place in the course.
    """
    learner = await lock_learner(session, learner_id)
    if learner is None:
        learner = Learner(
            id=learner_id,
            first_name=first_name,
            language=language,
            onboarding_step=Step.LANGUAGE,
            status=LearnerStatus.ACTIVE,
            checkin_time=DEFAULT_CHECKIN_TIME,
            created_at=now,
        )
        session.add(learner)
        await session.flush()
        return view(learner), True
    learner.first_name = first_name
    if learner.status != LearnerStatus.ACTIVE:
        learner.status = LearnerStatus.ACTIVE
        await reschedule(session, learner, now)
    return view(learner), False


async def set_language(session: AsyncSession, learner_id: int, language: str) -> LearnerView | None:
    learner = await lock_learner(session, learner_id)
    if learner is None:
        return None
    learner.language = language
    if learner.onboarding_step == Step.LANGUAGE:
        learner.onboarding_step = _next_step(learner)
    return view(learner)


async def set_timezone(
    session: AsyncSession, learner_id: int, zone: str, now: datetime
) -> LearnerView | None:
    """Store a validated IANA zone; the next lesson moves to the new local time."""
    learner = await lock_learner(session, learner_id)
    if learner is None:
        return None
    learner.timezone = zone
    await _after_setting(session, learner, now)
    return view(learner)


async def set_daily_time(
    session: AsyncSession, learner_id: int, daily_time: str, now: datetime
) -> LearnerView | None:
    """Store the learner's daily time (``HH:MM``); today's lesson is never sent twice."""
    learner = await lock_learner(session, learner_id)
    if learner is None:
        return None
    learner.daily_time = daily_time
    await _after_setting(session, learner, now)
    return view(learner)


async def _after_setting(session: AsyncSession, learner: Learner, now: datetime) -> None:
    """An onboarding setting was stored: move onboarding along, then reschedule."""
    if learner.onboarding_step != Step.LANGUAGE:
        learner.onboarding_step = _next_step(learner)
    await reschedule(session, learner, now)


async def pause(
    session: AsyncSession, learner_id: int, now: datetime, days: int | None = None
) -> LearnerView | None:
    """Pause nudges; with `days`, they resume by themselves after that many days."""
    learner = await lock_learner(session, learner_id)
    if learner is None:
        return None
    learner.paused_since = now
    learner.paused_until = None if days is None else now + timedelta(days=days)
    await reschedule(session, learner, now)
    return view(learner)


async def resume(
    session: AsyncSession, learner_id: int, now: datetime
) -> tuple[LearnerView | None, bool]:
    """End a pause. Returns the learner and whether they were paused at all."""
    learner = await lock_learner(session, learner_id)
    if learner is None:
        return None, False
    was_paused = view(learner).is_paused(now)
    learner.paused_since = None
    learner.paused_until = None
    await reschedule(session, learner, now)
    return view(learner), was_paused


async def stop(session: AsyncSession, learner_id: int) -> LearnerView | None:
    """No more nudges; everything is kept so /start brings the learner back."""
    learner = await lock_learner(session, learner_id)
    if learner is None:
        return None
    learner.status = LearnerStatus.STOPPED
    learner.next_due_at = None
    return view(learner)


async def mark_blocked(session: AsyncSession, learner_id: int) -> LearnerView | None:
    """Telegram said the learner blocked the bot: skip them until they come back.

    A learner who had already stopped stays stopped: only /start brings them back.
    """
    learner = await lock_learner(session, learner_id)
    if learner is None:
        return None
    if learner.status == LearnerStatus.ACTIVE:
        learner.status = LearnerStatus.BLOCKED
        learner.next_due_at = None
    return view(learner)


async def mark_unblocked(
    session: AsyncSession, learner_id: int, now: datetime
) -> LearnerView | None:
    """The learner unblocked the bot: lessons resume if blocking was what stopped them."""
    learner = await lock_learner(session, learner_id)
    if learner is None:
        return None
    if learner.status == LearnerStatus.BLOCKED:
        learner.status = LearnerStatus.ACTIVE
        await reschedule(session, learner, now)
    return view(learner)


async def delete_learner(session: AsyncSession, learner_id: int, now: datetime) -> bool:
    """Erase every row about the learner. Returns whether there was anything to erase.

    A partner is told the link ended at their own next moment (a pair notice, as for
    /together off); nothing of the learner's waits to be shown to them any more."""
    await unlink(session, learner_id, now)
    await session.exec(
        delete(PairNotice).where(
            or_(
                col(PairNotice.reader_id) == learner_id,
                col(PairNotice.writer_id) == learner_id,
            )
        )
    )
    theirs = select(Pair.id).where(of_learner(learner_id))
    await session.exec(delete(Reveal).where(col(Reveal.pair_id).in_(theirs)))
    await session.exec(delete(Pair).where(of_learner(learner_id)))
    await session.exec(delete(Invite).where(col(Invite.inviter_id) == learner_id))
    kept = select(KeptMessage.id).where(col(KeptMessage.learner_id) == learner_id)
    await session.exec(delete(MessageEdit).where(col(MessageEdit.kept_message_id).in_(kept)))
    await session.exec(delete(KeptMessage).where(col(KeptMessage.learner_id) == learner_id))
    await session.exec(delete(Answer).where(col(Answer.learner_id) == learner_id))
    await session.exec(delete(Delivery).where(col(Delivery.learner_id) == learner_id))
    result = await session.exec(delete(Learner).where(col(Learner.id) == learner_id))
    return bool(result.rowcount)


async def count_learners(session: AsyncSession) -> int:
    return int((await session.exec(select(func.count()).select_from(Learner))).one())


async def set_checkin_time(
    session: AsyncSession, learner_id: int, checkin_time: str | None, now: datetime
) -> LearnerView | None:
    """The evening check-in's time (``HH:MM``), or None to send it with the lesson.

    An evening check-in still owed today moves to the new time (or comes
    at once when turned off), through the same reschedule as every setting.
    """
    learner = await lock_learner(session, learner_id)
    if learner is None:
        return None
    learner.checkin_time = checkin_time
    await reschedule(session, learner, now)
    return view(learner)
