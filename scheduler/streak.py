"""Streak rules: consecutive lesson days with an answered check-in.

Only days on which a lesson was delivered count. Days without one (paused,
stopped, the bot down) are neutral: they neither break nor extend a streak.
Today's check-in, while still open, does not break it either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class LessonDay:
    """One delivered lesson: the learner's local day it counts for, and whether it was answered."""

    day: date
    answered: bool
    open: bool = False  # the check-in can still be answered (newest lesson, unanswered)


@dataclass(frozen=True)
class Streaks:
    current: int
    longest: int


def compute_streaks(days: Iterable[LessonDay]) -> Streaks:
    """Current and longest run of answered lesson days, oldest to newest.

    Several lessons on one local day (a learner who changed zone) merge: the
    day counts as answered if any of them was.
    """
    by_day: dict[date, LessonDay] = {}
    for entry in days:
        seen = by_day.get(entry.day)
        if seen is None:
            by_day[entry.day] = entry
        else:
            by_day[entry.day] = LessonDay(
                entry.day, seen.answered or entry.answered, seen.open or entry.open
            )
    ordered = [by_day[key] for key in sorted(by_day)]

    longest = run = 0
    for entry in ordered:
        run = run + 1 if entry.answered else 0
        longest = max(longest, run)

    current = 0
    for position, entry in enumerate(reversed(ordered)):
        if entry.answered:
            current += 1
        elif position == 0 and entry.open:
            continue  # today's check-in is still open: neutral until the next lesson
        else:
            break
    return Streaks(current=current, longest=longest)
