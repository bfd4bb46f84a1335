"""Answers whenever they come (issue 15, part): words written on the lesson's day before
the evening check-in is asked are kept at once, count for the day, and the evening
check-in is then not sent; a second message adds to the first."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.tools.sandbox import Sandbox
from tests.e2e.harness import Bridges

# The clock starts on Monday 2 March 2026, 06:00 UTC (07:00 in Amsterdam).
LUNCH = datetime(2026, 3, 2, 11, 30, tzinfo=UTC)  # 12:30 in Amsterdam
EVENING = datetime(2026, 3, 2, 19, 0, 1, tzinfo=UTC)  # 20:00 in Amsterdam
NEXT_MORNING = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)


async def test_an_answer_at_lunch_counts_and_the_evening_does_not_ask_again(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex, time="08:00", checkin_time="20:00", first_now=False)
    await bridges.next_day_at(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))  # day 1, 08:00
    assert "I'll ask how it went this evening" in alex.last.text
    bridges.clock.now = LUNCH
    await bridges.say(alex, "yes, I sent it!")  # day 1's check-in is a choice
    reply = alex.last.text
    assert "Your answer: Yes, I sent it" in reply and "🔥 1-day streak" in reply
    assert "I won't ask you again this evening" in reply
    before = len(alex.inbox)
    report = await bridges.next_day_at(EVENING)
    assert report.sent == 0 and len(alex.inbox) == before  # no evening check-in
    report = await bridges.next_day_at(NEXT_MORNING)
    assert report.sent == 1 and "Day 2 of" in alex.last.text


async def test_words_for_a_text_check_in_before_the_evening_and_a_second_message(
    bridges: Bridges, sandbox: Sandbox
):
    ans = sandbox.user(3003, "Ans", language_code="nl")
    await bridges.onboard(ans, time="08:00", checkin_time="20:00", first_now=False)
    for day in (2, 3, 4, 5):  # days 1-4; day 4 (empathy-3) asks for words
        await bridges.next_day_at(datetime(2026, 3, day, 7, 0, tzinfo=UTC))
        if day < 5:
            await bridges.next_day_at(datetime(2026, 3, day, 19, 0, 1, tzinfo=UTC))
            await bridges.press(ans, ans.last.button_labels()[0])
    bridges.clock.now = datetime(2026, 3, 5, 11, 30, tzinfo=UTC)
    await bridges.say(ans, "Ik vroeg mijn zus hoe het echt ging <3")
    assert "vanavond vraag ik het je niet nog eens" in ans.last.text
    await bridges.say(ans, "En ze belde terug!")
    assert "Toegevoegd aan wat je vandaag schreef" in ans.last.text
    before = len(ans.inbox)
    report = await bridges.next_day_at(datetime(2026, 3, 5, 19, 0, 1, tzinfo=UTC))
    assert report.sent == 0 and len(ans.inbox) == before
    assert bridges.repo is not None
    kept, _private = await bridges.repo.recalled_answers(3003, ["empathy-3"])
    assert kept["empathy-3"] == "Ik vroeg mijn zus hoe het echt ging <3\n\nEn ze belde terug!"
    progress = await bridges.repo.progress(3003)
    assert progress is not None and progress.streaks.current == 4


async def test_words_the_day_after_do_not_answer_an_old_unasked_check_in(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex, time="08:00", checkin_time="20:00", first_now=False)
    await bridges.next_day_at(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))  # day 1
    bridges.clock.now = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)  # 06:00 the next morning
    await bridges.say(alex, "yes")  # yesterday's check-in was never asked: not this one
    assert "Your answer" not in alex.last.text


async def test_a_snoozed_lesson_answered_early_comes_again_without_asking(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex, time="08:00", checkin_time="20:00", first_now=False)
    await bridges.next_day_at(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))  # day 1, 08:00
    await bridges.press(alex, "⏰ In an hour")
    await bridges.say(alex, "yes I sent it")  # answered before the snoozed lesson is back
    assert "I won't ask you again this evening" in alex.last.text
    report = await bridges.next_day_at(datetime(2026, 3, 2, 8, 0, 1, tzinfo=UTC))
    assert report.sent == 1 and "Day 1 of" in alex.last.text
    assert alex.last.buttons == [] and "this evening" not in alex.last.text
    before = len(alex.inbox)
    assert (await bridges.next_day_at(EVENING)).sent == 0 and len(alex.inbox) == before
