"""Onboarding as one table: each step's question, how it is answered, and what comes next.

The rows are in order. A step's answer fills one learner setting; the next
step is the first later row whose setting is still missing. The language
comes first and is always asked, although Telegram's guess fills it, so the
learner confirms it. The last row, at `done`, asks the evening check-in
time: it already has its default, so the first lesson never waits for it.

Storage moves a learner along this table (storage/learners.py); the chat bot
asks its questions and takes its answers (bot/chat/handlers/onboarding.py).
No SQL and no Telegram here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scheduler.states import Step


@dataclass(frozen=True)
class OnboardingStep:
    step: Step
    question: str  # the text id that asks it (bot/chat/texts)
    setting: str  # the learner field its answer fills
    typed: bool  # a typed answer is accepted; otherwise only its buttons (or a command)


STEPS: tuple[OnboardingStep, ...] = (
    OnboardingStep(Step.LANGUAGE, "ask-language", "language", typed=False),
    OnboardingStep(Step.TIMEZONE, "ask-timezone", "timezone", typed=True),
    OnboardingStep(Step.TIME, "ask-time", "daily_time", typed=True),
    OnboardingStep(Step.DONE, "ask-checkin-time", "checkin_time", typed=False),
)
BY_STEP = {row.step: row for row in STEPS}


def next_step(missing: Callable[[str], bool]) -> Step:
    """After the language: the first step whose setting is `missing`, or `done`."""
    for row in STEPS[1:-1]:  # the language is asked first anyway; `done` waits for nothing
        if missing(row.setting):
            return row.step
    return Step.DONE
