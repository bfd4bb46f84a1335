"""What a learner's cold play-test of the demo found, each fixed and kept fixed: typed
text while check-in buttons show, the check-in time that is not after the lesson, and the
words of /progress and the settings."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.chat.texts import Texts
from bot.tools.sandbox import Sandbox
from lessons.loader import Course
from tests.e2e.harness import Bridges


async def test_typed_words_under_buttons_are_the_tap_or_bring_the_choices_back(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex", language_code="en")
    await bridges.onboard(alex, time="08:00")  # day 1's check-in is a choice, in the lesson
    assert alex.last.buttons
    await bridges.say(alex, "4")  # no option says 4: the choices come back, nothing is lost
    assert "I couldn't tell which answer you meant" in alex.last.text
    assert alex.last.button_labels() == ["Yes, I sent it", "I wrote it, didn't send it", "Not yet"]
    assert "no open check-in" not in alex.last.text
    await bridges.say(alex, "yes I did!")
    assert "Your answer: Yes, I sent it" in alex.last.text
    assert "🔥 1-day streak" in alex.last.text
    nora = sandbox.user(1002, "Nora", language_code="nl")
    await bridges.onboard(nora, time="08:00")
    await bridges.say(nora, "nog niet 🙈")
    assert "Jouw antwoord: Nog niet" in nora.last.text


async def test_an_evening_check_in_not_yet_asked_is_not_a_button_to_tap(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex", language_code="en")
    await bridges.onboard(alex, time="08:00", checkin_time="20:00", first_now=False)
    await bridges.next_day_at(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    await bridges.say(alex, "yes I did")
    assert "Tap one of the buttons" not in alex.last.text
    await bridges.press(alex, "🌙 This evening")  # snoozed: neither lesson nor check-in shows
    await bridges.say(alex, "yes I did")
    assert "Tap one of the buttons" not in alex.last.text


async def test_a_check_in_time_not_after_the_lesson_is_said_to_come_with_it(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex", language_code="en")
    await bridges.onboard(alex, time="08:00", checkin_time="20:00", first_now=False)
    await bridges.say(alex, "/reflect 07:00")
    said = [message.text for message in alex.inbox[-2:]]
    assert any(
        "Your check-in will come with the lesson, since 07:00 is not after your lesson time 08:00"
        in text
        for text in said
    )
    assert not any("evening check-in comes at 07:00" in text for text in said)
    await bridges.say(alex, "/reflect 21:00")
    assert any("evening check-in comes at 21:00" in m.text for m in alex.inbox[-2:])
    # A later lesson time than the (default) evening time: said when the time is set.
    await bridges.say(alex, "/reflect 20:00")
    await bridges.say(alex, "/time 21:30")
    assert any("since 20:00 is not after your lesson time 21:30" in m.text for m in alex.inbox[-3:])
    await bridges.say(alex, "/reflect")
    assert "since 20:00 is not after your lesson time 21:30" in alex.last.text
    assert "(✓)" not in alex.last.text


async def test_onboarding_with_a_late_lesson_says_the_check_in_comes_with_it(
    bridges: Bridges, sandbox: Sandbox
):
    nora = sandbox.user(1002, "Nora", language_code="nl")
    await bridges.say(nora, "/start")
    await bridges.press(nora, "🇳🇱 Nederlands")
    await bridges.say(nora, "/timezone Europe/Amsterdam")
    await bridges.say(nora, "/time 21:30")
    said = " ".join(message.text for message in nora.inbox[-3:])
    assert "Je check-in komt met de les mee, omdat 20:00 niet na je lestijd 21:30 valt." in said


async def test_a_snooze_and_the_next_lesson_are_said_as_today_and_tomorrow(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex", language_code="en")
    await bridges.onboard(alex, time="08:00", checkin_time="20:00", first_now=False)
    await bridges.next_day_at(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))  # Monday 08:00 local
    await bridges.press(alex, "⏰ In an hour")
    assert alex.last.text == "⏰ Okay, I'll send this lesson again today at 09:00 (in an hour)."
    await bridges.say(alex, "/timezone Europe/Amsterdam")  # a settings change after the snooze
    # One message per settings change: the confirmation, then when the next thing comes.
    assert alex.last.text == (
        "Time zone set to Europe/Amsterdam.\nYour snoozed lesson comes again today at 09:00."
    )
    await bridges.next_day_at(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    await bridges.say(alex, "/time 08:00")
    assert alex.last.text.endswith("\nYour evening check-in comes today at 20:00.")
    await bridges.next_day_at(datetime(2026, 3, 2, 19, 0, tzinfo=UTC))
    await bridges.press(alex, "Yes, I sent it")
    await bridges.say(alex, "/time 08:00")
    assert alex.last.text.endswith("\nYour next lesson comes tomorrow at 08:00.")
    await bridges.say(alex, "/pause 3")
    await bridges.say(alex, "/time 08:00")
    assert "comes on Friday 6 March at 08:00." in alex.last.text


async def test_dutch_snooze_for_the_evening_says_vandaag_om_with_a_moon(
    bridges: Bridges, sandbox: Sandbox
):
    nora = sandbox.user(1002, "Nora", language_code="nl")
    await bridges.onboard(nora, time="08:00", checkin_time="20:00", first_now=False)
    await bridges.next_day_at(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    await bridges.press(nora, "🌙 Vanavond")
    assert nora.last.text == "🌙 Oké, ik stuur deze les vandaag om 20:00 nog een keer."


async def test_dutch_words_are_dutch(bridges: Bridges, sandbox: Sandbox, course: Course):
    ties = sandbox.user(1003, "Ties", language_code="nl")
    await bridges.say(ties, "/start")
    await bridges.press(ties, "🇳🇱 Nederlands")
    labels = ties.last.button_labels()
    assert "Brussel" in labels and "Londen" in labels and "Brussels" not in labels
    nora = sandbox.user(1002, "Nora", language_code="nl")
    await bridges.onboard(nora, time="08:00")
    await bridges.say(nora, "/help")
    assert "/lesson 3: een eerdere les nog eens bekijken" in nora.last.text
    await bridges.say(nora, "/progress")
    assert "Reeksbeschermers: 0 van 2" in nora.last.text
    assert "Streak" not in nora.last.text
    await bridges.say(nora, "/pause 3")
    assert "⏸ Je lessen staan 3 dagen op pauze." in nora.last.text
    texts = Texts()
    assert texts.get("nl", "chart-title", current=2, freezes=1) == "Reeks 2 · 1 reeksbeschermer"
    assert "reeksbeschermer hield je reeks" in texts.get("nl", "freeze-used", days=3)
    day20 = course.lesson("nl", 20).text
    assert "Vergeven bevrijdt je van boosheid en wrok" in day20
    assert "vergeven betekent nooit dat je mishandeling accepteert" in day20
    for day in (7, 19):
        assert "nieuw thema" in course.lesson("nl", day).text
        assert "a new theme begins" in course.lesson("en", day).text
    labels = [option.label for option in course.lesson("nl", 8).checkin.options]
    assert "Ik dacht terug aan een moment" in labels


async def test_progress_during_setup_and_while_paused(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex", language_code="en")
    await bridges.say(alex, "/start")
    await bridges.say(alex, "/progress")
    assert alex.last.text == "Let's finish setting up first."
    await bridges.press(alex, "🇬🇧 English")
    await bridges.say(alex, "/timezone Europe/Amsterdam")
    await bridges.say(alex, "/progress")
    assert alex.last.text == "Let's finish setting up first."
    await bridges.say(alex, "/time 08:00")
    await bridges.say(alex, "/pause")
    await bridges.say(alex, "/progress")
    assert "⏸ Paused. /resume to continue." in alex.last.text
    assert "Lesson 0 of" in alex.last.text  # set up, no lesson had yet: the count is true
