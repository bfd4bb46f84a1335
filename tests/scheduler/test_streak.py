"""Streak rules: consecutive answered lesson days; days without a lesson are neutral."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from scheduler.streak import LessonDay, Streaks, compute_streaks

D0 = date(2026, 3, 2)


def days(*answered: bool, gaps: dict[int, int] | None = None, open_last: bool = False):
    result, day = [], D0
    for index, value in enumerate(answered):
        day += timedelta(days=(gaps or {}).get(index, 1))
        result.append(LessonDay(day, value, open=open_last and index == len(answered) - 1))
    return result


def test_empty_history_has_no_streak():
    assert compute_streaks([]) == Streaks(0, 0)


def test_consecutive_answers_build_a_streak():
    assert compute_streaks(days(True, True, True)) == Streaks(3, 3)


def test_an_unanswered_lesson_breaks_it():
    assert compute_streaks(days(True, True, False, True)) == Streaks(1, 2)


def test_paused_days_are_neutral():
    # Ten days without lessons between the second and the third: still one streak.
    assert compute_streaks(days(True, True, True, gaps={2: 10})) == Streaks(3, 3)


def test_todays_open_checkin_does_not_break_it():
    assert compute_streaks(days(True, True, False, open_last=True)) == Streaks(2, 2)
    assert compute_streaks(days(True, True, False, open_last=False)) == Streaks(0, 2)


def test_two_lessons_on_one_day_count_once():
    history = [LessonDay(D0, True), LessonDay(D0, False), LessonDay(D0 + timedelta(1), True)]
    assert compute_streaks(history) == Streaks(2, 2)


@given(st.lists(st.booleans(), max_size=60))
def test_streak_properties(answered: list[bool]):
    result = compute_streaks(days(*answered))
    assert 0 <= result.current <= result.longest <= sum(answered)
    trailing = len(answered) - len("".join("1" if a else "0" for a in answered).rstrip("1"))
    assert result.current == trailing
