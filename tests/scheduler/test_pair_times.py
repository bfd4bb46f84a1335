"""When a pair notice reaches its reader: their evening, never a moment that says when
the partner acted (scheduler/pair_times.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.pair_times import KEEP_GRACE, ended_at, reveal_at

ZONE = "Europe/Amsterdam"  # UTC+1 in March: 20:00 there is 19:00 UTC
MORNING = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
TONIGHT = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
TOMORROW_NIGHT = TONIGHT + timedelta(days=1)


def test_a_reveal_waits_for_the_readers_evening_whoever_answered_last():
    for answered_now in (True, False):
        assert reveal_at(MORNING, ZONE, None, answered_now=answered_now) == TONIGHT
    assert reveal_at(MORNING, ZONE, "21:30", answered_now=False) == TONIGHT.replace(
        hour=20, minute=30
    )


def test_after_the_evening_the_one_who_just_answered_sees_it_soon_the_other_tomorrow():
    late = TONIGHT + timedelta(hours=2)
    assert reveal_at(late, ZONE, None, answered_now=True) == late + KEEP_GRACE
    assert reveal_at(late, ZONE, None, answered_now=False) == TOMORROW_NIGHT


def test_minutes_before_the_evening_the_other_waits_a_day_and_the_grace_holds():
    # Shown at 20:05 after Sam answered at 19:55, it would say when Sam answered.
    close = TONIGHT - timedelta(minutes=5)
    assert reveal_at(close, ZONE, None, answered_now=False) == TOMORROW_NIGHT
    assert reveal_at(close, ZONE, None, answered_now=True) == close + KEEP_GRACE
    early_enough = TONIGHT - KEEP_GRACE
    assert reveal_at(early_enough, ZONE, None, answered_now=False) == TONIGHT


def test_the_end_of_a_link_comes_at_the_next_lesson_or_evening():
    assert ended_at(MORNING + timedelta(hours=1), ZONE, "08:00", None) == TONIGHT
    assert ended_at(TONIGHT + timedelta(hours=1), ZONE, "08:00", None) == MORNING + timedelta(
        days=1
    )
    assert ended_at(MORNING, None, None, None) == MORNING  # no zone yet: at once
