"""The lease: how a delivery's lesson, evening check-in or snoozed resend is held while it sends.

Every kind of claim (scheduler.states.ClaimKind) holds a triple of columns on
its delivery row: a state (`pending` -> `sending` -> `sent` | `failed`), an
attempt number (the fence) and the instant its lease was last stamped:

    lesson    state          attempts          claimed_at
    check-in  checkin_state  checkin_attempts  followup_claimed_at
    snoozed   snooze_state   snooze_attempts   followup_claimed_at

This module is the only one that writes those columns. A claim takes a new
attempt number; only its holder may settle the row (``UPDATE ... WHERE id AND
state = 'sending' AND attempts = :n``), so a sender that outlived its lease
records nothing over the process that took the row over. A holder renews
its stamp while it sends; a `sending` row whose stamp is older than the lease
belongs to a process that died (or a reply that never came) and is sent once
more, at most MAX_RESENDS times, never after its local day and never to a
learner who left. A claim that is handed back unsent gets a long-expired stamp.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, tuple_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.claims import Claim
from scheduler.due import local_date
from scheduler.states import ClaimKind, DeliveryState, FollowUpState, LearnerStatus
from storage import notices
from storage.models import Delivery, Learner

log = logging.getLogger(__name__)

# A lost send (expired lease) is sent again at most this often, then given up as failed.
MAX_RESENDS = 2
# The lease stamp of a released claim: long expired, so any tick takes it at once.
RELEASED_AT = datetime(2000, 1, 1, tzinfo=UTC)
# The states every kind goes through; the lesson's and the follow-ups' enums share values.
SENDING = str(DeliveryState.SENDING)
assert str(FollowUpState.SENDING) == SENDING


@dataclass(frozen=True)
class LeaseColumns:
    """The names of one kind's (state, attempts, stamp) columns on the delivery row."""

    kind: ClaimKind
    state: str
    attempts: str
    stamp: str

    def column(self, name: str) -> Any:
        return col(getattr(Delivery, name))


LEASES = {
    ClaimKind.LESSON: LeaseColumns(ClaimKind.LESSON, "state", "attempts", "claimed_at"),
    ClaimKind.CHECKIN: LeaseColumns(
        ClaimKind.CHECKIN, "checkin_state", "checkin_attempts", "followup_claimed_at"
    ),
    ClaimKind.SNOOZED: LeaseColumns(
        ClaimKind.SNOOZED, "snooze_state", "snooze_attempts", "followup_claimed_at"
    ),
}


def attempt_of(delivery: Delivery, kind: ClaimKind) -> int:
    value = getattr(delivery, LEASES[kind].attempts)
    assert isinstance(value, int)
    return value


def state_of(delivery: Delivery, kind: ClaimKind) -> str | None:
    value = getattr(delivery, LEASES[kind].state)
    assert value is None or isinstance(value, str)
    return value


# --- a new lesson's row, and a failed one revived for another day -------------------------


def new_lesson(now: datetime, *, checkin_apart: bool) -> dict[str, Any]:
    """The lease columns of a lesson row claimed for the first time (attempt 1, `sending`).

    With its check-in apart, the evening check-in waits `pending` on the same row.
    """
    return {
        "state": DeliveryState.SENDING,
        "attempts": 1,
        "resends": 0,
        "claimed_at": now,
        "checkin_state": FollowUpState.PENDING if checkin_apart else None,
        "checkin_attempts": 0,
        "snooze_attempts": 0,
    }


def revived_lesson(excluded: Any) -> dict[str, Any]:
    """What an ``ON CONFLICT DO UPDATE`` sets on a `failed` lesson row claimed again.

    A new attempt fences out whoever held it before; follow-ups start over.
    """
    return {
        "state": DeliveryState.SENDING,
        "attempts": col(Delivery.attempts) + 1,
        "resends": 0,
        "claimed_at": excluded.claimed_at,
        "checkin_state": excluded.checkin_state,
        "snoozed_until": None,
        "snooze_state": None,
    }


# --- transitions of a row the caller holds in its transaction ------------------------------


def hold(delivery: Delivery, kind: ClaimKind, now: datetime) -> None:
    """Take the row's `kind` for sending: a new attempt number and a fresh stamp."""
    lease = LEASES[kind]
    setattr(delivery, lease.state, SENDING)
    setattr(delivery, lease.attempts, attempt_of(delivery, kind) + 1)
    setattr(delivery, lease.stamp, now)


def give_up(delivery: Delivery, kind: ClaimKind, reason: str) -> None:
    """`failed`, with the reason kept on the lesson row (follow-ups only log it)."""
    setattr(delivery, LEASES[kind].state, DeliveryState.FAILED)
    if kind == ClaimKind.LESSON:
        delivery.failure = reason[:512]
    log.warning("delivery %s: %s %s", delivery.id, kind, reason)


def answered_early(delivery: Delivery) -> bool:
    """The learner answered before the evening check-in was asked: it is not sent. True
    when there was one still to ask (`pending`); one already being sent goes out."""
    if delivery.checkin_state != FollowUpState.PENDING:
        return False
    delivery.checkin_state = FollowUpState.ANSWERED
    return True


def snooze(delivery: Delivery, until: datetime) -> None:
    """ "Later": the lesson is owed once more at `until` (the claim then holds it)."""
    delivery.snoozed_until = until
    delivery.snooze_state = FollowUpState.PENDING


# --- lost sends: reclaim -------------------------------------------------------------------


def resends_of(delivery: Delivery, kind: ClaimKind) -> int:
    """How often an expired lease sent this kind again.

    A lesson counts on its own column (a failed lesson revived for another day
    starts again at 0, and a hand-back takes its count back); a follow-up's
    first attempt is its send, every further one a resend.
    """
    if kind == ClaimKind.LESSON:
        return delivery.resends
    return attempt_of(delivery, kind) - 1


def _day_passed(delivery: Delivery, learner: Learner, now: datetime) -> bool:
    """Whether the local day a delivery was for is over for its learner."""
    if learner.timezone is None:
        return False
    try:
        return delivery.local_date < local_date(now, learner.timezone)
    except (ValueError, LookupError):
        return False


async def reclaim_lost(
    session: AsyncSession, now: datetime, lease: timedelta, room: int, *, postgres: bool
) -> list[tuple[ClaimKind, Delivery, Learner]]:
    """Rows of every kind stuck in `sending` past the lease, held again under a new attempt.

    One scan per stamp column (lessons; evening check-ins and snoozes together),
    oldest first, up to `room` rows in all. A row lost on a day that is over (the bot was down)
    is failed, not sent late on top of today's; one sent again too often, or
    whose learner left, is given up.
    """
    taken: list[tuple[ClaimKind, Delivery, Learner]] = []
    for kinds in _BY_STAMP.values():
        if room - len(taken) <= 0:
            break
        stamp = LEASES[kinds[0]].column(LEASES[kinds[0]].stamp)
        sending = or_(*(LEASES[kind].column(LEASES[kind].state) == SENDING for kind in kinds))
        query = (
            select(Delivery, Learner)
            .join(Learner, col(Learner.id) == Delivery.learner_id)
            .where(sending, stamp < now - lease)
            .order_by(stamp)
            .limit(room - len(taken))
        )
        if postgres:
            query = query.with_for_update(skip_locked=True, of=Delivery)
        for delivery, learner in (await session.exec(query)).all():
            for kind in kinds:
                if state_of(delivery, kind) == SENDING and _held_again(
                    delivery, learner, kind, now
                ):
                    taken.append((kind, delivery, learner))
    return taken


# Kinds whose leases share a stamp column (the evening check-in and the snooze share
# followup_claimed_at) are found in one scan: one statement per stamp, not per kind,
# which the SQLite claim feels (every statement is a hop to aiosqlite's thread).
_BY_STAMP: dict[str, tuple[ClaimKind, ...]] = {}
for _kind, _columns in LEASES.items():
    _BY_STAMP[_columns.stamp] = (*_BY_STAMP.get(_columns.stamp, ()), _kind)


def _held_again(delivery: Delivery, learner: Learner, kind: ClaimKind, now: datetime) -> bool:
    """Hold a lost row of `kind` under a new attempt, or give it up; True when held."""
    if _day_passed(delivery, learner, now):
        give_up(delivery, kind, "lease expired after its day")
        return False
    if resends_of(delivery, kind) >= MAX_RESENDS or learner.status != LearnerStatus.ACTIVE:
        give_up(delivery, kind, "lease expired; given up")
        return False
    hold(delivery, kind, now)
    if kind == ClaimKind.LESSON:
        delivery.resends += 1
    log.warning("delivery %s: %s sent again after an expired lease", delivery.id, kind)
    return True


# --- claims in flight: renew, release, settle (fenced by attempt) --------------------------


def _in_flight(kind: ClaimKind, claims: Sequence[Claim]) -> Any | None:
    """An UPDATE of the `kind` rows still `sending` under exactly these claims' attempts."""
    columns = LEASES[kind]
    keys = [(claim.delivery_id, claim.attempt) for claim in claims if claim.kind == kind]
    if not keys:
        return None
    return (
        update(Delivery)
        .where(
            tuple_(col(Delivery.id), columns.column(columns.attempts)).in_(keys),
            columns.column(columns.state) == SENDING,
        )
        .execution_options(synchronize_session=False)
    )


async def renew(session: AsyncSession, claims: Sequence[Claim], now: datetime) -> None:
    """Stamp the lease of every row still in flight under these claims, so only dead work
    ever expires."""
    for kind, columns in LEASES.items():
        statement = _in_flight(kind, claims)
        if statement is not None:
            await session.exec(statement.values({columns.stamp: now}))
    await notices.renew(session, claims, now)


async def release(session: AsyncSession, claims: Sequence[Claim]) -> None:
    """Hand back claims that were never sent: a long-expired stamp, so any tick takes them.

    The attempt number is kept, so the fence still holds. A lesson's resend
    this costs is not counted against MAX_RESENDS, since nothing went out.
    """
    for kind, columns in LEASES.items():
        statement = _in_flight(kind, claims)
        if statement is None:
            continue
        values: dict[str, Any] = {columns.stamp: RELEASED_AT}
        if kind == ClaimKind.LESSON:
            values["resends"] = col(Delivery.resends) - 1
        await session.exec(statement.values(values))
    await notices.release(session, claims)


async def settle(session: AsyncSession, claim: Claim, state: str, **values: Any) -> bool:
    """Turn the claim's own row `sent` or `failed`, only if the claim still holds it.

    False when the row was taken over after its lease (its new holder records)
    or is gone (the learner was deleted). A pair notice has its own row (storage/notices.py).
    """
    if claim.kind == ClaimKind.PAIR_NOTE:
        return await notices.settle(session, claim, state, values.get("sent_at"))
    columns = LEASES[claim.kind]
    result = await session.exec(
        update(Delivery)
        .where(
            col(Delivery.id) == claim.delivery_id,
            columns.column(columns.state) == SENDING,
            columns.column(columns.attempts) == claim.attempt,
        )
        .values({columns.state: state, **values})
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)


async def carry_checkin(session: AsyncSession, claim: Claim, message_id: int) -> None:
    """A snoozed lesson that went out with its check-in's buttons: the owed evening check-in
    counts as sent with it."""
    await session.exec(
        update(Delivery)
        .where(
            col(Delivery.id) == claim.delivery_id,
            col(Delivery.checkin_state) == FollowUpState.PENDING,
        )
        .values(checkin_state=FollowUpState.SENT, checkin_message_id=message_id)
        .execution_options(synchronize_session=False)
    )
