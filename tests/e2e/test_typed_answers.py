"""Typed words for a tap, end to end: "4" under day 2's scale is recorded as the tap
would be, with the same feedback and streak, and counts once."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.tools.sandbox import Sandbox
from lessons.loader import Course
from tests.e2e.harness import Bridges


async def test_a_typed_number_under_a_scale_is_the_tap(
    bridges: Bridges, sandbox: Sandbox, course: Course
):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    await bridges.say(alex, "not yet")  # day 1: a choice
    assert "Your answer: Not yet" in alex.last.text
    await bridges.next_day_at(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))  # day 2: a 1-5 scale
    day2 = course.lesson("en", 2)
    assert day2.checkin.kind == "scale"
    await bridges.say(alex, "4")
    reply = alex.last.text
    assert "Your answer: 4" in reply
    assert day2.checkin.feedback_for("4") in reply
    assert "🔥 2-day streak" in reply
    await bridges.say(alex, "5")  # already answered: kept once, said kindly
    assert "already answered" in alex.last.text
    await bridges.say(alex, "/progress")
    assert any("Answers given: 2" in m.text for m in alex.inbox[-2:])


async def test_stickers_emoji_forwards_contacts_and_captions(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    alex.send_sticker("😊")
    await bridges.settle()
    assert "Thank you! To answer today's check-in" in alex.last.text
    await bridges.say(alex, "👍🙏")
    assert "Thank you! To answer today's check-in" in alex.last.text
    alex.forward("Yes, I sent it")  # someone else's words are not Alex's answer
    await bridges.settle()
    assert "I keep only your own words" in alex.last.text
    alex.send_contact()
    await bridges.settle()
    assert "I can only read text messages" in alex.last.text
    alex.send_photo(caption="not yet")  # a caption counts as text: it answers the check-in
    await bridges.settle()
    assert "Your answer: Not yet" in alex.last.text


async def test_a_voice_note_answers_a_check_in_that_asks_for_words(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    alex.send_voice(12)  # day 1 asks with buttons: said kindly, nothing recorded
    await bridges.settle()
    assert "tap a button or type a few words" in alex.last.text
    for day in (3, 4, 5):  # day 4 (empathy-3) asks for words
        await bridges.next_day_at(datetime(2026, 3, day, 7, 0, tzinfo=UTC))
    alex.send_voice(75)
    await bridges.settle()
    assert "Your voice note is kept as today's answer" in alex.last.text
    await bridges.say(alex, "/export")
    document = alex.last.document
    assert document is not None
    answer = json.loads(document.data)["deliveries"][3]["answer"]
    assert answer["value"] == "🎤 1:15" and answer["voice_seconds"] == 75
    assert answer["voice_file_id"].startswith("voice-1001-")


async def test_words_after_a_tap_are_not_a_second_answer_and_an_unclear_one_shows_the_question(
    bridges: Bridges, sandbox: Sandbox, course: Course
):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    await bridges.say(alex, "hmm, not sure what to say")  # no option: the question again
    question = course.lesson("en", 1).checkin.question
    assert question in alex.last.text and alex.last.buttons
    await bridges.press(alex, "Not yet")
    await bridges.say(alex, "thanks")  # after the tap: no buttons again, said kindly
    assert "already answered" in alex.last.text and alex.last.buttons == []
    alex.forward("I don't want to be here any more")  # care, but not kept as Alex's words
    await bridges.settle()
    assert "I'm glad you told me" in alex.last.text
    assert bridges.repo is not None
    kept, _private = await bridges.repo.recalled_answers(1001, ["opening-1"])
    assert kept == {"opening-1": "not-yet"}
    learner = await bridges.repo.get_learner(1001)
    assert learner is not None and not learner.in_care  # someone else's words
