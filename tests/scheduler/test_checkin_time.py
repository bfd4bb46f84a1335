"""Evening rules: the check-in apart from the lesson, and "later", over DST and odd zones."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.checkin_time import EVENING, HOUR, checkin_at, snooze_until
from scheduler.due import local_date, next_due_at, occurrence_on
from tests.scheduler.test_due import ZONES, daily_times, instants

AMS = "Europe/Amsterdam"


def test_checkin_comes_at_the_checkin_time_of_the_lessons_day():
    lesson = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 in Amsterdam
    at = checkin_at(lesson, local_date(lesson, AMS), time(20, 0), AMS)
    assert at == datetime(2026, 3, 2, 19, 0, tzinfo=UTC)


def test_checkin_goes_with_the_lesson_when_off_or_not_later():
    lesson = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # 21:00 in Amsterdam
    day = local_date(lesson, AMS)
    assert checkin_at(lesson, day, time(20, 0), AMS) is None
    assert checkin_at(lesson, day, None, AMS) is None


def test_checkin_across_the_spring_forward_night():
    # Amsterdam 2026-03-29: 02:00 jumps to 03:00. A 01:30 lesson, check-in in the gap.
    lesson = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 CET
    at = checkin_at(lesson, local_date(lesson, AMS), time(2, 30), AMS)
    assert at == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST, the gap's end


def test_checkin_in_the_fall_back_fold_takes_the_first():
    lesson = datetime(2026, 10, 24, 23, 0, tzinfo=UTC)  # 01:00 CEST on the 25th
    at = checkin_at(lesson, local_date(lesson, AMS), time(2, 30), AMS)
    assert at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 02:30 (CEST)


def test_snooze_an_hour_and_this_evening():
    now = datetime(2026, 3, 2, 7, 5, tzinfo=UTC)
    assert snooze_until(HOUR, now, time(21, 30), AMS) == now + timedelta(hours=1)
    assert snooze_until(EVENING, now, time(21, 30), AMS) == datetime(2026, 3, 2, 20, 30, tzinfo=UTC)
    assert snooze_until(EVENING, now, None, AMS) == datetime(2026, 3, 2, 19, 0, tzinfo=UTC)


def test_snooze_never_reaches_into_tomorrow_or_the_past():
    late = datetime(2026, 3, 2, 22, 30, tzinfo=UTC)  # 23:30 in Amsterdam
    assert snooze_until(HOUR, late, time(20, 0), AMS) is None
    assert snooze_until(EVENING, late, time(20, 0), AMS) is None
    assert snooze_until("x", late, time(20, 0), AMS) is None


@settings(max_examples=300, deadline=None)
@given(now=instants, daily=daily_times, evening=daily_times, zone=st.sampled_from(ZONES))
def test_checkin_is_on_the_lessons_day_after_it_and_before_the_next_lesson(
    now: datetime, daily: time, evening: time, zone: str
):
    day = local_date(now, zone)
    lesson = occurrence_on(day, daily, zone)
    day = local_date(lesson, zone)
    at = checkin_at(lesson, day, evening, zone)
    if at is None:
        assert occurrence_on(day, evening, zone) <= lesson
        return
    assert at > lesson
    assert local_date(at, zone) == day
    assert at < next_due_at(daily, zone, lesson, after_day=day)


@settings(max_examples=300, deadline=None)
@given(now=instants, evening=st.one_of(st.none(), daily_times), zone=st.sampled_from(ZONES))
def test_a_snoozed_lesson_comes_later_the_same_local_day(
    now: datetime, evening: time | None, zone: str
):
    for choice in (HOUR, EVENING):
        until = snooze_until(choice, now, evening, zone)
        if until is not None:
            assert until > now
            assert local_date(until, zone) == local_date(now, zone)
