"""Deliveries: claim due learners as a set, record each outcome fenced, show today's again.

A claim is one short committed transaction of a handful of statements,
whatever the batch size: pick up to `batch` due learners (PostgreSQL skips
rows another process holds; SQLite's single writer serialises), read which
lessons they already have, insert or revive their deliveries in one
``INSERT ... ON CONFLICT``, and advance their `next_due_at` in one
``UPDATE``. Only after the commit does anything go to Telegram.

Recording is fenced by the claim's attempt number: ``UPDATE ... WHERE id = :id
AND state = 'sending' AND attempts = :n``. A sender that outlived its lease
finds its row taken over and records nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, text, tuple_, update
from sqlalchemy import select as sql_select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.claims import DEFAULT_LEASE, Claim, CourseEntry, DueSpan, next_entry
from scheduler.due import local_date, next_due_at, parse_daily_time
from scheduler.reflection import checkin_at
from scheduler.states import ClaimKind, DeliveryState, DueKind, FollowUpState, LearnerStatus, Step
from storage.base import retrying, view
from storage.followups import DEFAULT_AUTO_PAUSE_AFTER, FollowUpStore, with_week
from storage.models import Delivery, Learner
from storage.types import UTCDateTime
from storage.views import TodayOutcome

log = logging.getLogger(__name__)

# A lost send (expired lease) is sent again at most this often, then given up as failed.
MAX_RESENDS = 2
# The lease stamp of a released claim: long expired, so any tick takes it at once.
RELEASED_AT = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class _Due:
    """A due learner as the claim reads them: only the columns it needs."""

    id: int
    first_name: str
    language: str
    timezone: str
    daily_time: str
    next_due_at: datetime
    due_kind: str = DueKind.LESSON
    reflection_time: str | None = None
    round: int = 1  # which time through the course (/restart)


@dataclass(frozen=True)
class _Plan:
    """What one claim does for one learner: this lesson for this local day, next due then.

    With `checkin_apart` the check-in comes on its own in the evening, and
    `next_due_at` is that evening instant (the learner's due kind: `checkin`).
    """

    learner: _Due
    day: int
    entry: CourseEntry
    local_date: date
    next_due_at: datetime
    checkin_apart: bool = False


def due_filter(now: datetime, early: timedelta) -> list[Any]:
    """Who is due by `now + early`: the claim's condition, shared with the health probe."""
    return [
        col(Learner.next_due_at) <= now + early,
        Learner.status == LearnerStatus.ACTIVE,
        Learner.onboarding_step == Step.DONE,
        or_(col(Learner.paused_since).is_(None), col(Learner.paused_until) <= now),
    ]


class DeliveryStore(FollowUpStore):
    async def claim_due(
        self,
        now: datetime,
        course: Sequence[CourseEntry],
        *,
        batch: int = 100,
        lease: timedelta = DEFAULT_LEASE,
        early: timedelta = timedelta(0),
        auto_pause_after: int = DEFAULT_AUTO_PAUSE_AFTER,
    ) -> list[Claim]:
        """Reserve the deliveries of up to `batch` due learners, earliest due first.

        What is due depends on the learner's due kind: the lesson, or a
        follow-up of a lesson already sent (its evening check-in, or the
        snoozed lesson again; storage/followups.py). A learner silent for
        `auto_pause_after` lessons in a row gets one note instead, and is paused.

        `early` lets a busy minute start before the learners' chosen time, so
        lateness is spread rather than piled on the last in line; a lesson still
        counts for the local day it was due. Each learner's `next_due_at` moves
        to a later local day in the same commit, so a crash after it never makes
        anyone due again today.
        """
        async with self._sessions.begin() as session:
            claims = await self._reclaim_lost(session, now, lease, batch)
            claims += await self._reclaim_lost_followups(session, now, lease, batch - len(claims))
            room = batch - len(claims)
            if room <= 0:
                return claims
            picked = await self._pick_due(session, now, early, room)
            if not picked:
                return claims
            due = [learner for learner in picked if learner.due_kind == DueKind.LESSON]
            followups = [learner for learner in picked if learner.due_kind != DueKind.LESSON]
            claims += await self._claim_followups(session, followups, now, lease)
            if not due:
                return claims
            weeks = await self._weeks(session, due)
            quiet = [learner for learner in due if weeks[learner.id].silent >= auto_pause_after]
            claims += await self._auto_pause(session, quiet, now)
            due = [learner for learner in due if weeks[learner.id].silent < auto_pause_after]
            if not due:
                return claims
            delivered = await self._delivered(session, [learner.id for learner in due])
            plans: list[_Plan] = []
            next_due: dict[int, datetime | None] = {}
            for learner in due:
                plan = self._plan(learner, delivered[learner.id], now, course)
                next_due[learner.id] = None if plan is None else plan.next_due_at
                if plan is not None:
                    plans.append(plan)
            reserved = await self._insert_deliveries(session, plans, now)
            await self._advance(session, next_due)
            await self._set_due_kinds(
                session, [plan.learner.id for plan in plans if plan.checkin_apart]
            )
            for plan in plans:
                if plan.learner.id in reserved:
                    delivery_id, attempt = reserved[plan.learner.id]
                    claim = self._claim(plan, delivery_id, attempt)
                    claims.append(with_week(claim, weeks[plan.learner.id]))
            return claims

    async def _pick_due(
        self, session: AsyncSession, now: datetime, early: timedelta, limit: int
    ) -> list[_Due]:
        query = (
            sql_select(
                col(Learner.id),
                col(Learner.first_name),
                col(Learner.language),
                col(Learner.timezone),
                col(Learner.daily_time),
                col(Learner.next_due_at),
                col(Learner.due_kind),
                col(Learner.reflection_time),
                col(Learner.round),
            )
            .where(*due_filter(now, early))
            .order_by(col(Learner.next_due_at))
            .limit(limit)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        connection = await session.connection()
        rows = (await connection.execute(query)).all()
        return [
            _Due(learner_id, name, language, zone, daily, due, kind, reflection, round_)
            for learner_id, name, language, zone, daily, due, kind, reflection, round_ in rows
            # Always set once onboarding is done; the check is for the type checker.
            if zone is not None and daily is not None and due is not None
        ]

    async def _delivered(self, session: AsyncSession, ids: list[int]) -> dict[int, list[str]]:
        """The lessons each learner already has (sent or being sent); failed ones go again.

        Only this round's: after /restart the course starts over, history kept.
        """
        rows = (
            await session.exec(
                select(Delivery.learner_id, Delivery.lesson_id)
                .join(Learner, col(Learner.id) == Delivery.learner_id)
                .where(
                    col(Delivery.learner_id).in_(ids),
                    Delivery.state != DeliveryState.FAILED,
                    col(Delivery.round) == col(Learner.round),
                )
            )
        ).all()
        delivered: dict[int, list[str]] = defaultdict(list)
        for learner_id, lesson_id in rows:
            delivered[learner_id].append(lesson_id)
        return delivered

    @staticmethod
    def _plan(
        learner: _Due, delivered: list[str], now: datetime, course: Sequence[CourseEntry]
    ) -> _Plan | None:
        """Today's lesson for one learner, or None (course finished, or a zone we cannot use)."""
        place = next_entry(course, delivered)
        if place is None:
            return None  # the course is finished: nothing more is due
        # Claimed early (the send window), the lesson still belongs to the day it was due.
        at = max(now, learner.next_due_at)
        try:
            today = local_date(at, learner.timezone)
            due = next_due_at(
                parse_daily_time(learner.daily_time), learner.timezone, at, after_day=today
            )
            reflection = (
                None
                if learner.reflection_time is None
                else parse_daily_time(learner.reflection_time)
            )
            evening = checkin_at(at, today, reflection, learner.timezone)
        except (ValueError, LookupError) as error:
            # One broken row (a zone the server no longer knows) must not stop
            # everyone else's lessons: set it aside and say so.
            log.error("learner %s cannot be scheduled: %s", learner.id, error)
            return None
        day, entry = place
        if evening is not None:
            return _Plan(learner, day, entry, today, evening, checkin_apart=True)
        return _Plan(learner, day, entry, today, due)

    async def _insert_deliveries(
        self, session: AsyncSession, plans: list[_Plan], now: datetime
    ) -> dict[int, tuple[int, int]]:
        """Insert the planned deliveries, reviving failed ones; learner id -> (id, attempt).

        A row that exists and is not `failed` is left alone (the unique key on
        learner and lesson is the last guard against a second send).
        """
        if not plans:
            return {}
        insert = postgres_insert if self._postgres else sqlite_insert
        values = insert(Delivery).values(
            [
                {
                    "learner_id": plan.learner.id,
                    "lesson_id": plan.entry.lesson_id,
                    "round": plan.learner.round,
                    "lesson_day": plan.day,
                    "checkin_kind": plan.entry.checkin_kind,
                    "local_date": plan.local_date,
                    "state": DeliveryState.SENDING,
                    "attempts": 1,
                    "resends": 0,
                    "claimed_at": now,
                    "checkin_state": FollowUpState.PENDING if plan.checkin_apart else None,
                    "checkin_attempts": 0,
                    "snooze_attempts": 0,
                }
                for plan in plans
            ]
        )
        statement = values.on_conflict_do_update(
            index_elements=[col(Delivery.learner_id), col(Delivery.round), col(Delivery.lesson_id)],
            set_={
                "state": DeliveryState.SENDING,
                "attempts": col(Delivery.attempts) + 1,
                "resends": 0,
                "claimed_at": values.excluded.claimed_at,
                "local_date": values.excluded.local_date,
                "lesson_day": values.excluded.lesson_day,
                "failure": None,
                "checkin_state": values.excluded.checkin_state,
                "snoozed_until": None,
                "snooze_state": None,
            },
            where=col(Delivery.state) == DeliveryState.FAILED,
        ).returning(col(Delivery.learner_id), col(Delivery.id), col(Delivery.attempts))
        rows = (await session.exec(statement)).all()
        return {learner_id: (delivery_id, attempts) for learner_id, delivery_id, attempts in rows}

    async def _advance(self, session: AsyncSession, next_due: dict[int, datetime | None]) -> None:
        """Move every claimed learner's `next_due_at` on (NULL when nothing is left) at once.

        A timed pause that has run out ends here too: the claim only picks
        learners whose pause is over.
        """
        connection = await session.connection()
        if self._postgres:
            await connection.execute(
                text(
                    "UPDATE learner SET next_due_at = data.due, paused_since = NULL, "
                    "paused_until = NULL FROM unnest(CAST(:ids AS BIGINT[]), "
                    "CAST(:dues AS TIMESTAMPTZ[])) AS data(id, due) WHERE learner.id = data.id"
                ),
                {"ids": list(next_due), "dues": list(next_due.values())},
            )
            return
        # SQLite: one prepared statement run for every row, inside the one write transaction.
        await connection.execute(
            update(Learner)
            .where(col(Learner.id) == bindparam("learner"))
            .values(
                next_due_at=bindparam("due", type_=UTCDateTime()),
                paused_since=None,
                paused_until=None,
            ),
            [{"learner": learner, "due": due} for learner, due in next_due.items()],
        )

    @staticmethod
    def _claim(plan: _Plan, delivery_id: int, attempt: int) -> Claim:
        return Claim(
            delivery_id=delivery_id,
            attempt=attempt,
            learner_id=plan.learner.id,
            first_name=plan.learner.first_name,
            language=plan.learner.language,
            lesson_id=plan.entry.lesson_id,
            lesson_day=plan.day,
            local_date=plan.local_date,
            timezone=plan.learner.timezone,
            due_at=plan.learner.next_due_at,
            checkin_apart=plan.checkin_apart,
        )

    async def _reclaim_lost(
        self, session: AsyncSession, now: datetime, lease: timedelta, batch: int
    ) -> list[Claim]:
        """Deliveries stuck in `sending` past the lease: their process died, or the reply was lost.

        Each is sent once more under a new attempt number (so the old sender,
        if it is still alive, can no longer record), up to MAX_RESENDS times.
        """
        query = (
            select(Delivery, Learner)
            .join(Learner, col(Learner.id) == Delivery.learner_id)
            .where(Delivery.state == DeliveryState.SENDING, col(Delivery.claimed_at) < now - lease)
            .order_by(col(Delivery.claimed_at))
            .limit(batch)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True, of=Delivery)
        claims: list[Claim] = []
        for delivery, learner in (await session.exec(query)).all():
            if _day_passed(delivery, learner, now):
                # Lost on a day that is over (the bot was down): not sent late on top
                # of today's. Failed, it comes back as today's one lesson.
                delivery.state = DeliveryState.FAILED
                delivery.failure = "lease expired after its day"
                continue
            if delivery.resends >= MAX_RESENDS or learner.status != LearnerStatus.ACTIVE:
                delivery.state = DeliveryState.FAILED
                delivery.failure = "lease expired; given up"
                log.warning("delivery %s given up after %d resends", delivery.id, delivery.resends)
                continue
            delivery.attempts += 1
            delivery.resends += 1
            delivery.claimed_at = now
            claims.append(_stored_claim(learner, delivery, resend=True))
        return claims

    async def renew_leases(self, claims: Sequence[Claim], now: datetime) -> None:
        """Keep the lease of rows still in flight fresh, so only dead work ever expires."""
        if not claims:
            return
        keys = [(claim.delivery_id, claim.attempt) for claim in claims]
        async with self._sessions.begin() as session:
            await session.exec(_lessons_in_flight(keys).values(claimed_at=now))
            await self._renew_followups(session, claims, now)

    async def release(self, claims: Sequence[Claim]) -> None:
        """Hand back claims that were never sent (the process is stopping): due again at once.

        Their lease is expired on the spot, so the next tick of any process sends
        them today through the lease path. A lesson's resend this costs is not
        counted against MAX_RESENDS, since nothing went out; a follow-up (check-in,
        snoozed lesson) is handed back through its own state and attempt columns,
        its attempt number kept so the fence still holds. An auto-pause note has
        no row to hand back: the tick sends it even when stopping.
        """
        lessons = [(c.delivery_id, c.attempt) for c in claims if c.kind == ClaimKind.LESSON]
        followups = [c for c in claims if c.kind in (ClaimKind.CHECKIN, ClaimKind.SNOOZED)]
        if not lessons and not followups:
            return
        async with self._sessions.begin() as session:
            if lessons:
                await session.exec(
                    _lessons_in_flight(lessons).values(
                        claimed_at=RELEASED_AT, resends=col(Delivery.resends) - 1
                    )
                )
            if followups:
                # The same fenced stamp a renewal writes, long expired.
                await self._renew_followups(session, followups, RELEASED_AT)

    async def mark_sent(
        self, claim: Claim, *, now: datetime, message_id: int, course_length: int
    ) -> bool:
        """The lesson reached Telegram. False when the row was taken over (or deleted) meanwhile.

        After the course's last lesson, with nothing else still in flight or
        failed, the schedule ends at once (`next_due_at` NULL), so nothing
        promises a next lesson that will not come. Otherwise the next claim
        finds the place by lesson id and ends it there.
        """

        async def record() -> bool:
            async with self._sessions.begin() as session:
                result = await session.exec(
                    self._fenced(claim).values(
                        state=DeliveryState.SENT,
                        sent_at=now,
                        lesson_message_id=message_id,
                        checkin_message_id=message_id,
                        failure=None,
                    )
                )
                if result.rowcount != 1:
                    return False
                # The day number shown to the learner ("lesson N"), for display only.
                greatest = func.greatest if self._postgres else func.max
                await session.exec(
                    update(Learner)
                    .where(col(Learner.id) == claim.learner_id)
                    .values(next_lesson=greatest(Learner.next_lesson, claim.lesson_day + 1))
                )
                if claim.lesson_day >= course_length:
                    await self._end_if_finished(session, claim.learner_id)
                return True

        recorded = await retrying(record, what=f"recording delivery {claim.delivery_id} sent")
        if not recorded:
            log.warning(
                "delivery %s sent, but its row was taken over: not recorded", claim.delivery_id
            )
        return recorded

    async def _end_if_finished(self, session: AsyncSession, learner_id: int) -> None:
        """The last lesson went out: end the schedule unless an earlier one is still owed."""
        owed = (
            await session.exec(
                select(func.count())
                .select_from(Delivery)
                .where(
                    col(Delivery.learner_id) == learner_id,
                    col(Delivery.state) != DeliveryState.SENT,
                )
            )
        ).one()
        if owed == 0:
            await session.exec(
                update(Learner)
                .where(col(Learner.id) == learner_id, col(Learner.due_kind) == DueKind.LESSON)
                .values(next_due_at=None)
            )

    async def mark_failed(self, claim: Claim, *, reason: str, blocked: bool = False) -> bool:
        """Telegram refused the send. A blocked learner is set aside; others get it another day.

        Blocking sets aside only an active learner: one who said /stop stays
        stopped, so unblocking the bot later does not bring them back.
        """

        async def record() -> bool:
            async with self._sessions.begin() as session:
                result = await session.exec(
                    self._fenced(claim).values(state=DeliveryState.FAILED, failure=reason[:512])
                )
                if result.rowcount != 1:
                    return False
                if blocked:
                    await session.exec(
                        update(Learner)
                        .where(
                            col(Learner.id) == claim.learner_id,
                            col(Learner.status) == LearnerStatus.ACTIVE,
                        )
                        .values(status=LearnerStatus.BLOCKED, next_due_at=None)
                    )
                return True

        return await retrying(record, what=f"recording delivery {claim.delivery_id} failed")

    @staticmethod
    def _fenced(claim: Claim) -> Any:
        return (
            update(Delivery)
            .where(
                col(Delivery.id) == claim.delivery_id,
                col(Delivery.state) == DeliveryState.SENDING,
                col(Delivery.attempts) == claim.attempt,
            )
            .execution_options(synchronize_session=False)
        )

    async def oldest_due(self, now: datetime) -> datetime | None:
        """When the longest-waiting due learner was due (None when nobody is): lateness."""
        async with self._reads() as session:
            result = await session.exec(
                select(func.min(Learner.next_due_at)).where(*due_filter(now, timedelta(0)))
            )
            value = result.one()
            return value if isinstance(value, datetime) else None

    async def due_span(self, now: datetime, early: timedelta) -> DueSpan:
        """The backlog the send window spreads: learners due by `now + early`, first and last."""
        async with self._reads() as session:
            count, first, last = (
                await session.exec(
                    select(
                        func.count(),
                        func.min(col(Learner.next_due_at)),
                        func.max(col(Learner.next_due_at)),
                    ).where(*due_filter(now, early))
                )
            ).one()
            return DueSpan(int(count), _aware(first), _aware(last))

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
            if learner is None or learner.onboarding_step != Step.DONE or learner.timezone is None:
                return TodayOutcome("not_ready")
            assert learner.daily_time is not None
            today = local_date(now, learner.timezone)
            latest = await self._latest_delivery(session, learner_id)
            # `>=`: a lesson claimed early for tomorrow (the send window) or dated in
            # a zone further east also counts: one lesson per day, never two.
            if latest is not None and latest.local_date >= today:
                if latest.state == DeliveryState.SENT:
                    return TodayOutcome("again", _stored_claim(learner, latest, resend=True))
                if latest.state == DeliveryState.SENDING:
                    return TodayOutcome("sending")  # the tick is sending it right now
            due = _Due(
                learner.id,
                learner.first_name,
                learner.language,
                learner.timezone,
                learner.daily_time,
                now,
                reflection_time=learner.reflection_time,
                round=learner.round,
            )
            plan = self._plan(
                due, (await self._delivered(session, [learner.id]))[learner.id], now, course
            )
            if plan is None:
                return TodayOutcome("finished")
            if view(learner).is_paused(now):
                # Paused, nothing is due this evening: the check-in travels with the lesson
                # rather than be promised "tonight" and never come.
                plan = replace(plan, checkin_apart=False)
            reserved = await self._insert_deliveries(session, [plan], now)
            learner.next_due_at = plan.next_due_at
            learner.due_kind = DueKind.CHECKIN if plan.checkin_apart else DueKind.LESSON
            if learner.paused_since is not None:
                await self._reschedule(session, learner, now)
            if learner.id not in reserved:  # pragma: no cover - the plan skips delivered lessons
                return TodayOutcome("sending")
            delivery_id, attempt = reserved[learner.id]
            return TodayOutcome("new", self._claim(plan, delivery_id, attempt))


def _lessons_in_flight(keys: list[tuple[int, int]]) -> Any:
    """An UPDATE of the lesson rows still `sending` under exactly these (id, attempt) claims."""
    return (
        update(Delivery)
        .where(
            tuple_(col(Delivery.id), col(Delivery.attempts)).in_(keys),
            col(Delivery.state) == DeliveryState.SENDING,
        )
        .execution_options(synchronize_session=False)
    )


def _aware(value: object) -> datetime | None:
    """An aggregate's instant as aware UTC (SQLite's min/max lose the column type)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _day_passed(delivery: Delivery, learner: Learner, now: datetime) -> bool:
    """Whether the local day a delivery was for is over for its learner."""
    if learner.timezone is None:
        return False
    try:
        return delivery.local_date < local_date(now, learner.timezone)
    except (ValueError, LookupError):
        return False


def _stored_claim(learner: Learner, delivery: Delivery, *, resend: bool = False) -> Claim:
    """A claim for a delivery already in the table (a lease resend, or /today again)."""
    assert delivery.id is not None
    return Claim(
        delivery_id=delivery.id,
        attempt=delivery.attempts,
        learner_id=learner.id,
        first_name=learner.first_name,
        language=learner.language,
        lesson_id=delivery.lesson_id,
        lesson_day=delivery.lesson_day,
        local_date=delivery.local_date,
        timezone=learner.timezone,
        resend=resend,
        # Still to be asked on its own: the lesson carries "later" instead of the check-in.
        checkin_apart=delivery.checkin_state in (FollowUpState.PENDING, FollowUpState.SENDING),
    )
