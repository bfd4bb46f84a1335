"""What a claim is, and what the tick needs from storage to make and record one.

The tick (scheduler/tick.py) works against `DeliveryStore`, a protocol that
storage implements; so `scheduler` never imports `storage`, and `storage` may
use the pure rules beside this module (due.py, streak.py) without a loop
between the two packages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from scheduler.states import ClaimKind

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
    """What storage needs to know of a lesson: its id and its check-in kind, in course order."""

    lesson_id: str
    checkin_kind: str


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


class DeliveryStore(Protocol):
    """The storage side of the daily loop (implemented by storage.repo.Repo)."""

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

    async def mark_sent(
        self, claim: Claim, *, now: datetime, message_id: int, course_length: int
    ) -> bool: ...

    async def mark_failed(self, claim: Claim, *, reason: str, blocked: bool = False) -> bool: ...

    async def mark_followup(
        self, claim: Claim, *, now: datetime, message_id: int | None, failure: str = ""
    ) -> bool: ...

    async def recalled_answer(self, learner_id: int, lesson_id: str) -> str | None: ...

    async def oldest_due(self, now: datetime) -> datetime | None: ...

    async def due_span(self, now: datetime, early: timedelta) -> DueSpan: ...


def next_entry(
    course: Sequence[CourseEntry], delivered: Iterable[str]
) -> tuple[int, CourseEntry] | None:
    """The learner's place in the course: the first lesson (day, entry) not yet delivered.

    Found by lesson id, never by a stored index, so inserting, removing or
    reordering lessons in the course files strands nobody: a learner simply
    gets the first lesson they have not had. None when the course is done.
    """
    had = set(delivered)
    for day, entry in enumerate(course, start=1):
        if entry.lesson_id not in had:
            return day, entry
    return None
