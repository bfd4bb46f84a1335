"""Follow-ups on both engines: the evening check-in and a snoozed lesson are claimed once,
recorded fenced, resent after a lost lease; silence pauses once and an answer ends it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from scheduler.states import ClaimKind, DueKind
from storage.repo import DEFAULT_LEASE, CourseEntry, Repo
from tests.helpers import COURSE, SettableClock, make_learner

MORNING = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 in Amsterdam
EVENING = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)  # 20:00 in Amsterdam


def _accept_all(_lesson_id: str, _value: str) -> bool:
    return True


async def _morning(repo: Repo, clock: SettableClock, *, reflection: str | None = "20:00") -> int:
    await make_learner(repo, clock.now, reflection_time=reflection)
    (claim,) = await repo.claim_due(MORNING, COURSE)
    assert claim.checkin_apart is (reflection is not None)
    assert await repo.mark_sent(claim, now=MORNING, message_id=1, course_length=len(COURSE))
    return claim.delivery_id


async def _due(repo: Repo) -> tuple[datetime | None, str]:
    learner = await repo.get_learner(1001)
    assert learner is not None
    return learner.next_due_at, learner.due_kind


async def test_the_evening_check_in_is_claimed_once_and_recorded_fenced(
    repo: Repo, clock: SettableClock
):
    delivery_id = await _morning(repo, clock)
    assert await _due(repo) == (EVENING, DueKind.CHECKIN)
    # Not yet asked: a typed answer is not taken for it.
    assert (await repo.record_text_answer(1001, "hm", MORNING)).status == "closed"
    first, second = await asyncio.gather(
        repo.claim_due(EVENING, COURSE), repo.claim_due(EVENING, COURSE)
    )
    claims = first + second
    assert [(claim.kind, claim.delivery_id, claim.attempt) for claim in claims] == [
        (ClaimKind.CHECKIN, delivery_id, 1)
    ]
    assert await _due(repo) == (datetime(2026, 3, 3, 7, 0, tzinfo=UTC), DueKind.LESSON)
    stale = replace(claims[0], attempt=0)
    assert not await repo.mark_followup(stale, now=EVENING, message_id=2)
    assert await repo.mark_followup(claims[0], now=EVENING, message_id=2)
    assert not await repo.mark_followup(claims[0], now=EVENING, message_id=2)  # once
    outcome = await repo.record_answer(1001, delivery_id, "sent", EVENING, accepts=_accept_all)
    assert outcome.status == "recorded" and outcome.streaks.current == 1


async def test_a_lost_check_in_is_sent_once_more_under_a_new_attempt(
    repo: Repo, clock: SettableClock
):
    await _morning(repo, clock)
    (lost,) = await repo.claim_due(EVENING, COURSE)
    later = EVENING + DEFAULT_LEASE + timedelta(seconds=1)
    (again,) = await repo.claim_due(later, COURSE)
    assert (again.kind, again.delivery_id, again.attempt) == (
        ClaimKind.CHECKIN,
        lost.delivery_id,
        2,
    )
    assert not await repo.mark_followup(lost, now=later, message_id=3)  # fenced out
    assert await repo.mark_followup(again, now=later, message_id=3)
    assert await repo.claim_due(later + DEFAULT_LEASE * 2, COURSE) == []


async def test_a_lesson_that_failed_has_no_evening_check_in(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now, reflection_time="20:00")
    (claim,) = await repo.claim_due(MORNING, COURSE)
    assert await repo.mark_failed(claim, reason="Bad Request")
    assert await repo.claim_due(EVENING, COURSE) == []
    assert await _due(repo) == (datetime(2026, 3, 3, 7, 0, tzinfo=UTC), DueKind.LESSON)


async def test_a_snoozed_lesson_comes_once_then_the_evening_check_in(
    repo: Repo, clock: SettableClock
):
    delivery_id = await _morning(repo, clock)
    soon = MORNING + timedelta(minutes=5)
    outcome = await repo.snooze(1001, delivery_id, "h", soon)
    assert (outcome.status, outcome.until) == ("snoozed", soon + timedelta(hours=1))
    assert (await repo.snooze(1001, delivery_id, "e", soon)).status == "already"
    assert (await repo.snooze(1001, delivery_id + 1, "h", soon)).status == "closed"
    assert await _due(repo) == (soon + timedelta(hours=1), DueKind.SNOOZED)
    (resend,) = await repo.claim_due(soon + timedelta(hours=1), COURSE)
    assert (resend.kind, resend.delivery_id, resend.checkin_apart) == (
        ClaimKind.SNOOZED,
        delivery_id,
        True,
    )
    assert await repo.mark_followup(resend, now=soon + timedelta(hours=1), message_id=5)
    assert await _due(repo) == (EVENING, DueKind.CHECKIN)
    (checkin,) = await repo.claim_due(EVENING, COURSE)
    assert checkin.kind == ClaimKind.CHECKIN


async def test_snoozed_until_the_evening_the_lesson_brings_its_check_in(
    repo: Repo, clock: SettableClock
):
    delivery_id = await _morning(repo, clock)
    assert (await repo.snooze(1001, delivery_id, "e", MORNING)).until == EVENING
    (resend,) = await repo.claim_due(EVENING, COURSE)
    assert (resend.kind, resend.checkin_apart) == (ClaimKind.SNOOZED, False)
    assert await repo.mark_followup(resend, now=EVENING, message_id=6)
    assert await repo.claim_due(EVENING + timedelta(minutes=1), COURSE) == []
    outcome = await repo.record_answer(1001, delivery_id, "sent", EVENING, accepts=_accept_all)
    assert outcome.status == "recorded"  # the check-in came with the snoozed lesson
    assert await _due(repo) == (datetime(2026, 3, 3, 7, 0, tzinfo=UTC), DueKind.LESSON)


async def test_too_late_to_snooze(repo: Repo, clock: SettableClock):
    delivery_id = await _morning(repo, clock)
    late = datetime(2026, 3, 2, 22, 30, tzinfo=UTC)  # 23:30 in Amsterdam
    assert (await repo.snooze(1001, delivery_id, "h", late)).status == "too_late"


async def test_silence_pauses_once_and_an_answer_ends_it(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    course = COURSE + [CourseEntry(f"extra-{i}", "choice") for i in range(6)]
    last = 0
    for day in range(5):
        now = MORNING + timedelta(days=day)
        (claim,) = await repo.claim_due(now, course, auto_pause_after=5)
        assert await repo.mark_sent(claim, now=now, message_id=day, course_length=len(course))
        last = claim.delivery_id
    sixth = MORNING + timedelta(days=5)
    (note,) = await repo.claim_due(sixth, course, auto_pause_after=5)
    assert note.kind == ClaimKind.PAUSE_NOTE
    learner = await repo.get_learner(1001)
    assert learner is not None and learner.auto_paused and learner.next_due_at is None
    assert await repo.claim_due(sixth + timedelta(days=1), course, auto_pause_after=5) == []
    outcome = await repo.record_answer(1001, last, "x", sixth, accepts=_accept_all)
    assert outcome.resumed
    learner = await repo.get_learner(1001)
    assert learner is not None and not learner.auto_paused
    assert learner.next_due_at == sixth + timedelta(days=1)
    (lesson,) = await repo.claim_due(sixth + timedelta(days=1), course, auto_pause_after=5)
    assert lesson.kind == ClaimKind.LESSON and lesson.lesson_day == 6


async def test_a_chosen_pause_is_not_ended_by_an_answer(repo: Repo, clock: SettableClock):
    delivery_id = await _morning(repo, clock, reflection=None)
    await repo.pause(1001, MORNING)
    outcome = await repo.record_answer(1001, delivery_id, "sent", MORNING, accepts=_accept_all)
    assert outcome.status == "recorded" and not outcome.resumed
    learner = await repo.get_learner(1001)
    assert learner is not None and learner.is_paused(MORNING)


async def test_today_with_an_evening_ahead_leaves_the_check_in_for_the_evening(
    repo: Repo, clock: SettableClock
):
    await make_learner(repo, clock.now, reflection_time="20:00")
    outcome = await repo.deliver_today(1001, MORNING, COURSE)
    assert outcome.kind == "new" and outcome.claim is not None and outcome.claim.checkin_apart
    assert await repo.mark_sent(outcome.claim, now=MORNING, message_id=1, course_length=4)
    assert await _due(repo) == (EVENING, DueKind.CHECKIN)
    # A pause keeps it from coming; resuming the same day brings it back.
    await repo.pause(1001, MORNING)
    assert await _due(repo) == (None, DueKind.LESSON)
    await repo.resume(1001, MORNING)
    assert await _due(repo) == (EVENING, DueKind.CHECKIN)
    late = datetime(2026, 3, 2, 21, 0, tzinfo=UTC)
    outcome = await repo.deliver_today(1001, late, COURSE)
    assert outcome.kind == "again"


async def test_an_old_check_in_is_never_asked_a_day_late(repo: Repo, clock: SettableClock):
    await _morning(repo, clock)
    await repo.pause(1001, MORNING + timedelta(hours=1))  # day 1's evening passes unasked
    tomorrow = MORNING + timedelta(days=1)
    await repo.resume(1001, tomorrow - timedelta(minutes=1))
    assert await _due(repo) == (tomorrow, DueKind.LESSON)
    (lesson,) = await repo.claim_due(tomorrow, COURSE)
    assert await repo.mark_failed(lesson, reason="Bad Request")  # day 2's lesson never arrives
    # Day 2's evening finds only day 1's lesson, whose check-in is a day late: not asked.
    assert await repo.claim_due(EVENING + timedelta(days=1), COURSE) == []
    assert await _due(repo) == (tomorrow + timedelta(days=1), DueKind.LESSON)
