"""The plain values the repository hands out; no session or ORM object leaves storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from scheduler.claims import Claim
from scheduler.states import LearnerStatus, Step
from scheduler.streak import Streaks


@dataclass(frozen=True)
class LearnerView:
    id: int
    first_name: str
    language: str
    timezone: str | None
    daily_time: str | None
    onboarding_step: Step
    status: LearnerStatus
    next_lesson: int  # the day number of the next lesson, for display only
    next_due_at: datetime | None
    paused_since: datetime | None
    paused_until: datetime | None
    checkin_time: str | None = None  # the evening check-in's time; None: with the lesson
    freezes: int = 0  # streak freezes held (filled in by progress)
    auto_paused: bool = False  # paused by silence: any answer brings them back
    due_kind: str = "lesson"  # what `next_due_at` is for (scheduler.states.DueKind)
    in_care: bool = False  # told Bridges of crisis or harm: no streak is shown to them

    def is_paused(self, now: datetime) -> bool:
        return self.paused_since is not None and (
            self.paused_until is None or now < self.paused_until
        )


TodayKind = Literal["new", "again", "sending", "not_ready", "finished", "waiting"]
AnswerStatus = Literal["recorded", "added", "noted", "already", "closed", "unknown"]


@dataclass(frozen=True)
class TodayOutcome:
    """/today's outcome: `new` and `again` carry a claim; `sending`, `not_ready`, `finished` not."""

    kind: TodayKind
    claim: Claim | None = None
    waiting_for: str = ""  # `waiting`: the partner the next lesson waits for (issue 16)


@dataclass(frozen=True)
class AnswerOutcome:
    """`recorded`, `added` (words added to the day's answer), `noted` (kept as a note on
    the day: the answer was full), `already` (answered before), `closed` (a newer lesson
    came, or none is open), `unknown`.

    `resumed`: the answer brought back a learner whom silence had paused.
    `in_care`: the learner told Bridges of crisis or harm (storage/models.py
    `care_since`): the reply shows no streak.
    """

    status: AnswerStatus
    lesson_id: str | None = None
    streaks: Streaks = field(default_factory=lambda: Streaks(0, 0))
    resumed: bool = False
    in_care: bool = False
    early: bool = False  # it came before the evening check-in was asked: not asked now
    # The message whose buttons asked the check-in (its keyboard goes once answered).
    asked_in: int | None = None


@dataclass(frozen=True)
class ButtonCheckin:
    """The newest lesson's check-in when it takes a tap and is open: typed words may
    answer it as the tap would."""

    delivery_id: int
    lesson_id: str
    answered: bool


@dataclass(frozen=True)
class NoteOutcome:
    """Words kept as a note (`kept`: False for a stranger); `resumed`: they ended a pause
    that silence started, as an answer would (the learner is back)."""

    kept: bool
    resumed: bool = False


@dataclass(frozen=True)
class Typed:
    """Words a learner typed for a tap ("yes, I sent it"), and their message: kept beside
    the tap they stood for, so nothing typed is thrown away and an edit finds them."""

    words: str
    message_id: int | None = None


@dataclass(frozen=True)
class SnoozeOutcome:
    """`snoozed` (comes again `until`), `already` (once a day), `closed`, `too_late`, `unknown`."""

    status: str
    until: datetime | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class Progress:
    learner: LearnerView
    delivered: list[str]
    answers: int
    streaks: Streaks
    freezes: int = 0  # streak freezes held now
