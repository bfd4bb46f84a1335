"""Claims built from rows already in the delivery table: a lease resend, a follow-up, /today again.

One builder for every kind, so a claim always carries the attempt number of
the columns that fence its own kind (storage/lease.py).
"""

from __future__ import annotations

from scheduler.claims import Claim
from scheduler.states import ClaimKind, FollowUpState
from storage.lease import attempt_of
from storage.models import Delivery, Learner


def stored_claim(
    learner: Learner,
    delivery: Delivery,
    kind: ClaimKind = ClaimKind.LESSON,
    *,
    resend: bool = False,
    apart: bool | None = None,
    final: bool = False,
) -> Claim:
    """The claim of `kind` on an existing delivery row, fenced by that kind's attempt.

    `apart` says whether the check-in is still to be asked on its own (so the
    lesson carries "later" buttons); by default it is read off the row: a
    lesson whose evening check-in is still owed, a snoozed lesson whose
    check-in has not been asked yet.
    """
    assert delivery.id is not None
    if apart is None:
        owed: tuple[FollowUpState, ...] = (FollowUpState.PENDING, FollowUpState.SENDING)
        if kind == ClaimKind.SNOOZED:
            owed = (FollowUpState.PENDING,)
        apart = kind != ClaimKind.CHECKIN and delivery.checkin_state in owed
    return Claim(
        delivery_id=delivery.id,
        attempt=attempt_of(delivery, kind),
        learner_id=learner.id,
        first_name=learner.first_name,
        language=learner.language,
        lesson_id=delivery.lesson_id,
        lesson_day=delivery.lesson_day,
        local_date=delivery.local_date,
        timezone=learner.timezone,
        resend=resend,
        kind=kind,
        checkin_apart=apart,
        final=final,
    )
