"""Together, in step (issue 16): linked learners get the same lesson, each at their own time.

One comparison at claim time keeps a pair in step: a learner whose next lesson is one
day ahead of their partner's (the partner has not reached today's lesson yet), or the
same lesson while the partner is paused, waits, and is told so once, in one gentle
line with no reason (a `waiting` pair notice). Their next chance is their own time
the next day. Partners
further apart (just linked, before the invited one chose where to go on from) each go
on alone until `align` puts them in step; a partner who stopped, blocked the bot or
finished the course holds nobody.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.claims import CourseEntry, next_entry
from scheduler.states import LearnerStatus, NoticeKind, Step
from storage import notices
from storage.delivered import delivered_lessons
from storage.models import Learner, Pair, PairNotice
from storage.open_pairs import open_pair, other_of
from storage.schedule import lock_learner

AlignChoice = Literal["ahead", "start"]
# The longest a learner waits for a partner on pause before going on alone.
MAX_WAIT = timedelta(days=3)


@dataclass(frozen=True)
class Waiting:
    """A learner who waits for their partner today: the pair, and who."""

    pair_id: int
    partner_id: int
    partner_name: str
    round: int  # the waiting learner's round of the course
    since: datetime | None = None  # when the partner's pause began, if they are paused


async def held_back(
    session: AsyncSession,
    next_lessons: Mapping[int, tuple[int, str]],
    course: Sequence[CourseEntry],
    now: datetime,
) -> dict[int, Waiting]:
    """Of learners about to get a lesson (id -> its course day and lesson id), those who
    wait for their partner: one day ahead of them, or on the same day while they chose a
    pause (for `MAX_WAIT` at most): learner id -> whom for."""
    ids = list(next_lessons)
    if not ids:
        return {}
    pairs = (
        await session.exec(
            select(Pair).where(
                or_(col(Pair.inviter_id).in_(ids), col(Pair.partner_id).in_(ids)),
                col(Pair.ended_at).is_(None),
            )
        )
    ).all()
    other_of: dict[int, tuple[int, int]] = {}  # learner -> (pair, partner)
    for pair in pairs:
        assert pair.id is not None
        for me, them in ((pair.inviter_id, pair.partner_id), (pair.partner_id, pair.inviter_id)):
            if me in next_lessons:
                other_of[me] = (pair.id, them)
    if not other_of:
        return {}
    partner_ids = sorted({them for _pair, them in other_of.values()})
    learners = {
        learner.id: learner
        for learner in (
            await session.exec(
                select(Learner).where(col(Learner.id).in_(partner_ids + list(other_of)))
            )
        ).all()
    }
    delivered = await delivered_lessons(session, partner_ids)
    held = {}
    for me, (pair_id, them) in other_of.items():
        partner, learner = learners.get(them), learners.get(me)
        if partner is None or learner is None or not _holds(partner, now):
            continue
        if learner.care_since is not None or partner.care_since is not None:
            continue  # nothing pair-related to or about a learner who told of harm
        place = next_entry(course, delivered[them], partner.course_from)
        if place is None:
            continue  # they finished the course: nothing to wait for
        ahead = next_lessons[me][0] - place[0]
        if ahead == 1 or (ahead == 0 and _paused(partner, now)):
            since = partner.paused_since if _paused(partner, now) else None
            held[me] = Waiting(pair_id, them, partner.first_name, learner.round, since)
    return await _not_too_long(
        session, held, {learner: lesson for learner, (_day, lesson) in next_lessons.items()}, now
    )


async def _not_too_long(
    session: AsyncSession,
    held: dict[int, Waiting],
    lessons: Mapping[int, str],
    now: datetime,
) -> dict[int, Waiting]:
    """Those of `held` who began waiting less than `MAX_WAIT` ago: the pair's course
    waits a few days for a partner on pause, then the one waiting goes on alone for the
    rest of that pause (as they were told: "or in three days at the latest")."""
    if not held:
        return held
    told = (
        await session.exec(
            select(PairNotice).where(
                col(PairNotice.reader_id).in_(list(held)),
                col(PairNotice.kind) == NoticeKind.WAITING,
            )
        )
    ).all()
    waiting = {}
    for learner_id, why in held.items():
        spell = [
            notice.due_at
            for notice in told
            if notice.reader_id == learner_id
            and notice.pair_id == why.pair_id
            and (
                (notice.lesson_id, notice.round) == (lessons[learner_id], why.round)
                # this pause of the partner's, whatever the lesson
                or (why.since is not None and notice.due_at >= why.since)
            )
        ]
        if not spell or now - min(spell) < MAX_WAIT:
            waiting[learner_id] = why
    return waiting


def _paused(learner: Learner, now: datetime) -> bool:
    return learner.paused_since is not None and (
        learner.paused_until is None or learner.paused_until > now
    )


def _holds(partner: Learner, now: datetime) -> bool:
    """A partner taking the course keeps the pair's step, also while they chose a pause;
    not one whom silence paused (they went quiet: the other is not held for that)."""
    if partner.status != LearnerStatus.ACTIVE or partner.onboarding_step != Step.DONE:
        return False
    silenced = partner.auto_paused_at is not None and partner.auto_paused_at == partner.paused_since
    return not (silenced and _paused(partner, now))


async def wait(
    session: AsyncSession,
    learner_id: int,
    waiting: Waiting,
    lesson_id: str,
    now: datetime,
    *,
    told: bool = False,
) -> None:
    """Tell the learner, once for this lesson, that it waits for their partner (`told`:
    a reply just did)."""
    await notices.schedule(
        session,
        waiting.pair_id,
        learner_id,
        NoticeKind.WAITING,
        now,
        round_=waiting.round,
        writer_id=waiting.partner_id,
        lesson_id=lesson_id,
        told=told,
    )


async def days(
    session: AsyncSession, learner_id: int, course: Sequence[CourseEntry]
) -> tuple[int, int] | None:
    """The learner's and their partner's next course days, while linked and both have
    one to come (None otherwise)."""
    pair = await open_pair(session, learner_id)
    if pair is None:
        return None
    other = other_of(pair, learner_id)
    learners = {
        learner.id: learner
        for learner in (
            await session.exec(select(Learner).where(col(Learner.id).in_([learner_id, other])))
        ).all()
    }
    if len(learners) != 2:
        return None
    delivered = await delivered_lessons(session, [learner_id, other])
    places = [
        next_entry(course, delivered[each], learners[each].course_from)
        for each in (learner_id, other)
    ]
    if places[0] is None or places[1] is None:
        return None
    return places[0][0], places[1][0]


async def align(
    session: AsyncSession,
    learner_id: int,
    choice: AlignChoice,
    course: Sequence[CourseEntry],
) -> int | None:
    """Put a pair far apart in step, as the learner chose: `ahead`, the one behind joins
    the other's day (the days before it are skipped); `start`, both begin again at day 1
    (a new round for whoever is past it, every answer kept). Only the invited learner may
    choose for both, as the invite told its author; either may bring only themself up to
    the other (`ahead` by the one behind, asked after a pause). The day both go on from,
    or None (not linked, not theirs to choose, in step already, or a course finished)."""
    pair = await open_pair(session, learner_id)
    if pair is None:
        return None
    other = other_of(pair, learner_id)
    for each in sorted((learner_id, other)):  # both held, in id order
        await lock_learner(session, each)
    found = await days(session, learner_id, course)
    if found is None or abs(found[0] - found[1]) <= 1:
        return None  # a stale or forged tap: already in step (or finished), nothing moves
    invited = pair.partner_id == learner_id
    if choice == "ahead" and (invited or found[0] < found[1]):
        target = max(found)
        for each, day in zip((learner_id, other), found, strict=True):
            learner = await session.get(Learner, each)
            if learner is not None and day < target:
                learner.course_from = learner.next_lesson = target
        return target
    if choice != "start" or not invited:
        return None
    for each, day in zip((learner_id, other), found, strict=True):
        learner = await session.get(Learner, each)
        if learner is not None and day > 1:  # past day 1: a new round, answers kept
            learner.round += 1
            learner.course_from = learner.next_lesson = 1
    return 1


async def waiting_told(session: AsyncSession, learner: Learner, lesson_id: str) -> str | None:
    """The partner the learner was told this lesson waits for, if they were: /today then
    says the same until the tick, at the learner's own time, decides again, rather than
    check now and show the moment the partner came back."""
    found = (
        await session.exec(
            select(PairNotice.id, Learner.first_name)
            .join(Learner, col(Learner.id) == PairNotice.writer_id)
            .join(Pair, col(Pair.id) == PairNotice.pair_id)
            .where(
                col(Pair.ended_at).is_(None),  # not from a link that has ended
                PairNotice.reader_id == learner.id,
                PairNotice.kind == NoticeKind.WAITING,
                PairNotice.lesson_id == lesson_id,
                PairNotice.round == learner.round,
            )
        )
    ).first()
    return None if found is None else found[1]
