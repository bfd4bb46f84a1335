"""Follow-ups of a sent lesson: its evening check-in, a snoozed resend, and auto-pause.

A learner row keeps one `next_due_at` and a `due_kind` that says what is due
then (scheduler.states.DueKind), so the claim stays one indexed range scan
whatever is due. A follow-up belongs to the learner's newest delivery and is
reserved, sent and recorded like the lesson itself: the claim moves its state
column `pending` -> `sending` and takes a new attempt number in the same short
transaction that advances `next_due_at`; the record is fenced on (id, state
`sending`, attempts); a `sending` follow-up past its lease is sent once more.

Freezes and silence are pure rules over lesson days (scheduler/freeze.py);
they are read here, set-based, for every learner a claim picks.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, tuple_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.claims import DEFAULT_LEASE, Claim
from scheduler.due import local_date, next_due_at, occurrence_on, parse_daily_time
from scheduler.freeze import AUTO_PAUSE_AFTER, apply_freezes
from scheduler.reflection import snooze_until
from scheduler.states import ClaimKind, DeliveryState, DueKind, FollowUpState
from scheduler.streak import LessonDay
from storage.base import RepoBase, retrying, view
from storage.models import Answer, Delivery, Learner
from storage.owed import evening_of as _evening
from storage.owed import newest_deliveries, on_its_day
from storage.views import LearnerView, SnoozeOutcome

log = logging.getLogger(__name__)

DEFAULT_AUTO_PAUSE_AFTER = AUTO_PAUSE_AFTER
# An evening check-in more than this late (its lesson day is over) is not asked any more.
STALE_CHECKIN = timedelta(hours=6)
# A lost follow-up (expired lease) is sent again at most this often.
MAX_FOLLOWUP_RESENDS = 2


@dataclass(frozen=True)
class LearnerWeek:
    """What a claim needs of a learner's history: silence since they were last back, and
    whether the newest lesson day (closed by the lesson now going out) used a freeze."""

    silent: int = 0
    freeze_used: bool = False
    streak: int = 0


def with_week(claim: Claim, week: LearnerWeek) -> Claim:
    if not week.freeze_used:
        return claim
    return replace(claim, freeze_used=True, streak=week.streak)


class FollowUpStore(RepoBase):
    async def _weeks(self, session: AsyncSession, due: Sequence[Any]) -> dict[int, LearnerWeek]:
        """Each due learner's freezes and silence, from two queries for the whole batch.

        Every delivered day counts as closed: the lesson now being claimed closes it.
        """
        ids = [learner.id for learner in due]
        rows = (
            await session.exec(
                select(
                    col(Delivery.learner_id),
                    col(Delivery.local_date),
                    col(Delivery.claimed_at),
                    col(Answer.id),
                )
                .outerjoin(Answer, col(Answer.delivery_id) == Delivery.id)
                .where(col(Delivery.learner_id).in_(ids), Delivery.state != DeliveryState.FAILED)
            )
        ).all()
        back = dict(
            (
                await session.exec(
                    select(col(Learner.id), col(Learner.auto_paused_at)).where(
                        col(Learner.id).in_(ids)
                    )
                )
            ).all()
        )
        days: dict[int, list[LessonDay]] = defaultdict(list)
        recent: dict[int, list[LessonDay]] = defaultdict(list)
        for learner_id, day, claimed_at, answer_id in rows:
            entry = LessonDay(day, answer_id is not None)
            days[learner_id].append(entry)
            since = back.get(learner_id)
            if since is None or claimed_at > since:
                recent[learner_id].append(entry)
        weeks: dict[int, LearnerWeek] = {}
        for learner_id in ids:
            history = days[learner_id]
            week = apply_freezes(history)
            newest = max((entry.day for entry in history), default=None)
            weeks[learner_id] = LearnerWeek(
                silent=apply_freezes(recent[learner_id]).silent,
                freeze_used=newest is not None and newest in week.frozen,
                streak=week.current,
            )
        return weeks

    async def _auto_pause(
        self, session: AsyncSession, quiet: Sequence[Any], now: datetime
    ) -> list[Claim]:
        """Pause learners who went quiet and hand back the one note each of them gets.

        The pause is committed with the claim, so the note goes out at most
        once: a paused learner is never picked again until they come back.
        """
        if not quiet:
            return []
        await session.exec(
            update(Learner)
            .where(col(Learner.id).in_([learner.id for learner in quiet]))
            .values(
                paused_since=now,
                paused_until=None,
                auto_paused_at=now,
                next_due_at=None,
                due_kind=DueKind.LESSON,
            )
            .execution_options(synchronize_session=False)
        )
        for learner in quiet:
            log.info("learner %s paused after silence", learner.id)
        return [
            Claim(
                delivery_id=0,
                attempt=0,
                learner_id=learner.id,
                first_name=learner.first_name,
                language=learner.language,
                lesson_id="",
                lesson_day=0,
                local_date=local_date(now, learner.timezone),
                timezone=learner.timezone,
                kind=ClaimKind.PAUSE_NOTE,
            )
            for learner in quiet
        ]

    async def _set_due_kinds(self, session: AsyncSession, evening: list[int]) -> None:
        """Learners whose lesson was just claimed with its check-in apart: the evening is next."""
        if evening:
            await session.exec(
                update(Learner)
                .where(col(Learner.id).in_(evening))
                .values(due_kind=DueKind.CHECKIN)
                .execution_options(synchronize_session=False)
            )

    async def _last_days(self, session: AsyncSession, ids: list[int]) -> dict[int, date]:
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

    async def _claim_followups(
        self,
        session: AsyncSession,
        picked: Sequence[Any],
        now: datetime,
        lease: timedelta = DEFAULT_LEASE,
    ) -> list[Claim]:
        """Reserve the evening check-ins and snoozed resends of learners due for one.

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
        last_days = await self._last_days(session, ids)
        claims: list[Claim] = []
        for learner_id in ids:
            learner = learners[learner_id]
            delivery = newest.get(learner_id)
            if delivery is not None and _awaits_its_lesson(learner, delivery):
                learner.next_due_at = now + lease  # still `checkin`: asked once the lesson lands
                continue
            claim = None
            if delivery is not None and delivery.state == DeliveryState.SENT:
                claim = self._reserve_followup(learner, delivery, now)
            if claim is not None:
                claims.append(claim)
            self._next_after_followup(learner, delivery, last_days.get(learner_id), now)
        return claims

    @staticmethod
    def _reserve_followup(learner: Learner, delivery: Delivery, now: datetime) -> Claim | None:
        if learner.due_kind == DueKind.SNOOZED and delivery.snooze_state == FollowUpState.PENDING:
            if not on_its_day(learner, delivery, now):
                # The bot was down past midnight: a snooze never carries a lesson into
                # the next day, where it would stand in for that day's own lesson.
                delivery.snooze_state = FollowUpState.FAILED
                log.info("delivery %s: snoozed resend dropped, its day is over", delivery.id)
                return None
            delivery.snooze_state = FollowUpState.SENDING
            delivery.snooze_attempts += 1
            delivery.followup_claimed_at = now
            apart = (
                delivery.checkin_state == FollowUpState.PENDING
                and _evening(learner, delivery, now) is not None
            )
            return _followup_claim(learner, delivery, ClaimKind.SNOOZED, apart=apart)
        if (
            learner.due_kind == DueKind.CHECKIN
            and delivery.checkin_state == FollowUpState.PENDING
            and _still_owed(learner, delivery, now)
        ):
            delivery.checkin_state = FollowUpState.SENDING
            delivery.checkin_attempts += 1
            delivery.followup_claimed_at = now
            return _followup_claim(learner, delivery, ClaimKind.CHECKIN)
        return None

    @staticmethod
    def _next_after_followup(
        learner: Learner, delivery: Delivery | None, last_day: date | None, now: datetime
    ) -> None:
        """After a snoozed lesson the evening check-in may still be owed; else the next lesson.

        If the follow-up was due on an earlier day (the bot was down over the
        evening and this morning), today's lesson time has passed already and
        today has no lesson yet: it is due at once, not tomorrow.
        """
        evening = None
        if (
            delivery is not None
            and learner.due_kind == DueKind.SNOOZED
            and on_its_day(learner, delivery, now)
        ):
            evening = _evening(learner, delivery, now)
        if evening is not None:
            learner.next_due_at, learner.due_kind = evening, DueKind.CHECKIN
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

    async def _reclaim_lost_followups(
        self, session: AsyncSession, now: datetime, lease: timedelta, room: int
    ) -> list[Claim]:
        """Follow-ups stuck in `sending` past the lease are sent once more, a few times at most."""
        if room <= 0:
            return []
        sending = (col(Delivery.checkin_state) == FollowUpState.SENDING) | (
            col(Delivery.snooze_state) == FollowUpState.SENDING
        )
        query = (
            select(Delivery, Learner)
            .join(Learner, col(Learner.id) == Delivery.learner_id)
            .where(sending, col(Delivery.followup_claimed_at) < now - lease)
            .order_by(col(Delivery.followup_claimed_at))
            .limit(room)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True, of=Delivery)
        claims: list[Claim] = []
        for delivery, learner in (await session.exec(query)).all():
            snoozed = delivery.snooze_state == FollowUpState.SENDING
            attempts = delivery.snooze_attempts if snoozed else delivery.checkin_attempts
            if attempts > MAX_FOLLOWUP_RESENDS:
                if snoozed:
                    delivery.snooze_state = FollowUpState.FAILED
                else:
                    delivery.checkin_state = FollowUpState.FAILED
                log.warning("delivery %s: follow-up given up after %d tries", delivery.id, attempts)
                continue
            delivery.followup_claimed_at = now
            if snoozed:
                delivery.snooze_attempts += 1
                apart = delivery.checkin_state == FollowUpState.PENDING
                claims.append(
                    _followup_claim(learner, delivery, ClaimKind.SNOOZED, apart=apart, resend=True)
                )
            else:
                delivery.checkin_attempts += 1
                claims.append(_followup_claim(learner, delivery, ClaimKind.CHECKIN, resend=True))
            log.warning("resending follow-up of delivery %s after an expired lease", delivery.id)
        return claims

    async def _renew_followups(
        self, session: AsyncSession, claims: Sequence[Claim], now: datetime
    ) -> None:
        """Stamp the lease of follow-ups still `sending` under these claims (fenced by attempt)."""
        for kind, state, attempts in (
            (ClaimKind.CHECKIN, Delivery.checkin_state, Delivery.checkin_attempts),
            (ClaimKind.SNOOZED, Delivery.snooze_state, Delivery.snooze_attempts),
        ):
            keys = [(claim.delivery_id, claim.attempt) for claim in claims if claim.kind == kind]
            if keys:
                await session.exec(
                    update(Delivery)
                    .where(
                        tuple_(col(Delivery.id), col(attempts)).in_(keys),
                        col(state) == FollowUpState.SENDING,
                    )
                    .values(followup_claimed_at=now)
                    .execution_options(synchronize_session=False)
                )

    async def mark_followup(
        self, claim: Claim, *, now: datetime, message_id: int | None, failure: str = ""
    ) -> bool:
        """Record a follow-up's outcome, fenced: `sent` with a message id, else `failed`.

        A snoozed lesson sent without its check-in apart carried the check-in
        buttons, so the owed evening check-in counts as sent with it.
        """
        if claim.kind == ClaimKind.PAUSE_NOTE:
            return True  # the pause itself was committed with the claim
        snoozed = claim.kind == ClaimKind.SNOOZED
        state = Delivery.snooze_state if snoozed else Delivery.checkin_state
        attempts = Delivery.snooze_attempts if snoozed else Delivery.checkin_attempts
        outcome = FollowUpState.SENT if message_id is not None else FollowUpState.FAILED
        values: dict[str, Any] = {"snooze_state" if snoozed else "checkin_state": outcome}
        if message_id is not None and not snoozed:
            values["checkin_message_id"] = message_id

        async def record() -> bool:
            async with self._sessions.begin() as session:
                result = await session.exec(
                    update(Delivery)
                    .where(
                        col(Delivery.id) == claim.delivery_id,
                        col(state) == FollowUpState.SENDING,
                        col(attempts) == claim.attempt,
                    )
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount != 1:
                    return False
                if snoozed and message_id is not None and not claim.checkin_apart:
                    await session.exec(
                        update(Delivery)
                        .where(
                            col(Delivery.id) == claim.delivery_id,
                            col(Delivery.checkin_state) == FollowUpState.PENDING,
                        )
                        .values(checkin_state=FollowUpState.SENT, checkin_message_id=message_id)
                        .execution_options(synchronize_session=False)
                    )
                return True

        recorded = await retrying(record, what=f"recording follow-up of {claim.delivery_id}")
        if failure:
            log.warning("follow-up of delivery %s failed: %s", claim.delivery_id, failure)
        return recorded

    async def snooze(
        self, learner_id: int, delivery_id: int, choice: str, now: datetime
    ) -> SnoozeOutcome:
        """ "Later" on a lesson: it comes again once, at the chosen time, still for its own day.

        Only today's newest lesson can be snoozed, once; the claim then finds
        the learner due (kind `snoozed`) at that instant.
        """
        async with self._sessions.begin() as session:
            learner = await self._lock(session, learner_id)
            if learner is None or learner.timezone is None:
                return SnoozeOutcome("unknown")
            latest = await self._latest_delivery(session, learner_id, sent_only=True)
            if latest is None or latest.id != delivery_id:
                return SnoozeOutcome("closed")
            if latest.snoozed_until is not None:
                return SnoozeOutcome("already")
            if view(learner).is_paused(now) or latest.local_date != local_date(
                now, learner.timezone
            ):
                return SnoozeOutcome("closed")
            reflection = (
                None
                if learner.reflection_time is None
                else parse_daily_time(learner.reflection_time)
            )
            until = snooze_until(choice, now, reflection, learner.timezone)
            if until is None or (
                learner.next_due_at is not None
                and until > learner.next_due_at
                and learner.due_kind == DueKind.LESSON
            ):
                return SnoozeOutcome("too_late")
            latest.snoozed_until = until
            latest.snooze_state = FollowUpState.PENDING
            learner.next_due_at, learner.due_kind = until, DueKind.SNOOZED
            return SnoozeOutcome("snoozed", until, learner.timezone)

    async def set_reflection(
        self, learner_id: int, reflection_time: str | None, now: datetime
    ) -> LearnerView | None:
        """The evening check-in's time (``HH:MM``), or None to send it with the lesson.

        An evening check-in still owed today moves to the new time (or comes
        at once when turned off), through the same reschedule as every setting.
        """
        async with self._sessions.begin() as session:
            learner = await self._lock(session, learner_id)
            if learner is None:
                return None
            learner.reflection_time = reflection_time
            await self._reschedule(session, learner, now)
            return view(learner)


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
    if learner.reflection_time is None or learner.timezone is None:
        return True
    evening = occurrence_on(
        delivery.local_date, parse_daily_time(learner.reflection_time), learner.timezone
    )
    return evening > now - STALE_CHECKIN


def _followup_claim(
    learner: Learner,
    delivery: Delivery,
    kind: ClaimKind,
    *,
    apart: bool = False,
    resend: bool = False,
) -> Claim:
    assert delivery.id is not None
    return Claim(
        delivery_id=delivery.id,
        attempt=delivery.snooze_attempts
        if kind == ClaimKind.SNOOZED
        else delivery.checkin_attempts,
        learner_id=learner.id,
        first_name=learner.first_name,
        language=learner.language,
        lesson_id=delivery.lesson_id,
        lesson_day=delivery.lesson_day,
        local_date=delivery.local_date,
        timezone=learner.timezone,
        resend=resend,  # only a lost follow-up going out again
        kind=kind,
        checkin_apart=apart,
    )
