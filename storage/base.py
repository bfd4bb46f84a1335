"""What every part of the repository shares: sessions, the learner view, retries.

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
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.states import LearnerStatus, Step
from storage.db import READ_ONLY
from storage.models import Learner
from storage.views import LearnerView

log = logging.getLogger(__name__)

T = TypeVar("T")

# Recording an outcome is retried this long on a dropped connection or a busy database:
# half a claim's 60 s lease, which the tick keeps renewing meanwhile, so a database
# restart or failover costs a short wait, not a resend of every lesson in flight.
RECORD_PATIENCE_S = 30.0
RECORD_BACKOFF_CAP_S = 2.0


def write_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for writes: on SQLite each transaction starts with ``BEGIN IMMEDIATE``."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def read_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for reads: a deferred ``BEGIN``, so under WAL they never wait for the writer."""
    return async_sessionmaker(
        engine.execution_options(**{READ_ONLY: True}),
        class_=AsyncSession,
        expire_on_commit=False,
    )


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
        checkin_time=learner.checkin_time,
        auto_paused=learner.paused_since is not None
        and learner.paused_since == learner.auto_paused_at,
        due_kind=learner.due_kind,
        in_care=learner.care_since is not None,
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
