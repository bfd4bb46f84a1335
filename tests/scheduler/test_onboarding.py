"""Onboarding as one table: its order, what comes next, and that every layer covers every row."""

from __future__ import annotations

from scheduler.onboarding import BY_STEP, STEPS, next_step
from scheduler.states import Step


def test_the_steps_run_language_zone_time_then_done():
    assert [row.step for row in STEPS] == [Step.LANGUAGE, Step.TIMEZONE, Step.TIME, Step.DONE]
    assert set(BY_STEP) == set(Step)
    assert [row.step for row in STEPS if row.typed] == [Step.TIMEZONE, Step.TIME]


def test_next_is_the_first_missing_setting_after_the_language():
    assert next_step(lambda setting: True) == Step.TIMEZONE
    assert next_step(lambda setting: setting == "daily_time") == Step.TIME
    assert next_step(lambda setting: setting == "timezone") == Step.TIMEZONE
    # The check-in time never holds up the first lesson, even when it is off (None).
    assert next_step(lambda setting: setting in ("language", "checkin_time")) == Step.DONE


def test_every_setting_is_a_learner_column_and_every_question_a_text():
    from bot.chat.texts import LANGUAGES, texts
    from storage.models import Learner

    for row in STEPS:
        assert row.setting in Learner.model_fields
        for language in LANGUAGES:
            assert texts().get(language, row.question, time="20:00", note=None).strip()


def test_the_chat_bot_asks_and_takes_every_step():
    from bot.chat.handlers.onboarding import BUTTONS, TYPED

    assert set(BUTTONS) == {row.step for row in STEPS} - {Step.DONE}
    assert set(TYPED) == {row.step for row in STEPS if row.typed}
