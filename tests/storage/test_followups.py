"""Follow-ups on both engines: the evening check-in and a snoozed lesson are claimed once,
recorded fenced, resent after a lost lease; silence pauses once and an answer ends it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from scheduler.states import ClaimKind, DueKind
from storage.repo import DEFAULT_LEASE, CourseEntry, Repo
from tests.helpers import COURSE, SettableClock, make_learner, record_failed, record_sent

MORNING = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 in Amsterdam
EVENING = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)  # 20:00 in Amsterdam


def _accept_all(_lesson_id: str, _value: str) -> bool:
    return True


async def _morning(repo: Repo, clock: SettableClock, *, checkin_time: str | None = "20:00") -> int:
    await make_learner(repo, clock.now, checkin_time=checkin_time)
    (claim,) = await repo.claim_due(MORNING, COURSE)
    assert claim.checkin_apart is (checkin_time is not None)
    assert await record_sent(repo, claim, now=MORNING, message_id=1)
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
    assert not await record_sent(repo, stale, now=EVENING, message_id=2)
    assert await record_sent(repo, claims[0], now=EVENING, message_id=2)
    assert not await record_sent(repo, claims[0], now=EVENING, message_id=2)  # once
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
    assert not await record_sent(repo, lost, now=later, message_id=3)  # fenced out
    assert await record_sent(repo, again, now=later, message_id=3)
    assert await repo.claim_due(later + DEFAULT_LEASE * 2, COURSE) == []


async def test_a_lesson_that_failed_has_no_evening_check_in(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now, checkin_time="20:00")
    (claim,) = await repo.claim_due(MORNING, COURSE)
    assert await record_failed(repo, claim, reason="Bad Request")
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
    assert await record_sent(repo, resend, now=soon + timedelta(hours=1), message_id=5)
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
    assert await record_sent(repo, resend, now=EVENING, message_id=6)
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
        assert await record_sent(repo, claim, now=now, message_id=day)
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
    delivery_id = await _morning(repo, clock, checkin_time=None)
    await repo.pause(1001, MORNING)
    outcome = await repo.record_answer(1001, delivery_id, "sent", MORNING, accepts=_accept_all)
    assert outcome.status == "recorded" and not outcome.resumed
    learner = await repo.get_learner(1001)
    assert learner is not None and learner.is_paused(MORNING)


async def test_today_with_an_evening_ahead_leaves_the_check_in_for_the_evening(
    repo: Repo, clock: SettableClock
):
    await make_learner(repo, clock.now, checkin_time="20:00")
    outcome = await repo.deliver_today(1001, MORNING, COURSE)
    assert outcome.kind == "new" and outcome.claim is not None and outcome.claim.checkin_apart
    assert await record_sent(repo, outcome.claim, now=MORNING, message_id=1)
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
    assert await record_failed(repo, lesson, reason="Bad Request")  # day 2's lesson never arrives
    # Day 2's evening finds only day 1's lesson, whose check-in is a day late: not asked.
    assert await repo.claim_due(EVENING + timedelta(days=1), COURSE) == []
    assert await _due(repo) == (tomorrow + timedelta(days=1), DueKind.LESSON)


# The learner's week across downtime, pauses, a lesson still in flight and shutdown.
NEXT_NINE = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # 09:00 in Amsterdam on the next day


async def test_downtime_over_the_evening_and_morning_still_brings_todays_lesson(
    repo: Repo, clock: SettableClock
):
    """Down from 19:00 to 09:00 the next day: yesterday's check-in is not asked a day late,
    and today's lesson, whose time has passed, is due at once rather than tomorrow."""
    await _morning(repo, clock)
    assert await repo.claim_due(NEXT_NINE, COURSE) == []
    assert await _due(repo) == (NEXT_NINE, DueKind.LESSON)
    (claim,) = await repo.claim_due(NEXT_NINE, COURSE)
    assert (claim.kind, claim.local_date) == (ClaimKind.LESSON, NEXT_NINE.date())


async def test_a_snoozed_lesson_is_not_resent_the_next_day_after_downtime(
    repo: Repo, clock: SettableClock
):
    delivery_id = await _morning(repo, clock)
    assert (await repo.snooze(1001, delivery_id, "h", MORNING + timedelta(hours=2))).status == (
        "snoozed"
    )
    assert await repo.claim_due(NEXT_NINE, COURSE) == []
    (claim,) = await repo.claim_due(NEXT_NINE, COURSE)
    assert (claim.kind, claim.local_date) == (ClaimKind.LESSON, NEXT_NINE.date())
    assert claim.delivery_id != delivery_id


async def test_a_lesson_failed_today_is_not_retried_by_its_evening(
    repo: Repo, clock: SettableClock
):
    """Yesterday's check-in is stale and today's lesson failed: next is tomorrow's lesson."""
    await _morning(repo, clock)
    (checkin,) = await repo.claim_due(EVENING, COURSE)
    assert await record_sent(repo, checkin, now=EVENING, message_id=2)
    (claim,) = await repo.claim_due(NEXT_NINE - timedelta(hours=1), COURSE)
    assert await record_failed(repo, claim, reason="Bad Request")
    assert await repo.claim_due(EVENING + timedelta(days=1), COURSE) == []
    assert await _due(repo) == (NEXT_NINE + timedelta(days=1) - timedelta(hours=1), "lesson")


async def test_pause_and_resume_the_next_day_does_not_resend_yesterdays_snooze(
    repo: Repo, clock: SettableClock
):
    delivery_id = await _morning(repo, clock)
    snoozed_at = MORNING + timedelta(hours=2)
    assert (await repo.snooze(1001, delivery_id, "h", snoozed_at)).status == "snoozed"
    await repo.pause(1001, snoozed_at + timedelta(minutes=10))
    resumed, _ = await repo.resume(1001, NEXT_NINE)
    assert resumed is not None and resumed.due_kind == DueKind.LESSON
    assert not [c for c in await repo.claim_due(NEXT_NINE, COURSE) if c.kind != ClaimKind.LESSON]


async def test_a_lesson_still_sending_at_the_evening_keeps_its_check_in(
    repo: Repo, clock: SettableClock
):
    """The lesson's reply is lost (row `sending`) when its evening comes: the check-in
    waits a lease for the lesson to settle, and is asked once the lesson has arrived."""
    await make_learner(repo, clock.now, daily_time="19:59", checkin_time="20:00")
    lesson_at = datetime(2026, 3, 2, 18, 59, 30, tzinfo=UTC)
    (claim,) = await repo.claim_due(lesson_at, COURSE)
    assert claim.checkin_apart
    assert await repo.claim_due(EVENING, COURSE) == []
    assert await _due(repo) == (EVENING + DEFAULT_LEASE, DueKind.CHECKIN)
    later = lesson_at + DEFAULT_LEASE + timedelta(seconds=1)
    (again,) = await repo.claim_due(later, COURSE)
    assert again.resend and again.checkin_apart
    assert await record_sent(repo, again, now=later, message_id=5)
    (checkin,) = await repo.claim_due(later + timedelta(minutes=5), COURSE)
    assert (checkin.kind, checkin.delivery_id) == (ClaimKind.CHECKIN, claim.delivery_id)


async def test_a_settings_change_while_the_lesson_is_sending_keeps_its_check_in(
    repo: Repo, clock: SettableClock
):
    await make_learner(repo, clock.now, checkin_time="20:00")
    (claim,) = await repo.claim_due(MORNING, COURSE)  # its reply is lost: still `sending`
    learner = await repo.set_checkin_time(1001, "21:00", MORNING + timedelta(minutes=5))
    assert learner is not None
    assert (learner.next_due_at, learner.due_kind) == (EVENING + timedelta(hours=1), "checkin")


async def test_today_while_paused_sends_the_check_in_with_the_lesson(
    repo: Repo, clock: SettableClock
):
    """Paused, nothing comes this evening: the check-in is not promised for "tonight"."""
    await make_learner(repo, clock.now, checkin_time="20:00")
    await repo.pause(1001, MORNING - timedelta(hours=1))
    outcome = await repo.deliver_today(1001, MORNING, COURSE)
    assert outcome.kind == "new" and outcome.claim is not None
    assert not outcome.claim.checkin_apart
    assert await record_sent(repo, outcome.claim, now=MORNING, message_id=1)
    answer = await repo.record_answer(
        1001, outcome.claim.delivery_id, "x", MORNING + timedelta(hours=1), accepts=_accept_all
    )
    assert answer.status == "recorded"  # asked with the lesson, so answered now
    assert await _due(repo) == (None, DueKind.LESSON)


async def test_moving_the_evening_to_a_time_already_past_asks_the_check_in_now(
    repo: Repo, clock: SettableClock
):
    await _morning(repo, clock, checkin_time="21:00")
    at = datetime(2026, 3, 2, 19, 30, tzinfo=UTC)  # 20:30: the check-in is owed at 21:00
    learner = await repo.set_checkin_time(1001, "20:00", at)
    assert learner is not None and (learner.next_due_at, learner.due_kind) == (at, "checkin")
    (claim,) = await repo.claim_due(at, COURSE)
    assert claim.kind == ClaimKind.CHECKIN


async def test_release_hands_back_follow_ups_through_their_own_columns(
    repo: Repo, clock: SettableClock
):
    """SIGTERM before the check-in went out: the next tick sends it at once, fenced anew."""
    await _morning(repo, clock)
    (held,) = await repo.claim_due(EVENING, COURSE)
    await repo.release([held])
    (again,) = await repo.claim_due(EVENING + timedelta(seconds=1), COURSE)
    assert (again.kind, again.delivery_id) == (ClaimKind.CHECKIN, held.delivery_id)
    assert again.attempt == held.attempt + 1
    assert not await record_sent(repo, held, now=EVENING, message_id=2)
    assert await record_sent(repo, again, now=EVENING, message_id=2)


async def test_release_hands_back_a_snoozed_lesson(repo: Repo, clock: SettableClock):
    delivery_id = await _morning(repo, clock)
    hour_later = MORNING + timedelta(hours=2)
    assert (await repo.snooze(1001, delivery_id, "h", hour_later)).status == "snoozed"
    (held,) = await repo.claim_due(hour_later + timedelta(hours=1), COURSE)
    assert held.kind == ClaimKind.SNOOZED
    await repo.release([held])
    (again,) = await repo.claim_due(hour_later + timedelta(hours=1, seconds=1), COURSE)
    assert (again.kind, again.delivery_id, again.attempt) == (
        ClaimKind.SNOOZED,
        delivery_id,
        held.attempt + 1,
    )
