"""The daily loop end to end: lessons at local time, answers, streaks, pause, stop, delete."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.tools.sandbox import Sandbox
from tests.e2e.harness import Bridges

# The clock fixture starts at 2026-03-02 06:00 UTC (07:00 in Amsterdam, 01:00 in New York).
NL_LATER = "Op de gekozen tijd is prima"
DAY2_0800_AMS = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)


async def test_lesson_answer_streak_next_day(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex, time="08:00")
    await bridges.press(alex, "Not yet")
    assert "Your answer: Not yet" in alex.last.text
    assert "🔥 1-day streak" in alex.last.text
    # Pressing the same (now answered) button again: a kind word, no double count.
    checkin = next(m for m in reversed(alex.inbox) if "Check-in" in m.text)
    alex.press_data("v1:a:1:not-yet", message_id=checkin.message_id)
    await bridges.settle()
    assert alex.callback_answers[-1].text == "You already answered this one. 🙂"

    # The same day's tick sends nothing more: today's lesson is out.
    report = await bridges.next_day_at(datetime(2026, 3, 2, 7, 0, 1, tzinfo=UTC))
    assert report.claimed == 0
    report = await bridges.next_day_at(DAY2_0800_AMS)
    assert report.sent == 1
    assert "Day 2 of" in alex.inbox[-1].text
    await bridges.press(alex, "4")
    assert "🔥 2-day streak" in alex.last.text

    await bridges.say(alex, "/progress")
    progress = alex.inbox[-2].text  # then the chart of the scale answer
    assert alex.last.photo is not None
    assert "Lesson 2 of 40" in progress
    assert "Empathy: 1/6" in progress
    assert "Current streak: 2 · longest: 2" in progress
    assert "Answers given: 2" in progress


async def test_today_twice_resends_without_counting(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex, first_now=False)
    await bridges.say(alex, "/today")
    first = alex.last.text
    await bridges.say(alex, "/today")
    assert "today's lesson again" in alex.inbox[-2].text
    assert alex.last.text == first
    assert len(sandbox.calls("sendMessage")) == len(alex.inbox)
    await bridges.say(alex, "/progress")
    assert "Lesson 1 of 40" in alex.last.text


async def test_free_text_answers_a_text_checkin_and_hints_otherwise(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    await bridges.say(alex, "just chatting")
    assert "I couldn't tell which answer" in alex.last.text  # day 1's check-in takes buttons
    # Days 2 and 3: day 4 (empathy-3) asks for free text.
    for day in (3, 4, 5):
        await bridges.next_day_at(datetime(2026, 3, day, 7, 0, tzinfo=UTC))
    assert alex.last.buttons == []
    await bridges.say(alex, "I asked my sister how she really was <3 & she told me 🙂")
    assert "Thanks for sharing that" in alex.last.text
    await bridges.say(alex, "and more")  # a second message adds to the first, in order
    assert "Added to what you wrote today" in alex.last.text
    assert bridges.repo is not None
    kept, _private = await bridges.repo.recalled_answers(1001, ["empathy-3"])
    assert kept["empathy-3"].endswith("she told me 🙂\n\nand more")


async def test_pause_and_resume(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    await bridges.say(alex, "/pause")
    assert "Paused" in alex.last.text
    report = await bridges.next_day_at(DAY2_0800_AMS)
    assert report.claimed == 0
    await bridges.say(alex, "/resume")
    assert "Welcome back" in alex.last.text and "comes tomorrow at 08:00" in alex.last.text
    report = await bridges.next_day_at(datetime(2026, 3, 4, 7, 0, tzinfo=UTC))
    assert report.sent == 1 and "Day 2 of" in alex.inbox[-1].text


async def test_timed_pause_resumes_by_itself(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    await bridges.say(alex, "/pause 3")
    assert "Paused for 3 days" in alex.last.text and "Thursday 5 March" in alex.last.text
    for day in (3, 4):
        assert (await bridges.next_day_at(datetime(2026, 3, day, 7, 0, tzinfo=UTC))).claimed == 0
    report = await bridges.next_day_at(datetime(2026, 3, 5, 7, 0, tzinfo=UTC))
    assert report.sent == 1


async def test_stop_then_start_brings_the_learner_back(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    await bridges.say(alex, "/stop")
    assert "no more lessons" in alex.last.text.lower()
    assert (await bridges.next_day_at(DAY2_0800_AMS)).claimed == 0
    await bridges.say(alex, "/start")
    assert "Welcome back" in alex.last.text and "lesson 2 of 40" in alex.last.text


async def test_delete_erases_everything_after_confirmation(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    await bridges.press(alex, "Yes, I sent it")
    await bridges.say(alex, "/delete")
    await bridges.press(alex, "No, keep it")
    assert "Nothing was deleted" in alex.last.text
    assert bridges.repo is not None and await bridges.repo.get_learner(1001) is not None
    await bridges.say(alex, "/delete")
    await bridges.press(alex, "Yes, delete everything")
    assert "Everything is erased" in alex.last.text
    assert await bridges.repo.get_learner(1001) is None
    assert await bridges.repo.count_learners() == 0
    await bridges.say(alex, "/progress")
    assert "Send /start" in alex.last.text


async def test_two_learners_in_different_zones(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    sam = sandbox.user(2002, "Sam", language_code="nl-BE")
    await bridges.onboard(alex, zone="Europe/Amsterdam", time="08:00", first_now=False)
    await bridges.say(sam, "/start")
    await bridges.press(sam, "🇳🇱 Nederlands")
    await bridges.say(sam, "/timezone America/New_York")
    await bridges.say(sam, "/time 08:00")
    await bridges.press(sam, NL_LATER)
    # 07:00 UTC: 08:00 in Amsterdam, 02:00 in New York.
    report = await bridges.next_day_at(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    assert report.sent == 1 and "Day 1 of" in alex.inbox[-1].text
    # 13:00 UTC: 08:00 in New York (EST, UTC-5).
    report = await bridges.next_day_at(datetime(2026, 3, 2, 13, 0, tzinfo=UTC))
    assert report.sent == 1 and "Dag 1 van" in sam.inbox[-1].text


async def test_restart_between_days_keeps_state_and_sends_no_duplicate(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    await bridges.press(alex, "Not yet")
    await bridges.restart()
    assert (await bridges.next_day_at(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))).claimed == 0
    await bridges.restart()
    report = await bridges.next_day_at(DAY2_0800_AMS)
    assert report.sent == 1
    await bridges.restart()
    assert (await bridges.next_day_at(DAY2_0800_AMS)).claimed == 0
    await bridges.press(alex, "5")
    assert "🔥 2-day streak" in alex.last.text
    lesson_texts = [m.text for m in alex.inbox if "Day " in m.text and " of 40" in m.text]
    assert len(lesson_texts) == 2


async def test_after_downtime_one_lesson_not_a_pile(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    await bridges.stop()
    bridges.clock.now = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # a week later
    await bridges.start()
    report = await bridges.tick()
    assert report.sent == 1
    assert "Day 2 of" in alex.inbox[-1].text
    assert (await bridges.tick()).claimed == 0


async def test_pause_names_the_day_lessons_come_back(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    bridges.clock.now = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)  # 08:30, after today's time
    await bridges.say(alex, "/pause 1")
    assert "Paused for 1 day." in alex.last.text
    # Paused until 08:30 tomorrow, after the 08:00 lesson time: the next lesson is the day after.
    assert "Wednesday 4 March" in alex.last.text
    assert (await bridges.next_day_at(DAY2_0800_AMS)).claimed == 0
    assert (await bridges.next_day_at(datetime(2026, 3, 4, 7, 0, tzinfo=UTC))).sent == 1
