"""The learner's week through the sandbox over simulated days: the evening check-in (also
across DST nights), "later", streak freezes, and the gentle auto-pause."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.tools.sandbox import Sandbox, SandboxUser
from lessons.loader import Course
from scheduler.states import DueKind
from tests.e2e.harness import Bridges

LATER = ["⏰ In an hour", "🌙 This evening"]


async def _due(bridges: Bridges, learner_id: int) -> tuple[datetime | None, str]:
    assert bridges.repo is not None
    learner = await bridges.repo.get_learner(learner_id)
    assert learner is not None
    return learner.next_due_at, learner.due_kind


def _new(user: SandboxUser, before: int) -> list[str]:
    return [message.text for message in user.inbox[before:]]


async def test_the_check_in_comes_in_the_evening_once_and_counts(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex", language_code="en")
    await bridges.onboard(alex, time="08:00", checkin_time="20:00", first_now=False)
    report = await bridges.next_day_at(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    assert report.sent == 1
    lesson = alex.last
    assert "Day 1 of" in lesson.text and "Check-in" not in lesson.text
    assert "<b>" not in lesson.text and lesson.entities  # HTML, not escaped tags
    assert lesson.button_labels() == LATER
    assert await _due(bridges, 1001) == (datetime(2026, 3, 2, 19, 0, tzinfo=UTC), DueKind.CHECKIN)
    # Free text before the evening question is not taken as its answer.
    before = len(alex.inbox)
    assert (await bridges.next_day_at(datetime(2026, 3, 2, 18, 59, tzinfo=UTC))).claimed == 0
    report = await bridges.next_day_at(datetime(2026, 3, 2, 19, 0, tzinfo=UTC))
    assert report.sent == 1
    checkin = alex.last
    assert "Evening check-in" in checkin.text and "Check-in" in checkin.text
    assert "Day 1 of" not in checkin.text
    assert checkin.button_labels()[0] == "Yes, I sent it"
    assert (await bridges.tick()).claimed == 0  # exactly once
    assert len(alex.inbox) == before + 1
    await bridges.press(alex, "Yes, I sent it")
    assert "1-day streak" in alex.last.text
    assert await _due(bridges, 1001) == (datetime(2026, 3, 3, 7, 0, tzinfo=UTC), DueKind.LESSON)
    await bridges.next_day_at(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))
    assert "Day 2 of" in alex.last.text


async def test_a_spring_forward_night_between_lesson_and_check_in(
    bridges: Bridges, sandbox: Sandbox
):
    # Amsterdam 2026-03-29: 02:00 jumps to 03:00. Lesson 01:30 CET, check-in 02:30 (in the gap).
    bridges.clock.now = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    ana = sandbox.user(1002, "Ana", language_code="en")
    await bridges.onboard(ana, time="01:30", checkin_time="02:30", first_now=False)
    assert await _due(bridges, 1002) == (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), DueKind.LESSON)
    await bridges.next_day_at(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
    assert ana.last.button_labels() == LATER
    # The check-in moves to the gap's end, 03:00 CEST, on the lesson's own day.
    assert await _due(bridges, 1002) == (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), DueKind.CHECKIN)
    await bridges.next_day_at(datetime(2026, 3, 29, 1, 0, tzinfo=UTC))
    assert "Evening check-in" in ana.last.text
    assert await _due(bridges, 1002) == (datetime(2026, 3, 29, 23, 30, tzinfo=UTC), DueKind.LESSON)


async def test_a_fall_back_night_asks_once(bridges: Bridges, sandbox: Sandbox):
    # Amsterdam 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
    bridges.clock.now = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    ben = sandbox.user(1003, "Ben", language_code="en")
    await bridges.onboard(ben, time="01:30", checkin_time="02:30", first_now=False)
    await bridges.next_day_at(datetime(2026, 10, 24, 23, 30, tzinfo=UTC))  # 01:30 CEST
    assert await _due(bridges, 1003) == (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), DueKind.CHECKIN)
    await bridges.next_day_at(datetime(2026, 10, 25, 0, 30, tzinfo=UTC))  # the first 02:30
    before = len(ben.inbox)
    assert "Evening check-in" in ben.last.text
    await bridges.next_day_at(datetime(2026, 10, 25, 1, 30, tzinfo=UTC))  # the second 02:30
    assert len(ben.inbox) == before


async def test_later_sends_the_lesson_again_once_and_it_counts_for_its_day(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex", language_code="en")
    await bridges.onboard(alex, time="08:00", checkin_time="20:00", first_now=False)
    await bridges.next_day_at(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    bridges.clock.now = datetime(2026, 3, 2, 7, 5, tzinfo=UTC)
    delivery = alex.last.buttons[0][0].callback_data.split(":")[2]
    await bridges.press(alex, "⏰ In an hour")
    assert "⏰ Okay, I'll send this lesson again today at 09:05 (in an hour)." in alex.last.text
    assert await _due(bridges, 1001) == (datetime(2026, 3, 2, 8, 5, tzinfo=UTC), DueKind.SNOOZED)
    assert bridges.repo is not None
    again = await bridges.repo.snooze(1001, int(delivery), "e", bridges.clock.now)
    assert again.status == "already"  # at most one snooze a day
    before = len(alex.inbox)
    await bridges.next_day_at(datetime(2026, 3, 2, 8, 5, tzinfo=UTC))
    assert (await bridges.tick()).claimed == 0
    resent = _new(alex, before)
    assert len(resent) == 1 and "Day 1 of" in resent[0] and "Check-in" not in resent[0]
    assert alex.last.buttons == []  # no second "later"
    assert await _due(bridges, 1001) == (datetime(2026, 3, 2, 19, 0, tzinfo=UTC), DueKind.CHECKIN)
    await bridges.next_day_at(datetime(2026, 3, 2, 19, 0, tzinfo=UTC))
    await bridges.press(alex, "Yes, I sent it")
    assert "1-day streak" in alex.last.text
    await bridges.next_day_at(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))
    assert "Day 2 of" in alex.last.text  # the snoozed lesson was day 1's, not a new day


async def test_this_evening_brings_the_lesson_with_its_check_in(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex", language_code="nl")
    await bridges.onboard(alex, time="08:00", checkin_time="20:00", first_now=False)
    await bridges.next_day_at(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    assert alex.last.button_labels() == ["⏰ Over een uur", "🌙 Vanavond"]
    await bridges.press(alex, "🌙 Vanavond")
    assert "20:00" in alex.last.text
    before = len(alex.inbox)
    report = await bridges.next_day_at(datetime(2026, 3, 2, 19, 0, tzinfo=UTC))
    assert report.sent == 1 and report.claimed == 1
    (resent,) = _new(alex, before)
    assert "Dag 1 van" in resent and "Check-in" in resent
    assert alex.last.button_labels()[0] == "Ja, verstuurd"
    assert (await bridges.tick()).claimed == 0
    assert await _due(bridges, 1001) == (datetime(2026, 3, 3, 7, 0, tzinfo=UTC), DueKind.LESSON)


async def test_turning_the_evening_off_sends_the_owed_check_in_now(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex", language_code="en")
    await bridges.onboard(alex, time="08:00", checkin_time="20:00", first_now=False)
    await bridges.next_day_at(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    before = len(alex.inbox)
    await bridges.say(alex, "/reflect 21:30")
    assert len(alex.inbox) == before + 1 and "21:30" in alex.last.text  # one message
    assert await _due(bridges, 1001) == (datetime(2026, 3, 2, 20, 30, tzinfo=UTC), DueKind.CHECKIN)
    await bridges.say(alex, "/reflect off")
    await bridges.tick()
    assert "Evening check-in" in alex.last.text
    await bridges.say(alex, "/reflect 25:00")
    assert "isn't a time I can use" in alex.last.text


async def _a_day(bridges: Bridges, user: SandboxUser, day: int, *, answer: bool) -> None:
    """Day `day` of March at 08:00 Amsterdam: the lesson arrives; answer its first button
    (or in words, when its check-in asks for them)."""
    report = await bridges.next_day_at(datetime(2026, 3, day, 7, 0, tzinfo=UTC))
    assert report.sent == 1, day
    if answer:
        await _answer(bridges, user)


async def _answer(bridges: Bridges, user: SandboxUser) -> None:
    if user.last.buttons:
        await bridges.press(user, user.last.button_labels()[0])
    else:
        await bridges.say(user, "A few words about my day.")


async def test_a_missed_day_uses_a_freeze_and_says_so_the_next_morning(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex", language_code="en")
    await bridges.onboard(alex, time="08:00", first_now=False)
    for day in range(2, 9):
        await _a_day(bridges, alex, day, answer=True)
    assert "7-day streak" in alex.last.text
    await bridges.say(alex, "/progress")
    assert "Streak freezes: 1 of 2" in alex.inbox[-2].text  # the chart comes last
    await _a_day(bridges, alex, 9, answer=False)
    await _a_day(bridges, alex, 10, answer=False)
    lesson = alex.last.text
    assert "a streak freeze kept your 7-day streak safe" in lesson
    assert "<b>" not in lesson and "Day 9 of" in lesson
    await _answer(bridges, alex)
    assert "8-day streak" in alex.last.text
    await bridges.say(alex, "/progress")
    progress = alex.inbox[-2].text
    assert "Current streak: 8" in progress and "Streak freezes: 0 of 2" in progress
    await _a_day(bridges, alex, 11, answer=False)
    await _a_day(bridges, alex, 12, answer=False)
    assert "streak freeze" not in alex.last.text  # none left: the streak breaks quietly


async def test_silence_brings_one_gentle_note_then_silence_until_an_answer(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex", language_code="en")
    await bridges.onboard(alex, time="08:00", first_now=False)
    for day in range(2, 7):  # five lessons, none answered
        await _a_day(bridges, alex, day, answer=False)
    report = await bridges.next_day_at(datetime(2026, 3, 7, 7, 0, tzinfo=UTC))
    assert report.sent == 1
    assert "I haven't heard from you in a while" in alex.last.text
    assert "Day" not in alex.last.text
    for day in (8, 9, 10):
        assert (await bridges.next_day_at(datetime(2026, 3, day, 7, 0, tzinfo=UTC))).claimed == 0
    # Any answer (here the last lesson's check-in, still open) brings the learner back.
    await bridges.press(alex, alex.inbox[-2].button_labels()[0])
    assert "Welcome back! Your lessons continue" in alex.last.text
    await _a_day(bridges, alex, 11, answer=False)
    assert "Day 6 of" in alex.last.text


async def test_resume_after_auto_pause_does_not_pause_again_at_once(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex", language_code="en")
    await bridges.onboard(alex, time="08:00", first_now=False)
    for day in range(2, 8):
        await bridges.next_day_at(datetime(2026, 3, day, 7, 0, tzinfo=UTC))
    assert "haven't heard from you" in alex.last.text
    await bridges.say(alex, "/resume")
    assert "Welcome back" in alex.last.text
    for day in range(9, 13):
        await _a_day(bridges, alex, day, answer=False)
    assert "Day 9 of" in alex.last.text


async def test_progress_draws_the_answers_and_export_sends_the_learners_data(
    bridges: Bridges, sandbox: Sandbox, course: Course
):
    alex = sandbox.user(1001, "Alex", language_code="nl")
    await bridges.onboard(alex, time="08:00", first_now=False)
    await bridges.say(alex, "/progress")
    assert alex.inbox
    assert all(message.photo is None for message in alex.inbox)  # nothing to draw yet
    for day in range(2, 8):  # days 1-6 of the course; days 2 and 5 ask on a scale
        await _a_day(bridges, alex, day, answer=True)
    await bridges.say(alex, "/progress")
    chart = alex.last
    assert chart.photo is not None and chart.photo.data.startswith(b"\x89PNG")
    assert "Je antwoorden op de check-ins" in chart.text
    assert "Huidige reeks: 6" in alex.inbox[-2].text
    await bridges.say(alex, "/export")
    document = alex.last.document
    assert document is not None and document.filename == "bridges-export.json"
    data = json.loads(document.data)
    assert data["settings"]["timezone"] == "Europe/Amsterdam"
    assert data["settings"]["checkin_time"] is None
    assert [delivery["lesson_day"] for delivery in data["deliveries"]] == [1, 2, 3, 4, 5, 6]
    assert all(delivery["answer"] is not None for delivery in data["deliveries"])
    assert data["streaks"] == {"current": 6, "longest": 6, "freezes": 0}
    # Every answer as Ans saw it, in her language: the button's words, the scale's ends.
    first, second = data["deliveries"][0], data["deliveries"][1]
    assert first["title"] and first["answer"]["question"]
    choice = course.lesson("nl", 1).checkin
    assert first["answer"]["as_seen"] == choice.label_for(first["answer"]["value"])
    scale = course.lesson("nl", 2).checkin
    assert second["answer"]["as_seen"] == (
        f"{second['answer']['value']}/5 (1 = {scale.low}, 5 = {scale.high})"
    )
    assert first["answer"]["private"] is False
    assert "Alles wat Bridges over je bewaart" in alex.last.text


async def test_lesson_n_shows_a_had_lesson_and_restart_begins_a_new_round(
    bridges: Bridges, sandbox: Sandbox, course: Course
):
    alex = sandbox.user(1001, "Alex", language_code="en")
    await bridges.onboard(alex, time="08:00")
    await _answer(bridges, alex)
    await bridges.say(alex, "/lesson 1")
    assert "Lesson 1 again" in alex.inbox[-2].text
    assert "Day 1 of" in alex.last.text and alex.last.buttons == []
    await bridges.say(alex, "/lesson 2")
    assert "haven't had lesson 2 yet" in alex.last.text
    await bridges.say(alex, "/lesson 99")
    assert "from 1 to 40" in alex.last.text
    await bridges.say(alex, "/restart")
    assert "still on your way" in alex.last.text
    assert bridges.repo is not None
    # Walk the rest of the course quickly, answering every day.
    for _ in range(course.length - 1):
        learner = await bridges.repo.get_learner(1001)
        assert learner is not None and learner.next_due_at is not None
        await bridges.next_day_at(learner.next_due_at)
        await _answer(bridges, alex)
    # The last answer's reply says the course is complete and how to begin again.
    assert "finished the whole course" in alex.last.text and "/restart" in alex.last.text
    assert "finished the whole course" not in alex.inbox[-3].text  # only after day 40
    learner = await bridges.repo.get_learner(1001)
    assert learner is not None and learner.next_due_at is None
    await bridges.say(alex, "/restart")
    assert "The course begins again" in alex.last.text
    learner = await bridges.repo.get_learner(1001)
    assert learner is not None and learner.next_due_at is not None
    await bridges.next_day_at(learner.next_due_at)
    assert "Day 1 of" in alex.last.text  # round two, from the start
    await _answer(bridges, alex)
    progress = await bridges.repo.progress(1001)
    assert progress is not None
    assert progress.delivered == [course.lessons["en"][0].id]  # this round
    assert progress.answers == course.length + 1  # the history is kept
    await bridges.say(alex, "/lesson 40")
    assert "Lesson 40 again" in alex.inbox[-2].text
