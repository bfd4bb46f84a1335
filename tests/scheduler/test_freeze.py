"""Streak freezes and silence: earned every 7 answered days, at most 2, spent on a missed day."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scheduler.freeze import MAX_FREEZES, apply_freezes
from scheduler.streak import compute_streaks
from tests.scheduler.test_streak import days


def test_no_freeze_before_seven_answered_days():
    week = apply_freezes(days(*[True] * 6, False, True))
    # The missed day broke the run; the seventh answer, after it, earns the first freeze.
    assert (week.current, week.longest, week.freezes, week.frozen) == (1, 6, 1, ())


def test_seven_answered_days_earn_one_that_a_missed_day_uses():
    history = days(*[True] * 7, False, True)
    week = apply_freezes(history)
    assert week.frozen == (history[7].day,)
    assert (week.current, week.longest, week.freezes) == (8, 8, 0)


def test_at_most_two_are_held():
    assert apply_freezes(days(*[True] * 28)).freezes == MAX_FREEZES


def test_todays_open_checkin_uses_no_freeze():
    week = apply_freezes(days(*[True] * 7, False, open_last=True))
    assert (week.current, week.freezes, week.frozen, week.silent) == (7, 1, (), 0)


def test_silence_counts_closed_unanswered_days_frozen_or_not():
    week = apply_freezes(days(*[True] * 7, False, False, False))
    assert week.silent == 3
    assert len(week.frozen) == 1
    assert week.current == 0


answers = st.lists(st.booleans(), max_size=60)


@given(answered=answers, open_last=st.booleans())
def test_freezes_only_ever_lengthen_streaks(answered: list[bool], open_last: bool):
    history = days(*answered, open_last=open_last)
    plain, week = compute_streaks(history), apply_freezes(history)
    assert week.current >= plain.current
    assert week.longest >= plain.longest
    assert 0 <= week.freezes <= MAX_FREEZES
    assert len(week.frozen) <= sum(answered) // 7


@given(answered=answers)
def test_without_answers_nothing_is_earned(answered: list[bool]):
    history = days(*[False] * len(answered))
    week = apply_freezes(history)
    assert week == apply_freezes(history) and week.freezes == 0 and week.current == 0
    assert week.silent == len(answered)
