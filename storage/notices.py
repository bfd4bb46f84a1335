"""Pair notices at claim time: a partner's answer, or "the link has ended", at its moment.

storage/pairs.py schedules them (a reveal when both partners answered, an end
when one unlinked); the claim (storage/claim.py) holds the due ones like any
other work, fenced by an attempt number and kept by a lease:

    claim_notices   due `pending` rows, and `sending` rows whose lease ran out, held
    renew / release / settle   as storage/lease.py does for deliveries

What a reveal shows is read when it is claimed, not when it was scheduled, so an
edit of the answer, "keep this from Sam", an unlink, /delete, care or /stop in
between are all honoured: a notice that no longer applies is dropped unsent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, tuple_, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.claims import Claim, PairNote
from scheduler.due import local_date
from scheduler.states import ClaimKind, LearnerStatus, NoticeKind, NoticeState
from storage.db import is_postgres
from storage.due import aggregate_instant
from storage.models import Answer, Delivery, Learner, Pair, PairNotice
from storage.open_pairs import open_pair

log = logging.getLogger(__name__)


# A notice whose sends were lost this often is given up (a reveal is not worth a flood).
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Shared:
    """One partner's answer as the other may be shown it: the words or value; nothing at
    all when `private` (it spoke of crisis or harm, or they are in care); only that it
    was given when `withheld` (they kept it from their partner)."""

    value: str
    private: bool
    voice: bool = False
    withheld: bool = False
    delivery_id: int = 0


async def schedule(
    session: AsyncSession,
    pair_id: int,
    reader_id: int,
    kind: str,
    due_at: datetime,
    *,
    round_: int,
    writer_id: int | None = None,
    lesson_id: str = "",
    told: bool = False,
) -> None:
    """A notice to the reader, waiting until `due_at` (storage/pairs.py and in_step.py
    decide when); once per reader, pair, kind and lesson, however often it is asked for.
    `told`: the reader was just told in a reply (/today), so it is recorded as sent."""
    insert = postgres_insert if is_postgres(session) else sqlite_insert
    await session.exec(
        insert(PairNotice)
        .values(
            pair_id=pair_id,
            reader_id=reader_id,
            writer_id=writer_id,
            kind=kind,
            lesson_id=lesson_id,
            round=round_,
            due_at=due_at,
            state=NoticeState.SENT if told else NoticeState.PENDING,
            sent_at=due_at if told else None,
            attempts=0,
        )
        .on_conflict_do_nothing(
            index_elements=[
                col(PairNotice.reader_id),
                col(PairNotice.pair_id),
                col(PairNotice.kind),
                col(PairNotice.lesson_id),
                col(PairNotice.round),
            ]
        )
    )


async def drop_waiting(session: AsyncSession, pair_id: int) -> None:
    """The pair's answers still waiting to be shown never are (the link ended). One being
    sent this very moment is dropped too, so a lost send of it never goes again (its
    claim, committed before the link ended, may still arrive: that much is in flight)."""
    await session.exec(
        update(PairNotice)
        .where(
            col(PairNotice.pair_id) == pair_id,
            col(PairNotice.kind) == NoticeKind.REVEAL,
            col(PairNotice.state).in_([NoticeState.PENDING, NoticeState.SENDING]),
        )
        .values(state=NoticeState.DROPPED)
    )


async def drop_ended(session: AsyncSession, learner_ids: Sequence[int]) -> None:
    """ "The link has ended" still waiting for these learners never comes: they are linked
    again (a new pair), and it would read as news of the new one."""
    await session.exec(
        update(PairNotice)
        .where(
            col(PairNotice.reader_id).in_(list(learner_ids)),
            col(PairNotice.kind) == NoticeKind.ENDED,
            col(PairNotice.state) == NoticeState.PENDING,
        )
        .values(state=NoticeState.DROPPED)
    )


async def answer_of(
    session: AsyncSession, learner: Learner, lesson_id: str, since: datetime
) -> Shared | None:
    """The learner's answer to the lesson in their current round, if given since `since`
    (the link): `private` when it may not be shown at all, `withheld` when they kept it
    from their partner."""
    found = (
        await session.exec(
            select(Answer)
            .join(Delivery, col(Delivery.id) == Answer.delivery_id)
            .where(
                Delivery.learner_id == learner.id,
                Delivery.lesson_id == lesson_id,
                Delivery.round == learner.round,
                col(Answer.answered_at) >= since,
            )
        )
    ).first()
    if found is None:
        return None
    hidden = found.private or learner.care_since is not None
    return Shared(
        found.value,
        hidden,
        voice=found.voice_file_id is not None,
        withheld=found.withheld,
        delivery_id=found.delivery_id,
    )


async def next_due(session: AsyncSession) -> datetime | None:
    """When the earliest waiting notice is due (None when none waits)."""
    earliest = (
        await session.exec(
            select(func.min(col(PairNotice.due_at))).where(
                col(PairNotice.state) == NoticeState.PENDING
            )
        )
    ).one()
    return aggregate_instant(earliest)


async def claim_notices(
    session: AsyncSession, now: datetime, lease: timedelta, room: int, *, postgres: bool
) -> list[Claim]:
    """Hold up to `room` due pair notices (and lost ones, again), earliest first."""
    if room <= 0:
        return []
    query = (
        select(PairNotice, Learner)
        .join(Learner, col(Learner.id) == PairNotice.reader_id)
        .where(
            or_(
                and_(col(PairNotice.state) == NoticeState.PENDING, col(PairNotice.due_at) <= now),
                and_(
                    col(PairNotice.state) == NoticeState.SENDING,
                    col(PairNotice.claimed_at) < now - lease,
                ),
            )
        )
        .order_by(col(PairNotice.due_at))
        .limit(room)
    )
    if postgres:
        query = query.with_for_update(skip_locked=True, of=PairNotice)
    claims = []
    for notice, reader in (await session.exec(query)).all():
        if notice.attempts >= MAX_ATTEMPTS:  # lost this often: given up, as a failure
            notice.state = NoticeState.FAILED
            continue
        note = await _note(session, notice, reader)
        if note is None:
            notice.state = NoticeState.DROPPED
            continue
        lost = notice.state == NoticeState.SENDING
        notice.state, notice.attempts, notice.claimed_at = (
            NoticeState.SENDING,
            notice.attempts + 1,
            now,
        )
        if note.kind == NoticeKind.REVEAL:  # the words as shown, for the reader's own export
            notice.shown = None if note.withheld or note.voice else note.value
        if lost:
            log.warning("pair notice %s sent again after an expired lease", notice.id)
        claims.append(_claim(notice, reader, note, now, resend=lost))
    return claims


async def _note(session: AsyncSession, notice: PairNotice, reader: Learner) -> PairNote | None:
    """What the notice shows its reader now, or None when it no longer applies."""
    if reader.status != LearnerStatus.ACTIVE:
        return None
    if notice.kind == NoticeKind.ENDED:
        # Linked again meanwhile (with anyone): "the link has ended" would now mislead.
        return None if await open_pair(session, reader.id) else PairNote(NoticeKind.ENDED)
    pair = await session.get(Pair, notice.pair_id) if notice.pair_id is not None else None
    writer = await session.get(Learner, notice.writer_id) if notice.writer_id else None
    if pair is None or pair.ended_at is not None or writer is None:
        return None
    if reader.care_since is not None or writer.care_since is not None:
        return None  # nothing pair-related to or about a learner who told of harm
    if notice.kind == NoticeKind.WAITING:
        return PairNote(NoticeKind.WAITING, partner_name=writer.first_name)
    if writer.status != LearnerStatus.ACTIVE:
        return None
    theirs = await answer_of(session, writer, notice.lesson_id, pair.linked_at)
    mine = await answer_of(session, reader, notice.lesson_id, pair.linked_at)
    # Either answer hidden now (it spoke of crisis or harm, or either is in care), or
    # gone (/restart): nothing is shown, not even "answered".
    if theirs is None or mine is None or theirs.private or mine.private:
        return None
    return PairNote(
        NoticeKind.REVEAL,
        partner_name=writer.first_name,
        value="" if theirs.withheld else theirs.value,
        withheld=theirs.withheld,
        voice=theirs.voice and not theirs.withheld,
    )


def _claim(
    notice: PairNotice, reader: Learner, note: PairNote, now: datetime, *, resend: bool
) -> Claim:
    assert notice.id is not None
    try:
        today = local_date(now, reader.timezone) if reader.timezone else now.date()
    except (ValueError, LookupError):
        today = now.date()
    return Claim(
        delivery_id=notice.id,
        attempt=notice.attempts,
        learner_id=reader.id,
        first_name=reader.first_name,
        language=reader.language,
        lesson_id=notice.lesson_id,
        lesson_day=0,
        local_date=today,
        timezone=reader.timezone,
        due_at=notice.due_at,
        resend=resend,
        kind=ClaimKind.PAIR_NOTE,
        pair_note=note,
    )


def _in_flight(claims: Sequence[Claim]) -> Any | None:
    """An UPDATE of the notices still `sending` under exactly these claims' attempts."""
    keys = [
        (claim.delivery_id, claim.attempt) for claim in claims if claim.kind == ClaimKind.PAIR_NOTE
    ]
    if not keys:
        return None
    return (
        update(PairNotice)
        .where(
            tuple_(col(PairNotice.id), col(PairNotice.attempts)).in_(keys),
            col(PairNotice.state) == NoticeState.SENDING,
        )
        .execution_options(synchronize_session=False)
    )


async def renew(session: AsyncSession, claims: Sequence[Claim], now: datetime) -> None:
    """Keep the lease of notices in flight fresh."""
    statement = _in_flight(claims)
    if statement is not None:
        await session.exec(statement.values(claimed_at=now))


async def release(session: AsyncSession, claims: Sequence[Claim]) -> None:
    """Hand back notices never sent (stopping): waiting again, due at once. The attempt
    number stays, so the fence still holds."""
    statement = _in_flight(claims)
    if statement is not None:
        await session.exec(statement.values(state=NoticeState.PENDING))


async def settle(session: AsyncSession, claim: Claim, state: str, at: datetime | None) -> bool:
    """Turn the claim's notice `sent` or `failed`, only while the claim still holds it."""
    values: dict[str, Any] = {"state": state}
    if state == NoticeState.SENT:
        values["sent_at"] = at
    result = await session.exec(
        update(PairNotice)
        .where(
            col(PairNotice.id) == claim.delivery_id,
            col(PairNotice.state) == NoticeState.SENDING,
            col(PairNotice.attempts) == claim.attempt,
        )
        .values(values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)
