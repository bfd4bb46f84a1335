"""One lease for every kind: reclaim, renew, release and the fenced record, on both engines;
the recalled answers travel with the claim; the lease columns are written in one module."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.claims import Claim, Outcome
from scheduler.states import ClaimKind, SendStatus
from storage.repo import DEFAULT_LEASE, CourseEntry, Repo
from tests.helpers import COURSE, SettableClock, make_learner, record_sent

ROOT = Path(__file__).parent.parent.parent
MORNING = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 in Amsterdam
EVENING = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)  # 20:00 in Amsterdam
LEASE_COLUMNS = (
    "state",
    "attempts",
    "claimed_at",
    "resends",
    "checkin_state",
    "checkin_attempts",
    "snooze_state",
    "snooze_attempts",
    "followup_claimed_at",
)


def _writes(source: str) -> list[str]:
    """Assignments to a lease column: `row.col = ...`, `col=...` in a call, `"col": ...`."""
    names = "|".join(LEASE_COLUMNS)
    pattern = re.compile(
        rf"\.({names})\s*(?:[+-]?=)(?!=)|\b({names})=(?!=)|[\"']({names})[\"']\s*:"
    )
    return [match.group(0) for match in pattern.finditer(source)]


def test_the_lease_columns_are_written_in_one_module_only():
    writers = {
        str(path.relative_to(ROOT)): _writes(path.read_text(encoding="utf-8"))
        for package in ("bot", "scheduler", "storage")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    assert writers["storage/lease.py"], "the lease module writes the lease columns"
    # Fields of values read off the rows, not writes: /export's "state", the bench report's sum.
    reads = {"storage/history.py": ['"state":'], "storage/seed.py": ["resends="]}
    # A pair notice is a row of its own with a lease of the same shape, kept by its module.
    lease_modules = {"storage/lease.py", "storage/notices.py"}
    offenders = {
        path: found
        for path, found in writers.items()
        if found and path not in lease_modules and reads.get(path) != found
    }
    assert offenders == {}


async def _taken_over(repo: Repo, clock: SettableClock, kind: ClaimKind) -> tuple[Claim, Claim]:
    """A claim of `kind` whose lease ran out, and the claim that took its row over."""
    checkin_time = "20:00" if kind == ClaimKind.CHECKIN else None
    await make_learner(repo, clock.now, checkin_time=checkin_time)
    at = MORNING
    if kind != ClaimKind.LESSON:
        (lesson,) = await repo.claim_due(MORNING, COURSE)
        assert await record_sent(repo, lesson, now=MORNING, message_id=1)
        at = EVENING
        if kind == ClaimKind.SNOOZED:
            assert (await repo.snooze(1001, lesson.delivery_id, "h", MORNING)).status == ("snoozed")
            at = MORNING + timedelta(hours=1)
    (old,) = await repo.claim_due(at, COURSE)
    assert old.kind == kind
    (new,) = await repo.claim_due(at + DEFAULT_LEASE + timedelta(seconds=1), COURSE)
    assert new.kind == kind and new.resend and new.attempt == old.attempt + 1
    return old, new


@pytest.mark.parametrize("kind", [ClaimKind.LESSON, ClaimKind.CHECKIN, ClaimKind.SNOOZED])
async def test_every_kind_is_fenced_by_its_attempt(
    repo: Repo, clock: SettableClock, kind: ClaimKind
):
    old, new = await _taken_over(repo, clock, kind)
    refused = Outcome(SendStatus.FAILED, EVENING, reason="late")
    assert not await repo.record_outcome(old, refused)  # the stale holder records nothing
    assert await repo.record_outcome(new, Outcome(SendStatus.SENT, EVENING, 7))
    assert not await repo.record_outcome(new, Outcome(SendStatus.SENT, EVENING, 7))  # once


@pytest.mark.parametrize("kind", [ClaimKind.LESSON, ClaimKind.CHECKIN, ClaimKind.SNOOZED])
async def test_every_kind_renews_and_releases_through_one_lease(
    repo: Repo, clock: SettableClock, kind: ClaimKind
):
    old, new = await _taken_over(repo, clock, kind)
    renewed = EVENING + timedelta(hours=2)
    await repo.renew_leases([old], renewed)  # fenced: the stale claim renews nothing
    await repo.renew_leases([new], renewed)
    assert await repo.claim_due(renewed + DEFAULT_LEASE - timedelta(seconds=1), COURSE) == []
    await repo.release([new])  # handed back: any tick takes it at once, same day
    (again,) = await repo.claim_due(renewed, COURSE)
    assert again.kind == kind and again.attempt == new.attempt + 1


async def test_a_blocked_follow_up_sets_the_learner_aside(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now, checkin_time="20:00")
    (lesson,) = await repo.claim_due(MORNING, COURSE)
    assert await record_sent(repo, lesson, now=MORNING, message_id=1)
    (checkin,) = await repo.claim_due(EVENING, COURSE)
    blocked = Outcome(SendStatus.BLOCKED, EVENING, reason="Forbidden: bot was blocked")
    assert await repo.record_outcome(checkin, blocked)
    learner = await repo.get_learner(1001)
    assert learner is not None and learner.status == "blocked" and learner.next_due_at is None


async def test_the_claim_carries_the_answers_its_lesson_recalls(repo: Repo, clock: SettableClock):
    course = [
        CourseEntry("empathy-2", "text"),
        CourseEntry("empathy-3", "choice"),
        CourseEntry("review-1", "choice", looks_back=("empathy-2", "empathy-3")),
    ]
    await make_learner(repo, clock.now)
    day = MORNING
    (first,) = await repo.claim_due(day, course)
    assert first.recalls == {}
    assert await record_sent(repo, first, now=day, message_id=1)
    assert (await repo.record_text_answer(1001, "I <listened> & waited", day)).status == (
        "recorded"
    )
    day += timedelta(days=1)
    (second,) = await repo.claim_due(day, course)
    assert await record_sent(repo, second, now=day, message_id=2)  # left unanswered
    day += timedelta(days=1)
    (review,) = await repo.claim_due(day, course)
    assert review.lesson_id == "review-1"
    assert review.recalls == {"empathy-2": "I <listened> & waited"}  # the missing one left out
