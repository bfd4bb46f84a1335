"""The repository: every read and write of Bridges' data, each one short transaction.

Handlers and the tick call `Repo` and get plain dataclasses back (storage.views,
scheduler.claims); no session, query or ORM object leaves storage. Times are
aware UTC instants passed in by the caller (the injected clock), never read
here. The work is split along its seams, one module each:

    storage/learners.py    enrol, settings, pause, stop, block, delete
    storage/deliveries.py  claim due learners, record outcomes (fenced), /today
    storage/answers.py     check-in answers, streaks, progress
    storage/followups.py   the evening check-in, snoozed lessons, auto-pause
    storage/history.py     the learner's own history: chart points and /export
"""

from __future__ import annotations

from scheduler.claims import DEFAULT_LEASE, Claim, CourseEntry
from storage.answers import MAX_ANSWER_LENGTH, AnswerStore
from storage.deliveries import MAX_RESENDS, DeliveryStore
from storage.history import HistoryStore, ScalePoint
from storage.learners import LearnerStore
from storage.views import AnswerOutcome, LearnerView, Progress, TodayOutcome

__all__ = [
    "DEFAULT_LEASE",
    "MAX_ANSWER_LENGTH",
    "MAX_RESENDS",
    "AnswerOutcome",
    "Claim",
    "CourseEntry",
    "LearnerView",
    "Progress",
    "Repo",
    "ScalePoint",
    "TodayOutcome",
]


class Repo(LearnerStore, DeliveryStore, AnswerStore, HistoryStore):
    """Bridges' storage, built on one engine; safe to share across tasks."""
