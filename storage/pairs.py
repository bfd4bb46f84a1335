"""Together: invites, the pair they make, and the mutual reveal of answers.

A learner invites one person with a code (single use, 72 hours, revocable; only its
hash is stored). The invited person links; the two are a pair until either ends it,
at once and without the other's consent (the other is told at their own next moment,
a `PairNotice`). When both partners have answered the same lesson's check-in while
linked, each is to be shown the other's answer once (`reveal`), in their own evening
(storage/notices.py sends it, reading the answer as it is then): nobody sees an
answer without having answered, nothing from before the link and nothing after it
ended, nothing to or from a learner who stopped; an answer its learner kept from the
partner (`withhold`) shows only that it was given. When either answer
spoke of crisis or abuse (or a learner is in care) nothing is shown at all, not even
"answered": the partner may be the person they need to be safe from. Each function
works inside the session it is given.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.claims import Claim, CourseEntry
from scheduler.pair_times import ended_at, reveal_at
from scheduler.states import ClaimKind, DeliveryState, LearnerStatus, NoticeKind, NoticeState
from storage import notices
from storage.db import is_postgres
from storage.models import Answer, Delivery, Invite, Learner, Pair, PairNotice, Reveal
from storage.notices import answer_of
from storage.open_pairs import of_learner, open_pair, other_of
from storage.schedule import lock_learner

INVITE_LIFETIME = timedelta(hours=72)
# Wrong codes a learner may type in an hour before tries stop for the rest of it: with
# 31**10 codes, guessing one of the open invites stays out of reach.
MISSES_ALLOWED = 5
MISS_WINDOW = timedelta(hours=1)
# No 0/O, 1/I/L: a code read aloud or copied by hand still works.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10

InviteStatus = Literal[
    "ok", "unknown", "expired", "used", "revoked", "own", "linked", "taken", "limited"
]
WithholdStatus = Literal["kept", "shown", "unknown"]


@dataclass(frozen=True)
class Partner:
    """The other learner of an open pair, as much as the chat needs."""

    id: int
    first_name: str
    language: str


@dataclass(frozen=True)
class InviteCheck:
    """What a typed or opened code is: `ok` (with who invited), or why not."""

    status: InviteStatus
    inviter: Partner | None = None


@dataclass(frozen=True)
class Sharing:
    """After an answer: the partner who may be shown it, its delivery (for "keep this
    from Sam"), and whether both have now answered (each is shown the other's later)."""

    partner: Partner
    delivery_id: int
    scheduled: bool = False


async def with_together(
    session: AsyncSession, claims: Sequence[Claim], course: Sequence[CourseEntry] = ()
) -> list[Claim]:
    """The claims, each lesson of a linked learner marked `together` (its practice for two
    is shown), one query for the batch; a weekly review (a lesson looking back at several)
    also carries the partner's answers both saw (`with_partner_week`). Not for a learner
    in care: they told Bridges of crisis or harm, and a practice for two may be with the
    one they need to be safe from."""
    lessons = {
        claim.learner_id for claim in claims if claim.kind in (ClaimKind.LESSON, ClaimKind.SNOOZED)
    }
    if not lessons:
        return list(claims)
    ids = sorted(lessons)
    linked = set(
        (
            await session.exec(
                select(Learner.id)
                .join(
                    Pair,
                    or_(col(Pair.inviter_id) == Learner.id, col(Pair.partner_id) == Learner.id),
                )
                .where(
                    col(Learner.id).in_(ids),
                    col(Pair.ended_at).is_(None),
                    col(Learner.care_since).is_(None),
                )
            )
        ).all()
    )
    marked = [
        replace(claim, together=True)
        if claim.learner_id in linked and claim.kind in (ClaimKind.LESSON, ClaimKind.SNOOZED)
        else claim
        for claim in claims
    ]
    return await with_partner_week(session, marked, course)


async def with_partner_week(
    session: AsyncSession, claims: Sequence[Claim], course: Sequence[CourseEntry]
) -> list[Claim]:
    """Each linked learner's weekly review with the partner's answers to the lessons it
    looks back at: only check-ins both answered while linked and whose reveal this learner
    was sent (nothing the review shows is new to them), never a withheld or private one."""
    reviews = {entry.lesson_id: entry.looks_back for entry in course if len(entry.looks_back) > 1}
    wanted = [claim for claim in claims if claim.together and claim.lesson_id in reviews]
    shown = []
    for claim in wanted:
        pair = await open_pair(session, claim.learner_id)
        other = await session.get(Learner, other_of(pair, claim.learner_id)) if pair else None
        me = await session.get(Learner, claim.learner_id)
        if pair is None or other is None or me is None:
            continue
        rows = (
            await session.exec(
                select(col(PairNotice.lesson_id), col(Answer.value))
                .join(Delivery, col(Delivery.lesson_id) == PairNotice.lesson_id)
                .join(Answer, col(Answer.delivery_id) == Delivery.id)
                .where(
                    PairNotice.pair_id == pair.id,
                    PairNotice.reader_id == claim.learner_id,
                    PairNotice.kind == NoticeKind.REVEAL,
                    PairNotice.state == NoticeState.SENT,
                    PairNotice.round == me.round,
                    col(PairNotice.lesson_id).in_(reviews[claim.lesson_id]),
                    Delivery.learner_id == other.id,
                    Delivery.round == other.round,
                    # The answer that notice showed: given while linked, before it was sent.
                    col(Answer.answered_at) >= pair.linked_at,
                    col(Answer.answered_at) <= col(PairNotice.sent_at),
                    col(Answer.private).is_(False),
                    col(Answer.withheld).is_(False),
                )
            )
        ).all()
        if rows and other.care_since is None:
            shown.append(replace(claim, partner_name=other.first_name, partner_recalls=dict(rows)))
    by_delivery = {claim.delivery_id: claim for claim in shown}
    return [by_delivery.get(claim.delivery_id, claim) for claim in claims]


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise(code: str) -> str:
    """A code as typed or tapped: case, spaces and dashes do not matter."""
    return "".join(char for char in code.upper() if char.isalnum())


def invite_key(token: str) -> bytes:
    """The secret invite codes are hashed under, derived from the bot's token (every
    process of one bot has it; a new token ends the open invites, which last 72 hours)."""
    return hashlib.sha256(b"bridges invite codes\0" + token.encode()).digest()


def code_hash(code: str, key: bytes = b"") -> str:
    """What is stored of a code: an HMAC under the bot's own secret (`key`), so that a
    copy of the database alone cannot be searched for working codes in their 72 hours;
    a plain SHA-256 where there is no secret (the demo, tests)."""
    data = normalise(code).encode()
    if not key:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


async def partner(session: AsyncSession, learner_id: int) -> Partner | None:
    """The learner's partner while they are linked."""
    pair = await open_pair(session, learner_id)
    if pair is None:
        return None
    other = other_of(pair, learner_id)
    return await _partner(session, other)


async def _partner(session: AsyncSession, learner_id: int) -> Partner | None:
    learner = await session.get(Learner, learner_id)
    if learner is None:
        return None
    return Partner(learner.id, learner.first_name, learner.language)


async def keep_pending(session: AsyncSession, learner_id: int, code: str) -> None:
    """Hold an invite a learner opened while onboarding, to offer it when that ends."""
    learner = await lock_learner(session, learner_id)
    if learner is not None:
        learner.pending_invite = normalise(code)[: CODE_LENGTH * 2]


async def take_pending(session: AsyncSession, learner_id: int) -> str | None:
    """The invite held for the learner, once (it is cleared)."""
    learner = await lock_learner(session, learner_id)
    if learner is None or learner.pending_invite is None:
        return None
    code, learner.pending_invite = learner.pending_invite, None
    return code


async def create_invite(
    session: AsyncSession, learner_id: int, now: datetime, *, key: bytes = b""
) -> str:
    """A new invite for the learner (any earlier open one is revoked): its code."""
    await revoke_invites(session, learner_id, now)
    code = new_code()
    session.add(
        Invite(
            inviter_id=learner_id,
            code_hash=code_hash(code, key),
            created_at=now,
            expires_at=now + INVITE_LIFETIME,
        )
    )
    return code


async def revoke_invites(session: AsyncSession, learner_id: int, now: datetime) -> int:
    """Revoke the learner's open invites; how many there were."""
    result = await session.exec(
        update(Invite)
        .where(
            col(Invite.inviter_id) == learner_id,
            col(Invite.used_at).is_(None),
            col(Invite.revoked_at).is_(None),
            col(Invite.expires_at) > now,
        )
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)


async def check_invite(
    session: AsyncSession, learner_id: int, code: str, now: datetime, *, key: bytes = b""
) -> tuple[InviteCheck, Invite | None]:
    """What `code` is for this learner. A wrong code counts as a miss; after
    `MISSES_ALLOWED` in an hour every code is refused (`limited`) until the hour ends."""
    learner = await lock_learner(session, learner_id)
    if learner is None:
        return InviteCheck("unknown"), None
    since = learner.invite_misses_since
    if since is None or now - since >= MISS_WINDOW:
        learner.invite_misses, learner.invite_misses_since = 0, None
    if learner.invite_misses >= MISSES_ALLOWED:
        return InviteCheck("limited"), None
    wanted = code_hash(code, key)
    invite = (await session.exec(select(Invite).where(Invite.code_hash == wanted))).first()
    if invite is None or not hmac.compare_digest(invite.code_hash, wanted):
        learner.invite_misses += 1
        learner.invite_misses_since = learner.invite_misses_since or now
        return InviteCheck("unknown"), None
    inviter = await _partner(session, invite.inviter_id)
    if invite.inviter_id == learner_id:
        status: InviteStatus = "own"
    elif invite.revoked_at is not None:
        status = "revoked"
    elif invite.used_at is not None:
        status = "used"
    elif invite.expires_at <= now:
        status = "expired"
    elif await open_pair(session, learner_id) is not None:
        status = "linked"
    elif await open_pair(session, invite.inviter_id) is not None:
        status = "taken"
    else:
        status = "ok"
    return InviteCheck(status, inviter), invite


async def link(
    session: AsyncSession, learner_id: int, code: str, now: datetime, *, key: bytes = b""
) -> InviteCheck:
    """Link the learner with the invite's author: `ok` once (the invite is used in the
    same statement that checks it is still open, so two people accepting one invite at
    the same moment make exactly one pair), or why not."""
    wanted = code_hash(code, key)
    found = (await session.exec(select(Invite).where(Invite.code_hash == wanted))).first()
    # Both learner rows held, in id order (two people typing each other's codes at the
    # same moment never deadlock), before anything is checked: no second pair.
    for each in sorted({learner_id, found.inviter_id} if found else {learner_id}):
        await lock_learner(session, each)
    checked, invite = await check_invite(session, learner_id, code, now, key=key)
    if checked.status != "ok" or invite is None or invite.id is None:
        return checked
    used = await session.exec(
        update(Invite)
        .where(
            col(Invite.id) == invite.id,
            col(Invite.used_at).is_(None),
            col(Invite.revoked_at).is_(None),
        )
        .values(used_at=now)
    )
    if used.rowcount != 1:
        return InviteCheck("used", checked.inviter)
    await revoke_invites(session, learner_id, now)  # one partner: their own invite goes
    await notices.drop_ended(session, [learner_id, invite.inviter_id])
    session.add(Pair(inviter_id=invite.inviter_id, partner_id=learner_id, linked_at=now))
    return checked


async def unlink(session: AsyncSession, learner_id: int, now: datetime) -> Partner | None:
    """End the learner's pair at once: the partner it had, or None when there was none
    (or the other ended it at the same moment: only one of them ends it, and is told)."""
    pair = await open_pair(session, learner_id)
    if pair is None or pair.id is None:
        return None
    ended = await session.exec(
        update(Pair)
        .where(col(Pair.id) == pair.id, col(Pair.ended_at).is_(None))
        .values(ended_at=now)
    )
    if ended.rowcount != 1:  # the other ended it this very moment: it ends once
        return None
    # Nothing new from either from now on: answers still waiting to be shown never are.
    await notices.drop_waiting(session, pair.id)
    other = await session.get(Learner, other_of(pair, learner_id))
    if other is None:
        return None
    await notices.schedule(  # told at their own next moment: no name, no reason, no time
        session,
        pair.id,
        other.id,
        NoticeKind.ENDED,
        ended_at(now, other.timezone, other.daily_time, other.checkin_time),
        round_=other.round,
    )
    return Partner(other.id, other.first_name, other.language)


async def reveal(
    session: AsyncSession, learner_id: int, lesson_id: str, now: datetime
) -> Sharing | None:
    """After the learner answered `lesson_id`: who may be shown it (None when nobody:
    not linked, the answer is private, either learner stopped). If the partner answered
    it too, both while linked, each is to be shown the other's answer once, at their own
    moment (a `reveal` notice each, scheduler/pair_times.py)."""
    pair = await open_pair(session, learner_id, lock=True)
    if pair is None or pair.id is None:
        return None
    me, them = (
        await session.get(Learner, learner_id),
        await session.get(Learner, other_of(pair, learner_id)),
    )
    if me is None or them is None:
        return None
    if me.status != LearnerStatus.ACTIVE or them.status != LearnerStatus.ACTIVE:
        return None  # a learner who stopped (or blocked the bot) is sent nothing
    mine = await answer_of(session, me, lesson_id, pair.linked_at)
    if mine is None or mine.private:
        return None
    sharing = Sharing(Partner(them.id, them.first_name, them.language), mine.delivery_id)
    theirs = await answer_of(session, them, lesson_id, pair.linked_at)
    # Their answer hidden (it spoke of crisis or harm, or they are in care): neither is
    # shown, and nothing is recorded that could say when it was given.
    if theirs is None or theirs.private:
        return sharing
    inviter, partner = (me, them) if pair.inviter_id == me.id else (them, me)
    try:
        async with session.begin_nested():
            session.add(
                Reveal(
                    pair_id=pair.id,
                    lesson_id=lesson_id,
                    revealed_at=now,
                    inviter_round=inviter.round,
                    partner_round=partner.round,
                )
            )
            for reader, writer in ((me, them), (them, me)):
                await notices.schedule(
                    session,
                    pair.id,
                    reader.id,
                    NoticeKind.REVEAL,
                    reveal_at(now, reader.timezone, reader.checkin_time, answered_now=reader is me),
                    round_=reader.round,
                    writer_id=writer.id,
                    lesson_id=lesson_id,
                )
    except IntegrityError:  # scheduled already (or both answered at this very moment)
        return sharing
    return replace(sharing, scheduled=True)


async def withhold(session: AsyncSession, learner_id: int, delivery_id: int) -> WithholdStatus:
    """Keep the learner's answer to `delivery_id` from their partner ("keep this from
    Sam"): `kept`; `shown` when the partner was already shown it (nothing can take that
    back); `unknown` for a delivery that is not theirs or has no answer (a forged or
    stale button)."""
    found = (
        await session.exec(
            select(Answer, Delivery)
            .join(Delivery, col(Delivery.id) == Answer.delivery_id)
            .where(Answer.delivery_id == delivery_id, Answer.learner_id == learner_id)
        )
    ).first()
    pair = await open_pair(session, learner_id)
    if found is None or pair is None or found[0].answered_at < pair.linked_at:
        return "unknown"  # or a button from an earlier link: nobody now could see it
    answer, delivery = found
    # The notices that would show it, held (PostgreSQL): a claim taking them this moment
    # finishes first, or skips them until this is decided.
    query = select(PairNotice).where(
        PairNotice.writer_id == learner_id,
        PairNotice.kind == NoticeKind.REVEAL,
        PairNotice.lesson_id == delivery.lesson_id,
    )
    if is_postgres(session):
        query = query.with_for_update()
    for notice in (await session.exec(query)).all():
        # Sent, or being sent (its words were read when it was claimed): too late.
        taken = notice.claimed_at is not None and notice.claimed_at >= answer.answered_at
        if notice.state in (NoticeState.SENDING, NoticeState.SENT) and taken:
            return "shown"
    answer.withheld = True
    return "kept"


async def for_export(session: AsyncSession, learner_id: int) -> dict[str, object]:
    """The learner's links and what was shown across them (/export): each pair with the
    other's first name and its times, and each check-in whose answers reached this
    learner: what they shared (or that they kept it to themself) and the words they were
    shown, as shown then. Gone with the other's /delete, as everything of theirs."""
    me = await session.get(Learner, learner_id)
    pairs = (
        await session.exec(select(Pair).where(of_learner(learner_id)).order_by(col(Pair.id)))
    ).all()
    links = []
    for pair in pairs:
        them = await _partner(session, other_of(pair, learner_id))
        received = (
            await session.exec(
                select(PairNotice)
                .where(
                    PairNotice.pair_id == pair.id,
                    PairNotice.reader_id == learner_id,
                    PairNotice.kind == NoticeKind.REVEAL,
                    PairNotice.state == NoticeState.SENT,
                )
                .order_by(col(PairNotice.id))
            )
        ).all()
        exchanged = []
        for notice in received:
            mine = await answer_of(session, me, notice.lesson_id, pair.linked_at) if me else None
            exchanged.append(
                {
                    "lesson_id": notice.lesson_id,
                    "shown_on": notice.sent_at.date().isoformat() if notice.sent_at else None,
                    "i_shared": None if mine is None or mine.withheld else mine.value,
                    "kept_to_myself": bool(mine and mine.withheld),
                    "i_was_shown": notice.shown,
                }
            )
        links.append(
            {
                "with": them.first_name if them else None,
                "invited_by_me": pair.inviter_id == learner_id,
                "linked_at": pair.linked_at.isoformat(),
                "ended_at": pair.ended_at.isoformat() if pair.ended_at else None,
                "answers_shown_to_each_other": exchanged,
            }
        )
    invites = (
        await session.exec(
            select(func.count()).select_from(Invite).where(Invite.inviter_id == learner_id)
        )
    ).one()
    return {"links": links, "invites_made": int(invites)}


async def shared_streak(session: AsyncSession, learner_id: int) -> tuple[Partner, int] | None:
    """The learner's partner and their shared streak: the check-ins in a row, newest
    first, whose answers the two were shown of each other (so it moves only when the
    reveal reaches this learner, never when the partner answers), among the lessons
    both were sent; the newest, still open, does not break it. Freezes stay personal.
    None for a pair in which either learner is in care: nothing is shown there."""
    pair = await open_pair(session, learner_id)
    if pair is None:
        return None
    me = await session.get(Learner, learner_id)
    them = await session.get(Learner, other_of(pair, learner_id))
    if me is None or them is None or me.care_since is not None or them.care_since is not None:
        return None
    mine = await _lessons(session, me)
    theirs = await _lessons(session, them)
    shown = set(
        (
            await session.exec(
                select(col(PairNotice.lesson_id)).where(
                    PairNotice.pair_id == pair.id,
                    PairNotice.reader_id == learner_id,
                    PairNotice.kind == NoticeKind.REVEAL,
                    PairNotice.state == NoticeState.SENT,
                    PairNotice.round == me.round,
                )
            )
        ).all()
    )
    both = sorted(set(mine) & set(theirs), key=lambda lesson: mine[lesson], reverse=True)
    streak = 0
    for index, lesson_id in enumerate(both):
        if lesson_id in shown:
            streak += 1
        elif index > 0:
            break
    return Partner(them.id, them.first_name, them.language), streak


async def _lessons(session: AsyncSession, learner: Learner) -> dict[str, int]:
    """lesson id -> course day of the lessons sent to the learner this round."""
    rows = (
        await session.exec(
            select(col(Delivery.lesson_id), col(Delivery.lesson_day)).where(
                Delivery.learner_id == learner.id,
                Delivery.round == learner.round,
                Delivery.state == DeliveryState.SENT,
            )
        )
    ).all()
    return dict(rows)
