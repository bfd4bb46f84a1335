"""What a claim is, what its outcome is, and what the tick needs from storage for both.

The tick (scheduler/tick.py) and the delivery (scheduler/delivery.py) work
against `ClaimStore`, a protocol that storage implements (storage/repo.py); so
`scheduler` never imports `storage`, and `storage` may use the pure rules
beside this module (due.py, streak.py) without a loop between the packages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from scheduler.states import ClaimKind, NoticeKind, SendStatus

# A `sending` row whose lease is this old belongs to a process that died (or a
# reply that never came): it is sent once more. The tick renews its own rows'
# leases while they are in flight, so only dead or lost work ever expires.
DEFAULT_LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class DueSpan:
    """The learners due by some instant: how many, and when the first and the last were due."""

    count: int
    first: datetime | None = None
    last: datetime | None = None


@dataclass(frozen=True)
class CourseEntry:
    """What storage needs to know of a lesson: its id, its check-in kind, in course order,
    and the earlier lessons whose answers it shows back or branches on (read with the claim)."""

    lesson_id: str
    checkin_kind: str
    looks_back: tuple[str, ...] = ()


@dataclass(frozen=True)
class PairNote:
    """What a pair notice shows its reader (issue 16): the partner's answer to the claim's
    lesson (`reveal`), or that the link ended (`ended`, no name, no reason, no time).
    `withheld`: the partner kept the answer to themself, so only that they answered."""

    kind: NoticeKind
    partner_name: str = ""
    value: str = ""
    withheld: bool = False
    voice: bool = False


@dataclass(frozen=True)
class Claim:
    """A reserved delivery: send this lesson to this learner, then record it under `attempt`.

    `attempt` fences the record: only the holder of the newest attempt may
    turn the row `sent` or `failed`, so a sender that outlived its lease can
    never overwrite the outcome of the process that took the row over.
    """

    delivery_id: int
    attempt: int
    learner_id: int
    first_name: str
    language: str
    lesson_id: str
    lesson_day: int
    local_date: date
    timezone: str | None = None  # the learner's zone: help lines are chosen by country
    due_at: datetime | None = None  # when the learner was due (None for /today and resends)
    resend: bool = False  # a lost send (expired lease) or /today showing it again
    # What goes out: the lesson, its evening check-in, a snoozed lesson again, or
    # the auto-pause note. `attempt` fences the matching state column.
    kind: ClaimKind = ClaimKind.LESSON
    # The check-in comes apart, in the evening: the lesson carries "later" buttons instead.
    checkin_apart: bool = False
    # A missed day yesterday used a streak freeze: the lesson says so, kindly.
    freeze_used: bool = False
    streak: int = 0  # the streak the freeze kept
    # The course's last lesson: once it is sent the learner's schedule ends.
    final: bool = False
    # The learner's earlier answers this lesson shows back or branches on (lesson id ->
    # answer), read in the claim's own transaction so rendering never goes back to the
    # database; missing ones are simply absent.
    recalls: Mapping[str, str] = field(default_factory=dict)
    # The lesson ids among `recalls` whose answer is private: it may pick a branch, but
    # it is never shown back (it spoke of crisis or abuse; a lesson's first line shows
    # on the lock screen).
    private: frozenset[str] = frozenset()
    # An evening check-in's notes: what the learner wrote today that answered nothing yet
    # ("hmm, half of it"), shown back so it never asks as if nothing was said.
    notes: tuple[str, ...] = ()
    # The learner takes the course with someone (issue 16): the lesson shows its practice
    # for two, if it has one.
    together: bool = False
    # A weekly review of a linked learner: the partner's first name and their answers to
    # the lessons it looks back at, only those both saw of each other (mutual reveal),
    # so the review can say where the two met and differed.
    partner_name: str = ""
    partner_recalls: Mapping[str, str] = field(default_factory=dict)
    # A pair notice (kind PAIR_NOTE; `delivery_id` is then the notice's id).
    pair_note: PairNote | None = None


@dataclass(frozen=True)
class Outcome:
    """What one send came to, as storage records it for the claim that sent it.

    `unknown` (no reply) is never recorded: the row stays `sending` and its
    lease decides. `blocked` also sets the learner aside.
    """

    status: SendStatus
    at: datetime
    message_id: int | None = None
    reason: str = ""


class ClaimStore(Protocol):
    """The storage side of the daily loop: claim, keep the lease, record (storage.repo.Repo)."""

    async def claim_due(
        self,
        now: datetime,
        course: Sequence[CourseEntry],
        *,
        batch: int = ...,
        lease: timedelta = ...,
        early: timedelta = ...,
        auto_pause_after: int = ...,
    ) -> list[Claim]: ...

    async def renew_leases(self, claims: Sequence[Claim], now: datetime) -> None: ...

    async def release(self, claims: Sequence[Claim]) -> None: ...

    async def record_outcome(self, claim: Claim, outcome: Outcome) -> bool: ...

    async def oldest_due(self, now: datetime) -> datetime | None: ...

    async def due_span(self, now: datetime, early: timedelta) -> DueSpan: ...


def next_entry(
    course: Sequence[CourseEntry], delivered: Iterable[str], start: int = 1
) -> tuple[int, CourseEntry] | None:
    """The learner's place in the course: the first lesson (day, entry) not yet delivered,
    from day `start` on (a learner who joined a partner further along skips the days
    before it, issue 16).

    Found by lesson id, never by a stored index, so inserting, removing or
    reordering lessons in the course files strands nobody: a learner simply
    gets the first lesson they have not had. None when the course is done.
    """
    had = set(delivered)
    for day, entry in enumerate(course, start=1):
        if day >= start and entry.lesson_id not in had:
            return day, entry
    return None
