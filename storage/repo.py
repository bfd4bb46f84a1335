"""The repository: every read and write of Bridges' data, each one short transaction.

Handlers and the tick call these functions and get plain dataclasses back; no
session, query or ORM object leaves this module. Times are aware UTC instants
passed in by the caller (the injected clock), never read here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.due import local_date, next_due_at, parse_daily_time
from scheduler.streak import LessonDay, Streaks, compute_streaks
from storage.models import (
    STATE_FAILED,
    STATE_SENDING,
    STATE_SENT,
    STATUS_ACTIVE,
    STATUS_BLOCKED,
    STATUS_STOPPED,
    STEP_DONE,
    STEP_LANGUAGE,
    STEP_TIME,
    STEP_TIMEZONE,
    Answer,
    Delivery,
    Learner,
)

log = logging.getLogger(__name__)

# A `sending` row older than this belongs to a process that died mid-send.
DEFAULT_LEASE = timedelta(minutes=5)
# How often a lost send is tried again before it is given up as failed.
MAX_ATTEMPTS = 2
# Answers are kept whole up to this many characters; Telegram's own limit is 4096.
MAX_ANSWER_LENGTH = 4096


@dataclass(frozen=True)
class CourseEntry:
    """What storage needs to know of a lesson: its id and its check-in kind."""

    lesson_id: str
    checkin_kind: str


@dataclass(frozen=True)
class LearnerView:
    id: int
    first_name: str
    language: str
    timezone: str | None
    daily_time: str | None
    onboarding_step: str
    status: str
    next_lesson: int
    next_due_at: datetime | None
    paused_since: datetime | None
    paused_until: datetime | None

    def is_paused(self, now: datetime) -> bool:
        return self.paused_since is not None and (
            self.paused_until is None or now < self.paused_until
        )


@dataclass(frozen=True)
class Claim:
    """A reserved delivery: send this lesson to this learner, then mark it."""

    delivery_id: int
    learner_id: int
    first_name: str
    language: str
    lesson_id: str
    lesson_day: int
    local_date: date
    resend: bool = False  # a lost send (expired lease) or /today asking again


@dataclass(frozen=True)
class TodayOutcome:
    """/today's outcome: `new` and `again` carry a claim; `sending`, `not_ready`, `finished` not."""

    kind: str
    claim: Claim | None = None


@dataclass(frozen=True)
class AnswerOutcome:
    """`recorded`, `already` (answered before), `closed` (a newer lesson came), `unknown`."""

    status: str
    lesson_id: str | None = None
    streaks: Streaks = field(default_factory=lambda: Streaks(0, 0))


@dataclass(frozen=True)
class Progress:
    learner: LearnerView
    delivered: list[str]
    answers: int
    streaks: Streaks


def _view(learner: Learner) -> LearnerView:
    return LearnerView(
        id=learner.id,
        first_name=learner.first_name,
        language=learner.language,
        timezone=learner.timezone,
        daily_time=learner.daily_time,
        onboarding_step=learner.onboarding_step,
        status=learner.status,
        next_lesson=learner.next_lesson,
        next_due_at=learner.next_due_at,
        paused_since=learner.paused_since,
        paused_until=learner.paused_until,
    )


def _claim(learner: Learner, delivery: Delivery, *, resend: bool = False) -> Claim:
    assert delivery.id is not None
    return Claim(
        delivery_id=delivery.id,
        learner_id=learner.id,
        first_name=learner.first_name,
        language=learner.language,
        lesson_id=delivery.lesson_id,
        lesson_day=delivery.lesson_day,
        local_date=delivery.local_date,
        resend=resend,
    )


class Repo:
    """Bridges' storage, built on one engine; safe to share across tasks."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        self._for_update = engine.dialect.name == "postgresql"

    # -- learners and their settings ---------------------------------------------------------

    async def get_learner(self, learner_id: int) -> LearnerView | None:
        async with self._sessions() as session:
            learner = await session.get(Learner, learner_id)
            return None if learner is None else _view(learner)

    async def _lock(self, session: AsyncSession, learner_id: int) -> Learner | None:
        """The learner row, locked for this transaction on PostgreSQL.

        A settings change computes `next_due_at` from the newest delivery; the
        lock makes it wait for a tick that is claiming this learner, so the two
        never both schedule today. (SQLite's BEGIN IMMEDIATE already serialises.)
        """
        query = select(Learner).where(Learner.id == learner_id)
        if self._for_update:
            query = query.with_for_update()
        return (await session.exec(query)).first()

    async def start_learner(
        self, learner_id: int, *, first_name: str, language: str, now: datetime
    ) -> tuple[LearnerView, bool]:
        """Enrol a new learner, or bring back one who stopped or blocked the bot.

        Returns the learner and whether they are new. A returning learner keeps
        their settings, answers and place in the course.
        """
        async with self._sessions.begin() as session:
            learner = await self._lock(session, learner_id)
            if learner is None:
                learner = Learner(
                    id=learner_id,
                    first_name=first_name,
                    language=language,
                    onboarding_step=STEP_LANGUAGE,
                    status=STATUS_ACTIVE,
                    created_at=now,
                )
                session.add(learner)
                await session.flush()
                return _view(learner), True
            learner.first_name = first_name
            if learner.status != STATUS_ACTIVE:
                learner.status = STATUS_ACTIVE
                await self._reschedule(session, learner, now)
            return _view(learner), False

    async def set_language(self, learner_id: int, language: str) -> LearnerView | None:
        async with self._sessions.begin() as session:
            learner = await self._lock(session, learner_id)
            if learner is None:
                return None
            learner.language = language
            if learner.onboarding_step == STEP_LANGUAGE:
                learner.onboarding_step = _next_step(learner)
            return _view(learner)

    async def set_timezone(self, learner_id: int, zone: str, now: datetime) -> LearnerView | None:
        """Store a validated IANA zone; the next lesson moves to the new local time."""
        async with self._sessions.begin() as session:
            learner = await self._lock(session, learner_id)
            if learner is None:
                return None
            learner.timezone = zone
            await self._after_setting(session, learner, now)
            return _view(learner)

    async def set_daily_time(
        self, learner_id: int, daily_time: str, now: datetime
    ) -> LearnerView | None:
        """Store the learner's daily time (``HH:MM``); today's lesson is never sent twice."""
        async with self._sessions.begin() as session:
            learner = await self._lock(session, learner_id)
            if learner is None:
                return None
            learner.daily_time = daily_time
            await self._after_setting(session, learner, now)
            return _view(learner)

    async def _after_setting(self, session: AsyncSession, learner: Learner, now: datetime) -> None:
        if learner.onboarding_step != STEP_LANGUAGE:
            learner.onboarding_step = _next_step(learner)
        await self._reschedule(session, learner, now)

    async def _reschedule(self, session: AsyncSession, learner: Learner, now: datetime) -> None:
        """Set `next_due_at` from the learner's settings, pause and newest delivery.

        NULL means "nothing to send": onboarding unfinished, stopped, blocked,
        paused without an end date, or the course finished.
        """
        if (
            learner.onboarding_step != STEP_DONE
            or learner.status != STATUS_ACTIVE
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
        last_day = await self._last_delivery_day(session, learner.id)
        learner.next_due_at = next_due_at(
            parse_daily_time(learner.daily_time), learner.timezone, start, after_day=last_day
        )

    async def _last_delivery_day(self, session: AsyncSession, learner_id: int) -> date | None:
        result = await session.exec(
            select(func.max(Delivery.local_date)).where(
                Delivery.learner_id == learner_id, Delivery.state != STATE_FAILED
            )
        )
        value = result.one()
        return value if isinstance(value, date) else None

    # -- pause, stop, delete -----------------------------------------------------------------

    async def pause(
        self, learner_id: int, now: datetime, days: int | None = None
    ) -> LearnerView | None:
        """Pause nudges; with `days`, they resume by themselves after that many days."""
        async with self._sessions.begin() as session:
            learner = await self._lock(session, learner_id)
            if learner is None:
                return None
            learner.paused_since = now
            learner.paused_until = None if days is None else now + timedelta(days=days)
            await self._reschedule(session, learner, now)
            return _view(learner)

    async def resume(self, learner_id: int, now: datetime) -> tuple[LearnerView | None, bool]:
        """End a pause. Returns the learner and whether they were paused at all."""
        async with self._sessions.begin() as session:
            learner = await self._lock(session, learner_id)
            if learner is None:
                return None, False
            was_paused = _view(learner).is_paused(now)
            learner.paused_since = None
            learner.paused_until = None
            await self._reschedule(session, learner, now)
            return _view(learner), was_paused

    async def stop(self, learner_id: int) -> LearnerView | None:
        """No more nudges; everything is kept so /start brings the learner back."""
        async with self._sessions.begin() as session:
            learner = await self._lock(session, learner_id)
            if learner is None:
                return None
            learner.status = STATUS_STOPPED
            learner.next_due_at = None
            return _view(learner)

    async def mark_blocked(self, learner_id: int) -> LearnerView | None:
        """Telegram said the learner blocked the bot: skip them until they come back.

        A learner who had already stopped stays stopped: only /start brings them back.
        """
        async with self._sessions.begin() as session:
            learner = await self._lock(session, learner_id)
            if learner is None:
                return None
            if learner.status == STATUS_ACTIVE:
                learner.status = STATUS_BLOCKED
                learner.next_due_at = None
            return _view(learner)

    async def mark_unblocked(self, learner_id: int, now: datetime) -> LearnerView | None:
        """The learner unblocked the bot: lessons resume if blocking was what stopped them."""
        async with self._sessions.begin() as session:
            learner = await self._lock(session, learner_id)
            if learner is None:
                return None
            if learner.status == STATUS_BLOCKED:
                learner.status = STATUS_ACTIVE
                await self._reschedule(session, learner, now)
            return _view(learner)

    async def delete_learner(self, learner_id: int) -> bool:
        """Erase every row about the learner. Returns whether there was anything to erase."""
        async with self._sessions.begin() as session:
            await session.exec(delete(Answer).where(col(Answer.learner_id) == learner_id))
            await session.exec(delete(Delivery).where(col(Delivery.learner_id) == learner_id))
            result = await session.exec(delete(Learner).where(col(Learner.id) == learner_id))
            return bool(result.rowcount)

    # -- deliveries --------------------------------------------------------------------------

    async def claim_due(
        self,
        now: datetime,
        course: Sequence[CourseEntry],
        *,
        batch: int = 100,
        lease: timedelta = DEFAULT_LEASE,
    ) -> list[Claim]:
        """Reserve the deliveries of up to `batch` due learners, in one short transaction.

        Each claimed learner gets a `sending` delivery row (unique per learner
        and lesson, so no lesson goes out twice) and a `next_due_at` on a later
        local day, so a crash after this commit never makes anyone due again
        today. PostgreSQL skips rows another process has locked; SQLite holds
        its single write lock for the whole transaction.
        """
        async with self._sessions.begin() as session:
            claims = await self._reclaim_lost(session, now, lease, batch)
            query = (
                select(Learner)
                .where(
                    col(Learner.next_due_at) <= now,
                    Learner.status == STATUS_ACTIVE,
                    Learner.onboarding_step == STEP_DONE,
                    or_(
                        col(Learner.paused_since).is_(None),
                        col(Learner.paused_until) <= now,
                    ),
                )
                .order_by(col(Learner.next_due_at))
                .limit(max(batch - len(claims), 0))
            )
            if self._for_update:
                query = query.with_for_update(skip_locked=True)
            learners = (await session.exec(query)).all()
            for learner in learners:
                if learner.paused_since is not None:
                    learner.paused_since = None  # a timed pause that has run out
                    learner.paused_until = None
                try:
                    async with session.begin_nested():
                        claim = await self._reserve(session, learner, now, course)
                except (ValueError, LookupError) as error:
                    # One broken row (a zone the server no longer knows) must not
                    # stop everyone else's lessons: set it aside and say so.
                    log.error("learner %s cannot be scheduled: %s", learner.id, error)
                    learner.next_due_at = None
                    continue
                if claim is not None:
                    claims.append(claim)
            return claims

    async def _reclaim_lost(
        self, session: AsyncSession, now: datetime, lease: timedelta, batch: int
    ) -> list[Claim]:
        """Deliveries stuck in `sending` past the lease: their process died. Send once more."""
        query = (
            select(Delivery, Learner)
            .join(Learner, col(Learner.id) == Delivery.learner_id)
            .where(Delivery.state == STATE_SENDING, col(Delivery.claimed_at) < now - lease)
            .order_by(col(Delivery.claimed_at))
            .limit(batch)
        )
        if self._for_update:
            query = query.with_for_update(skip_locked=True, of=Delivery)
        claims: list[Claim] = []
        for delivery, learner in (await session.exec(query)).all():
            if delivery.attempts >= MAX_ATTEMPTS or learner.status != STATUS_ACTIVE:
                delivery.state = STATE_FAILED
                delivery.failure = "lease expired; given up"
                continue
            delivery.attempts += 1
            delivery.claimed_at = now
            claims.append(_claim(learner, delivery, resend=True))
        return claims

    async def _reserve(
        self, session: AsyncSession, learner: Learner, now: datetime, course: Sequence[CourseEntry]
    ) -> Claim | None:
        """Reserve the learner's next lesson as today's delivery, and schedule the one after."""
        assert learner.timezone is not None and learner.daily_time is not None
        today = local_date(now, learner.timezone)
        if learner.next_lesson > len(course):
            learner.next_due_at = None  # the course is finished
            return None
        entry = course[learner.next_lesson - 1]
        learner.next_due_at = next_due_at(
            parse_daily_time(learner.daily_time), learner.timezone, now, after_day=today
        )
        existing = (
            await session.exec(
                select(Delivery).where(
                    Delivery.learner_id == learner.id, Delivery.lesson_id == entry.lesson_id
                )
            )
        ).first()
        if existing is not None:
            if existing.state != STATE_FAILED:
                return None  # already sent or being sent: never twice
            existing.state = STATE_SENDING
            existing.local_date = today
            existing.claimed_at = now
            existing.attempts = 1
            existing.failure = None
            delivery = existing
        else:
            delivery = Delivery(
                learner_id=learner.id,
                lesson_id=entry.lesson_id,
                lesson_day=learner.next_lesson,
                checkin_kind=entry.checkin_kind,
                local_date=today,
                state=STATE_SENDING,
                claimed_at=now,
            )
            session.add(delivery)
        await session.flush()
        return _claim(learner, delivery)

    async def deliver_today(
        self, learner_id: int, now: datetime, course: Sequence[CourseEntry]
    ) -> TodayOutcome:
        """/today and the end of onboarding: today's lesson now, counted once.

        If today's lesson already went out, the same delivery is returned to be
        shown again; otherwise the next lesson is reserved as today's, and the
        following one is due tomorrow at the learner's time.
        """
        async with self._sessions.begin() as session:
            learner = await self._lock(session, learner_id)
            if learner is None or learner.onboarding_step != STEP_DONE or learner.timezone is None:
                return TodayOutcome("not_ready")
            today = local_date(now, learner.timezone)
            latest = await self._latest_delivery(session, learner_id)
            if latest is not None and latest.local_date == today:
                if latest.state == STATE_SENT:
                    return TodayOutcome("again", _claim(learner, latest, resend=True))
                if latest.state == STATE_SENDING:
                    return TodayOutcome("sending")  # the tick is sending it right now
            if learner.next_lesson > len(course):
                return TodayOutcome("finished")
            claim = await self._reserve(session, learner, now, course)
            if claim is None:  # pragma: no cover - next_lesson always points past sent ones
                return TodayOutcome("finished")
            if learner.paused_since is not None:
                await self._reschedule(session, learner, now)
            return TodayOutcome("new", claim)

    async def _latest_delivery(
        self, session: AsyncSession, learner_id: int, *, sent_only: bool = False
    ) -> Delivery | None:
        """The newest delivery; with `sent_only`, the newest that reached the learner.

        A check-in stays open until the next lesson *arrives*, so answers look
        only at sent deliveries: a failed or still-sending one closes nothing.
        """
        query = select(Delivery).where(Delivery.learner_id == learner_id)
        if sent_only:
            query = query.where(Delivery.state == STATE_SENT)
        result = await session.exec(query.order_by(col(Delivery.lesson_day).desc()).limit(1))
        return result.first()

    async def mark_sent(
        self,
        delivery_id: int,
        *,
        now: datetime,
        lesson_message_id: int,
        checkin_message_id: int | None,
        course_length: int,
    ) -> None:
        """The lesson reached Telegram: the learner's course moves on."""
        async with self._sessions.begin() as session:
            delivery = await session.get(Delivery, delivery_id)
            if delivery is None:
                return  # the learner deleted themselves mid-send
            delivery.state = STATE_SENT
            delivery.sent_at = now
            delivery.lesson_message_id = lesson_message_id
            delivery.checkin_message_id = checkin_message_id
            delivery.failure = None
            learner = await session.get(Learner, delivery.learner_id)
            if learner is not None:
                learner.next_lesson = max(learner.next_lesson, delivery.lesson_day + 1)
                if learner.next_lesson > course_length:
                    learner.next_due_at = None

    async def mark_failed(self, delivery_id: int, *, reason: str, blocked: bool = False) -> None:
        """The send failed. A blocked learner is set aside; others get the lesson on a later day."""
        async with self._sessions.begin() as session:
            delivery = await session.get(Delivery, delivery_id)
            if delivery is None:
                return
            delivery.state = STATE_FAILED
            delivery.failure = reason[:512]
            if blocked:
                learner = await session.get(Learner, delivery.learner_id)
                if learner is not None:
                    learner.status = STATUS_BLOCKED
                    learner.next_due_at = None

    async def recalled_answer(self, learner_id: int, lesson_id: str) -> str | None:
        """The learner's own answer to an earlier lesson, for lessons that look back."""
        async with self._sessions() as session:
            result = await session.exec(
                select(Answer.value)
                .join(Delivery, col(Delivery.id) == Answer.delivery_id)
                .where(Delivery.learner_id == learner_id, Delivery.lesson_id == lesson_id)
            )
            return result.first()

    # -- answers -----------------------------------------------------------------------------

    async def record_answer(
        self,
        learner_id: int,
        delivery_id: int,
        value: str,
        now: datetime,
        *,
        accepts: Callable[[str, str], bool],
    ) -> AnswerOutcome:
        """Record a button answer to one check-in, at most once, while it is open.

        `accepts(lesson_id, value)` says whether the value is one of that
        check-in's own choices; forged or stale data changes nothing.
        """
        async with self._sessions.begin() as session:
            delivery = await session.get(Delivery, delivery_id)
            if delivery is None or delivery.learner_id != learner_id:
                return AnswerOutcome("unknown")
            if not accepts(delivery.lesson_id, value):
                return AnswerOutcome("unknown", delivery.lesson_id)
            return await self._record(session, delivery, value, now)

    async def record_text_answer(self, learner_id: int, text: str, now: datetime) -> AnswerOutcome:
        """Free text answers the newest check-in if it asks for text and is still open."""
        async with self._sessions.begin() as session:
            latest = await self._latest_delivery(session, learner_id, sent_only=True)
            if latest is None or latest.checkin_kind != "text":
                return AnswerOutcome("closed")
            return await self._record(session, latest, text[:MAX_ANSWER_LENGTH], now)

    async def _record(
        self, session: AsyncSession, delivery: Delivery, value: str, now: datetime
    ) -> AnswerOutcome:
        assert delivery.id is not None
        answered = await session.exec(select(Answer.id).where(Answer.delivery_id == delivery.id))
        if answered.first() is not None:
            return AnswerOutcome("already", delivery.lesson_id)
        latest = await self._latest_delivery(session, delivery.learner_id, sent_only=True)
        if latest is None or latest.id != delivery.id:
            return AnswerOutcome("closed", delivery.lesson_id)
        try:
            async with session.begin_nested():
                session.add(
                    Answer(
                        delivery_id=delivery.id,
                        learner_id=delivery.learner_id,
                        value=value,
                        answered_at=now,
                    )
                )
        except IntegrityError:  # a double tap raced us to the unique constraint
            return AnswerOutcome("already", delivery.lesson_id)
        streaks = await self._streaks(session, delivery.learner_id)
        return AnswerOutcome("recorded", delivery.lesson_id, streaks)

    async def _streaks(self, session: AsyncSession, learner_id: int) -> Streaks:
        rows = (
            await session.exec(
                select(col(Delivery.id), col(Delivery.local_date), col(Answer.id))
                .outerjoin(Answer, col(Answer.delivery_id) == Delivery.id)
                .where(Delivery.learner_id == learner_id, Delivery.state != STATE_FAILED)
                .order_by(col(Delivery.lesson_day))
            )
        ).all()
        days = [
            LessonDay(day=day, answered=answer_id is not None, open=index == len(rows) - 1)
            for index, (_, day, answer_id) in enumerate(rows)
        ]
        return compute_streaks(days)

    async def progress(self, learner_id: int) -> Progress | None:
        """Everything /progress shows, read in one transaction."""
        async with self._sessions() as session:
            learner = await self._lock(session, learner_id)
            if learner is None:
                return None
            delivered = (
                await session.exec(
                    select(Delivery.lesson_id)
                    .where(Delivery.learner_id == learner_id, Delivery.state == STATE_SENT)
                    .order_by(col(Delivery.lesson_day))
                )
            ).all()
            answers = (
                await session.exec(
                    select(func.count()).select_from(Answer).where(Answer.learner_id == learner_id)
                )
            ).one()
            streaks = await self._streaks(session, learner_id)
            return Progress(_view(learner), list(delivered), int(answers), streaks)

    async def count_learners(self) -> int:
        async with self._sessions() as session:
            return int((await session.exec(select(func.count()).select_from(Learner))).one())


def _next_step(learner: Learner) -> str:
    """The first setting still missing after the language, or `done`."""
    if learner.timezone is None:
        return STEP_TIMEZONE
    if learner.daily_time is None:
        return STEP_TIME
    return STEP_DONE
