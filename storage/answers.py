"""Answers to check-ins, streaks and progress: what the learner said and how it adds up.

An answer counts once (unique per delivery) and only while its check-in is
open, that is while its delivery is the newest one that reached the learner.
Each function works inside the session it is given; `Repo` opens the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.due import local_date
from scheduler.freeze import Week, apply_freezes
from scheduler.states import AnswerVia, DeliveryState, FollowUpState, KeptRole
from scheduler.streak import LessonDay, Streaks
from storage import kept
from storage import lease as leases
from storage.base import view
from storage.models import Answer, Delivery, Learner
from storage.schedule import latest_delivery, lock_learner, reschedule
from storage.views import AnswerOutcome, AnswerStatus, ButtonCheckin, Progress, Typed

# Answers are kept whole up to this many characters; Telegram's own limit is 4096.
MAX_ANSWER_LENGTH = 4096


async def record_answer(
    session: AsyncSession,
    learner_id: int,
    delivery_id: int,
    value: str,
    now: datetime,
    *,
    accepts: Callable[[str, str], bool],
    private: Callable[[str, str], bool] = lambda _lesson, _value: False,
    typed: Typed | None = None,
) -> AnswerOutcome:
    """Record a button answer to one check-in, at most once, while it is open.

    `accepts(lesson_id, value)` says whether the value is one of that
    check-in's own choices; forged or stale data changes nothing.
    `private(lesson_id, value)` says whether the answer says the learner is being
    harmed ("someone is hurting me now"): see `_record`. `typed`: the message whose
    words stood for the tap ("yes, I sent it"), kept beside it.
    """
    delivery = await session.get(Delivery, delivery_id)
    if delivery is None or delivery.learner_id != learner_id:
        return AnswerOutcome("unknown")
    if not accepts(delivery.lesson_id, value):
        return AnswerOutcome("unknown", delivery.lesson_id)
    hidden = private(delivery.lesson_id, value)
    via = AnswerVia.TAP if typed is None else AnswerVia.TYPED
    outcome = await _record(session, delivery, value, now, private=hidden, via=via)
    if outcome.status == "recorded" and typed is not None:
        kept.keep(
            session,
            learner_id,
            delivery_id,
            typed.message_id,
            KeptRole.TYPED,
            typed.words,
            now,
            private=outcome.in_care,
        )
    return outcome


async def record_text_answer(
    session: AsyncSession,
    learner_id: int,
    text: str,
    now: datetime,
    *,
    private: bool = False,
    message_id: int | None = None,
) -> AnswerOutcome:
    """Free text answers the newest check-in if it asks for text and is still open; a
    second message adds to it; one that no longer fits is kept as a note (`noted`)."""
    latest = await latest_delivery(session, learner_id, sent_only=True)
    if latest is None or latest.checkin_kind != "text":
        return AnswerOutcome("closed")
    if not await _open_for(session, latest, now):
        return AnswerOutcome("closed")
    words = text[:MAX_ANSWER_LENGTH]
    outcome = await _record(session, latest, words, now, private=private, via=AnswerVia.TEXT)
    if outcome.status == "already":
        outcome = await _add_to(session, latest, words, outcome, private=private)
    if outcome.status in ("recorded", "added"):
        hidden = private or outcome.in_care
        kept.keep(
            session, learner_id, latest.id, message_id, KeptRole.ANSWER, words, now, private=hidden
        )
    elif outcome.status == "already":  # the answer is full: nothing is thrown away
        await kept.keep_note(session, learner_id, message_id, words, now, private=private)
        return AnswerOutcome("noted", latest.lesson_id, outcome.streaks, in_care=outcome.in_care)
    return outcome


async def record_voice_answer(
    session: AsyncSession,
    learner_id: int,
    file_id: str,
    seconds: int,
    now: datetime,
    *,
    message_id: int | None = None,
) -> AnswerOutcome:
    """A voice or video note answers the newest check-in that asks for words, as text
    would (early on the lesson's day too); its file id and length are kept. Anything
    else keeps it as a note: `noted` (with the lesson id when the open check-in takes a
    tap and is unanswered), or `already` when that check-in was answered."""
    latest = await latest_delivery(session, learner_id, sent_only=True)
    spoken = kept.voice_words(seconds)
    outcome = AnswerOutcome("closed")
    if latest is not None and await _open_for(session, latest, now):
        if latest.checkin_kind != "text":  # it takes a tap: kept as a note, said so
            status: AnswerStatus = "already" if await _answered(session, latest) else "noted"
            outcome = AnswerOutcome(status, latest.lesson_id)
        else:
            outcome = await _record(
                session, latest, spoken, now, private=False, via=AnswerVia.VOICE
            )
            if outcome.status == "already":  # a second note the same day is added, as words are
                outcome = await _add_to(session, latest, spoken, outcome, private=False)
            elif outcome.status == "recorded":
                answer = (
                    await session.exec(select(Answer).where(Answer.delivery_id == latest.id))
                ).one()
                answer.voice_file_id, answer.voice_seconds = file_id[:256], seconds
    if outcome.status in ("recorded", "added") and latest is not None:
        kept.keep(
            session,
            learner_id,
            latest.id,
            message_id,
            KeptRole.ANSWER,
            spoken,
            now,
            private=outcome.in_care,
            voice_file_id=file_id,
        )
        return outcome
    # Anything else (no check-in open, one that takes a tap, a full answer): a note.
    await kept.keep_note(session, learner_id, message_id, spoken, now, voice_file_id=file_id)
    if outcome.status in ("noted", "already"):
        return outcome
    return AnswerOutcome("noted")


async def _open_for(session: AsyncSession, delivery: Delivery, now: datetime) -> bool:
    """Whether words now may answer this delivery's check-in: once asked, until the next
    lesson; before it is asked (an early answer), only on the lesson's own day."""
    if delivery.checkin_state == FollowUpState.SENDING:
        return False  # being asked this very moment: the answer comes to that message
    if delivery.checkin_state != FollowUpState.PENDING:
        return True
    learner = await session.get(Learner, delivery.learner_id)
    zone = learner.timezone if learner is not None else None
    return zone is not None and local_date(now, zone) == delivery.local_date


async def _add_to(
    session: AsyncSession,
    delivery: Delivery,
    text: str,
    outcome: AnswerOutcome,
    *,
    private: bool,
) -> AnswerOutcome:
    """A second message while the check-in is open (until the next lesson comes) adds to
    the words kept, in order, never replacing them; `added`, or `already` when full.
    Words that spoke of crisis or abuse make the whole answer private, and put the
    learner in care."""
    answer = (await session.exec(select(Answer).where(Answer.delivery_id == delivery.id))).first()
    if answer is None or len(answer.value) + 2 + len(text) > MAX_ANSWER_LENGTH:
        return outcome
    answer.value = f"{answer.value}\n\n{text}"
    if private:
        answer.private = True
        await note_care(session, delivery.learner_id, answer.answered_at)
    learner = await session.get(Learner, delivery.learner_id)
    in_care = learner is not None and learner.care_since is not None
    return AnswerOutcome("added", delivery.lesson_id, outcome.streaks, in_care=in_care)


async def button_checkin(
    session: AsyncSession, learner_id: int, now: datetime
) -> ButtonCheckin | None:
    """The newest lesson's check-in when it takes a tap and is open (asked, or today's
    still to ask): typed words may answer it as the tap would, unless it is answered."""
    latest = await latest_delivery(session, learner_id, sent_only=True)
    if latest is None or latest.id is None or latest.checkin_kind not in ("choice", "scale"):
        return None
    if not await _open_for(session, latest, now):
        return None
    answered = await _answered(session, latest)
    return ButtonCheckin(latest.id, latest.lesson_id, answered)


def asking_message(delivery: Delivery) -> int | None:
    """The message whose buttons ask the delivery's check-in: the evening check-in once
    sent, or the lesson it came with; None while it is still to ask."""
    if delivery.checkin_state is None:  # asked with the lesson, under it
        return delivery.lesson_message_id
    if delivery.checkin_state == FollowUpState.SENT:
        return delivery.checkin_message_id
    return None


async def _answered(session: AsyncSession, delivery: Delivery) -> bool:
    found = await session.exec(select(Answer.id).where(Answer.delivery_id == delivery.id))
    return found.first() is not None


async def _record(
    session: AsyncSession,
    delivery: Delivery,
    value: str,
    now: datetime,
    *,
    private: bool,
    via: AnswerVia,
) -> AnswerOutcome:
    """The answer, once per delivery, if it answers the learner's newest lesson.

    A private answer (it spoke of crisis or abuse) is never shown back in a later
    lesson, and it does not end a pause that silence started: the reply to it offers
    /pause, and lessons must not start again behind the learner's back. It puts the
    learner in care (`note_care`); a learner in care gives only private answers."""
    assert delivery.id is not None
    # The learner first, then the delivery, as the claim takes them (no deadlock on
    # PostgreSQL), and the delivery read again under that lock: a claim that just held
    # the evening check-in (`sending`) is seen, so it is not overwritten.
    learner = await lock_learner(session, delivery.learner_id)
    await session.refresh(delivery)
    if await _answered(session, delivery):
        return AnswerOutcome("already", delivery.lesson_id)
    latest = await latest_delivery(session, delivery.learner_id, sent_only=True)
    if latest is None or latest.id != delivery.id:
        return AnswerOutcome("closed", delivery.lesson_id)
    in_care = private or (learner is not None and learner.care_since is not None)
    if private:
        await note_care(session, delivery.learner_id, now)
    answer = Answer(
        delivery_id=delivery.id,
        learner_id=delivery.learner_id,
        value=value,
        answered_at=now,
        private=in_care,
        via=via,
        early=delivery.checkin_state == FollowUpState.PENDING,
    )
    try:
        async with session.begin_nested():
            session.add(answer)
    except IntegrityError:  # a double tap raced us to the unique constraint
        return AnswerOutcome("already", delivery.lesson_id)
    early = leases.answered_early(delivery)
    if early and learner is not None:
        await reschedule(session, learner, now)  # nothing to ask tonight: the next lesson
    streaks = await _streaks(session, delivery.learner_id)
    resumed = False if private else await back_from_silence(session, delivery.learner_id, now)
    return AnswerOutcome(
        "recorded",
        delivery.lesson_id,
        streaks,
        resumed=resumed,
        in_care=in_care,
        early=early,
        asked_in=asking_message(delivery),
    )


async def note_care(session: AsyncSession, learner_id: int, now: datetime) -> None:
    """The learner told Bridges of crisis or harm: from now on, care (see `care_since`)."""
    learner = await session.get(Learner, learner_id)
    if learner is not None and learner.care_since is None:
        learner.care_since = now


async def back_from_silence(session: AsyncSession, learner_id: int, now: datetime) -> bool:
    """Any answer ends a pause that silence started (never one the learner chose)."""
    learner = await lock_learner(session, learner_id)
    if learner is None or not view(learner).auto_paused:
        return False
    learner.paused_since = None
    learner.paused_until = None
    await reschedule(session, learner, now)
    return True


async def _streaks(session: AsyncSession, learner_id: int) -> Streaks:
    week = await _week(session, learner_id)
    return Streaks(week.current, week.longest)


async def _week(session: AsyncSession, learner_id: int) -> Week:
    """Streaks with freezes applied: a missed day a freeze covered does not break them."""
    rows = (
        await session.exec(
            select(col(Delivery.id), col(Delivery.local_date), col(Answer.id))
            .outerjoin(Answer, col(Answer.delivery_id) == Delivery.id)
            .where(Delivery.learner_id == learner_id, Delivery.state != DeliveryState.FAILED)
            .order_by(col(Delivery.local_date), col(Delivery.id))
        )
    ).all()
    days = [
        LessonDay(day=day, answered=answer_id is not None, open=index == len(rows) - 1)
        for index, (_, day, answer_id) in enumerate(rows)
    ]
    return apply_freezes(days)


async def progress(session: AsyncSession, learner_id: int) -> Progress | None:
    """Everything /progress shows, read in one (read-only, unlocked) transaction."""
    learner = await session.get(Learner, learner_id)
    if learner is None:
        return None
    delivered = (
        await session.exec(
            select(Delivery.lesson_id)
            .where(
                Delivery.learner_id == learner_id,
                Delivery.state == DeliveryState.SENT,
                Delivery.round == learner.round,
            )
            .order_by(col(Delivery.local_date), col(Delivery.id))
        )
    ).all()
    answers = (
        await session.exec(
            select(func.count()).select_from(Answer).where(Answer.learner_id == learner_id)
        )
    ).one()
    week = await _week(session, learner_id)
    streaks = Streaks(week.current, week.longest)
    return Progress(view(learner), list(delivered), int(answers), streaks, week.freezes)
