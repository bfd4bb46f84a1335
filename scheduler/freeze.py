"""Streak freezes and silence: rules over lesson days, pure like scheduler/streak.py.

A learner earns a freeze for every 7th answered lesson day and holds at most
2. A lesson day that closed unanswered uses one if the learner holds any: the
streak goes on over it instead of breaking. Silence is the run of most recent
lesson days that closed unanswered (frozen or not); after enough of it
auto-pause sends one note and stops the lessons until the learner is back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from scheduler.streak import LessonDay

EARN_EVERY = 7
MAX_FREEZES = 2
# Lessons in a row without an answer before auto-pause (BRIDGES_AUTO_PAUSE_AFTER).
AUTO_PAUSE_AFTER = 5


@dataclass(frozen=True)
class Week:
    """Streaks with freezes applied, the freezes held now, and the days a freeze saved."""

    current: int
    longest: int
    freezes: int
    frozen: tuple[date, ...] = field(default_factory=tuple)
    silent: int = 0  # most recent lesson days in a row that closed unanswered


def _by_day(days: Iterable[LessonDay]) -> list[LessonDay]:
    """One entry per local day, oldest first (several lessons on a day merge, as in streak.py)."""
    merged: dict[date, LessonDay] = {}
    for entry in days:
        seen = merged.get(entry.day)
        merged[entry.day] = (
            entry
            if seen is None
            else LessonDay(entry.day, seen.answered or entry.answered, seen.open or entry.open)
        )
    return [merged[key] for key in sorted(merged)]


def apply_freezes(
    days: Iterable[LessonDay], *, earn_every: int = EARN_EVERY, most: int = MAX_FREEZES
) -> Week:
    """Walk the lesson days oldest to newest, earning and spending freezes as they come.

    An open check-in (today's, unanswered) is neutral: it neither breaks the
    streak nor uses a freeze until the next lesson closes it.
    """
    held = answered = run = longest = silent = 0
    frozen: list[date] = []
    for entry in _by_day(days):
        if entry.answered:
            run += 1
            answered += 1
            silent = 0
            if answered % earn_every == 0:
                held = min(most, held + 1)
        elif entry.open:
            continue
        else:
            silent += 1
            if held > 0:
                held -= 1
                frozen.append(entry.day)
            else:
                run = 0
        longest = max(longest, run)
    return Week(current=run, longest=longest, freezes=held, frozen=tuple(frozen), silent=silent)
