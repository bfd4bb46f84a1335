"""A learner's first steps, through the real python-telegram-bot client and the sandbox."""

from __future__ import annotations

from bot.tools.sandbox import Sandbox
from tests.e2e.harness import Bridges


async def test_onboarding_with_buttons_ends_with_the_first_lesson(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex", language_code="en")
    await bridges.say(alex, "/start")
    texts = [message.text for message in alex.inbox]
    assert "not therapy" in texts[0]
    # Telegram's language (en) comes first: one tap confirms it.
    assert alex.last.button_labels() == ["🇬🇧 English", "🇳🇱 Nederlands"]
    await bridges.press(alex, "🇬🇧 English")
    assert "time zone" in alex.last.text
    await bridges.press(alex, "Amsterdam")
    assert "what time" in alex.last.text.lower()
    await bridges.press(alex, "07:00")
    assert "07:00" in alex.last.text and "first lesson" in alex.last.text
    # One more tap: the evening check-in's time, the default (20:00) pre-selected.
    asked = alex.inbox[-2]
    assert "evening check-in comes at 20:00" in asked.text
    assert asked.button_labels() == ["19:00", "✓ 20:00", "21:00", "22:00", "With the lesson"]
    await bridges.press(alex, "Yes, send it now")
    # The lesson comes now with "later" buttons; its check-in waits for the evening.
    lesson = alex.inbox[-1]
    assert "Why relationships matter" in lesson.text
    assert "Day 1 of" in lesson.text
    assert "Check-in" not in lesson.text and "this evening" in lesson.text
    assert lesson.button_labels() == ["⏰ In an hour", "🌙 This evening"]
    calls = [call for call in sandbox.requests if call.method != "getUpdates"]
    assert calls and all(call.status == 200 for call in calls)


async def test_with_the_lesson_keeps_the_check_in_in_the_lesson_message(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex", language_code="en")
    await bridges.say(alex, "/start")
    await bridges.press(alex, "🇬🇧 English")
    await bridges.press(alex, "Amsterdam")
    await bridges.press(alex, "07:00")
    alex.press("With the lesson", message_id=alex.inbox[-2].message_id)
    await bridges.settle()
    assert "check-in now comes with the lesson" in alex.last.text  # one message
    await bridges.press(alex, "Yes, send it now")
    # One message: the lesson, its check-in and the check-in's buttons arrive together.
    lesson = alex.inbox[-1]
    assert "Day 1 of" in lesson.text and "Check-in" in lesson.text
    assert lesson.button_labels()[0] == "Yes, I sent it"
