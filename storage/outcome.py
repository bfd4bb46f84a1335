"""The outcome: what one send came to, recorded for the claim that sent it, fenced.

One function for every kind of claim. `sent` and `failed` settle the claim's
own lease columns (storage/lease.py) only while the claim still holds them;
a definite refusal of a blocked learner also sets the learner aside. What a
send moves on beyond its own row is said here too: a lesson advances the
learner's displayed place and, after the course's last lesson, ends the
schedule; a snoozed lesson that carried its check-in's buttons answers for
the evening check-in.
"""

from __future__ import annotations

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.claims import Claim, Outcome
from scheduler.states import ClaimKind, DeliveryState, DueKind, LearnerStatus, SendStatus
from storage.db import is_postgres
from storage.lease import carry_checkin, settle
from storage.models import Delivery, Learner


async def record_outcome(session: AsyncSession, claim: Claim, outcome: Outcome) -> bool:
    """Store `outcome` for `claim`; False when nothing was stored.

    Nothing is stored for an unknown outcome (the lease decides) nor for the
    auto-pause note (its pause was committed with the claim): both are True,
    there being nothing to lose. False means the row was taken over after its
    lease, or is gone: its new holder records, this outcome is dropped.
    """
    if outcome.status == SendStatus.UNKNOWN or claim.kind == ClaimKind.PAUSE_NOTE:
        return True
    if outcome.status == SendStatus.SENT:
        return await _sent(session, claim, outcome)
    if not await settle(session, claim, DeliveryState.FAILED, **_failure(claim, outcome)):
        return False
    if outcome.status == SendStatus.BLOCKED:
        # Only an active learner is set aside: one who said /stop stays stopped, so
        # unblocking the bot later does not bring them back.
        await session.exec(
            update(Learner)
            .where(col(Learner.id) == claim.learner_id, col(Learner.status) == LearnerStatus.ACTIVE)
            .values(status=LearnerStatus.BLOCKED, next_due_at=None)
            .execution_options(synchronize_session=False)
        )
    return True


def _failure(claim: Claim, outcome: Outcome) -> dict[str, object]:
    return {"failure": outcome.reason[:512]} if claim.kind == ClaimKind.LESSON else {}


async def _sent(session: AsyncSession, claim: Claim, outcome: Outcome) -> bool:
    message_id = outcome.message_id
    if claim.kind == ClaimKind.PAIR_NOTE:
        return await settle(session, claim, DeliveryState.SENT, sent_at=outcome.at)
    if claim.kind == ClaimKind.CHECKIN:
        return await settle(session, claim, DeliveryState.SENT, checkin_message_id=message_id)
    if claim.kind == ClaimKind.SNOOZED:
        if not await settle(session, claim, DeliveryState.SENT):
            return False
        if not claim.checkin_apart and message_id is not None:
            await carry_checkin(session, claim, message_id)
        return True
    if not await settle(
        session,
        claim,
        DeliveryState.SENT,
        sent_at=outcome.at,
        lesson_message_id=message_id,
        checkin_message_id=message_id,
        failure=None,
    ):
        return False
    # The day number shown to the learner ("lesson N"), for display only.
    greatest = func.greatest if is_postgres(session) else func.max
    await session.exec(
        update(Learner)
        .where(col(Learner.id) == claim.learner_id)
        .values(next_lesson=greatest(Learner.next_lesson, claim.lesson_day + 1))
        .execution_options(synchronize_session=False)
    )
    if claim.final:
        await _end_if_finished(session, claim.learner_id)
    return True


async def _end_if_finished(session: AsyncSession, learner_id: int) -> None:
    """The last lesson went out: end the schedule at once unless an earlier one is still owed,
    so nothing promises a next lesson that will not come."""
    owed = (
        await session.exec(
            select(func.count())
            .select_from(Delivery)
            .where(col(Delivery.learner_id) == learner_id, Delivery.state != DeliveryState.SENT)
        )
    ).one()
    if owed == 0:
        await session.exec(
            update(Learner)
            .where(col(Learner.id) == learner_id, col(Learner.due_kind) == DueKind.LESSON)
            .values(next_due_at=None)
            .execution_options(synchronize_session=False)
        )
