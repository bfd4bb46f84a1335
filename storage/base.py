"""What every part of the repository shares: sessions, the learner lock, scheduling, retries.

Two session makers: writes start SQLite's transaction with ``BEGIN
IMMEDIATE`` (one writer, taken up front, so a claim never fails halfway from
reader to writer), reads start a deferred one, so under WAL they never wait
for the writer. PostgreSQL needs no such split.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import func
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.due import next_due_at, parse_daily_time
from scheduler.states import DeliveryState, DueKind, LearnerStatus, Step
from storage.db import READ_ONLY
from storage.models import Delivery, Learner
from storage.owed import newest_deliveries, owed_followup
from storage.views import LearnerView

log = logging.getLogger(__name__)

T = TypeVar("T")

# Recording an outcome is retried this long on a dropped connection or a busy database:
# half a claim's 60 s lease, which the tick keeps renewing meanwhile, so a database
# restart or failover costs a short wait, not a resend of every lesson in flight.
RECORD_PATIENCE_S = 30.0
RECORD_BACKOFF_CAP_S = 2.0


def view(learner: Learner) -> LearnerView:
    return LearnerView(
        id=learner.id,
        first_name=learner.first_name,
        language=learner.language,
        timezone=learner.timezone,
        daily_time=learner.daily_time,
        onboarding_step=Step(learner.onboarding_step),
        status=LearnerStatus(learner.status),
        next_lesson=learner.next_lesson,
        next_due_at=learner.next_due_at,
        paused_since=learner.paused_since,
        paused_until=learner.paused_until,
        reflection_time=learner.reflection_time,
        auto_paused=learner.paused_since is not None
        and learner.paused_since == learner.auto_paused_at,
        due_kind=learner.due_kind,
    )


def is_transient(error: BaseException) -> bool:
    """A database error worth trying again: a dropped connection or a busy SQLite file."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError | InterfaceError)


async def retrying(
    step: Callable[[], Awaitable[T]], *, what: str, patience_s: float = RECORD_PATIENCE_S
) -> T:
    """Run `step` (one whole transaction), again on a transient error, for up to `patience_s`.

    Only for idempotent steps such as the fenced records: running one twice
    changes nothing the first run did not.
    """
    deadline = time.monotonic() + patience_s
    attempt = 0
    while True:
        attempt += 1
        try:
            return await step()
        except (DBAPIError, OSError) as error:
            pause = min(RECORD_BACKOFF_CAP_S, 0.05 * 2**attempt)
            transient = isinstance(error, OSError) or is_transient(error)
            if not transient or time.monotonic() + pause > deadline:
                raise
            log.warning(
                "%s: transient database error (%s), try %d", what, type(error).__name__, attempt
            )
            await asyncio.sleep(pause)


class RepoBase:
    """The engine, its two session makers, and the rules every part of the repository uses."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        self._reads = async_sessionmaker(
            engine.execution_options(**{READ_ONLY: True}),
            class_=AsyncSession,
            expire_on_commit=False,
        )
        self._postgres = engine.dialect.name == "postgresql"

    async def _lock(self, session: AsyncSession, learner_id: int) -> Learner | None:
        """The learner row, locked for this transaction on PostgreSQL.

        A settings change computes `next_due_at` from the newest delivery; the
        lock makes it wait for a tick that is claiming this learner, so the two
        never both schedule today. (SQLite's BEGIN IMMEDIATE already serialises.)
        """
        query = select(Learner).where(Learner.id == learner_id)
        if self._postgres:
            query = query.with_for_update()
        return (await session.exec(query)).first()

    async def _reschedule(self, session: AsyncSession, learner: Learner, now: datetime) -> None:
        """Set `next_due_at` from the learner's settings, pause and newest delivery.

        NULL means "nothing to send": onboarding unfinished, stopped, blocked,
        or paused without an end date. A finished course is found by the claim.
        An evening check-in or snoozed lesson still owed today comes first
        (the learner's one due instant, with `due_kind` saying which).
        """
        learner.due_kind = DueKind.LESSON
        if (
            learner.onboarding_step != Step.DONE
            or learner.status != LearnerStatus.ACTIVE
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
        if start == now:
            # The newest delivery not failed: one still `sending` keeps its check-in owed.
            newest = await newest_deliveries(session, [learner.id])
            owed = owed_followup(learner, newest.get(learner.id), now)
            if owed is not None and owed[0] < learner.next_due_at:
                learner.next_due_at, learner.due_kind = owed

    async def _last_delivery_day(self, session: AsyncSession, learner_id: int) -> date | None:
        result = await session.exec(
            select(func.max(Delivery.local_date)).where(
                Delivery.learner_id == learner_id, Delivery.state != DeliveryState.FAILED
            )
        )
        value = result.one()
        return value if isinstance(value, date) else None

    async def _latest_delivery(
        self, session: AsyncSession, learner_id: int, *, sent_only: bool = False
    ) -> Delivery | None:
        """The newest delivery by the local day it counts for; with `sent_only`, the newest sent.

        A check-in stays open until the next lesson *arrives*, so answers look
        only at sent deliveries: a failed or still-sending one closes nothing.
        """
        query = select(Delivery).where(Delivery.learner_id == learner_id)
        if sent_only:
            query = query.where(Delivery.state == DeliveryState.SENT)
        result = await session.exec(
            query.order_by(col(Delivery.local_date).desc(), col(Delivery.id).desc()).limit(1)
        )
        return result.first()
