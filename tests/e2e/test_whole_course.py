"""The whole course through the sandbox: each day arrives once; closing days look back."""

from __future__ import annotations

from datetime import timedelta

from bot.sandbox import Sandbox
from lessons.loader import Course
from tests.e2e.harness import Bridges


async def test_every_lesson_arrives_once_and_the_course_ends(
    bridges: Bridges, sandbox: Sandbox, course: Course
):
    sam = sandbox.user(2002, "Sam <&> 🌉", language_code="nl")
    await bridges.say(sam, "/start")
    await bridges.press(sam, "🇳🇱 Nederlands")
    await bridges.say(sam, "/timezone Pacific/Apia")
    await bridges.say(sam, "/time 21:30")
    await bridges.press(sam, "Ja, stuur maar meteen")
    assert bridges.repo is not None
    for day in range(1, course.length + 1):
        lesson = course.lesson("nl", day)
        assert f"Dag {day} van {course.length}" in sam.inbox[-2].text
        if lesson.checkin.kind == "text":
            await bridges.say(sam, f"Mijn antwoord op dag {day} <b>&</b>")
            assert f"🔥 {day} dagen op rij" in sam.last.text
        else:
            await bridges.press(sam, sam.last.button_labels()[0])
        if lesson.recall is not None:
            recalled = course.by_id("nl", lesson.recall)
            assert recalled is not None
            assert f"Mijn antwoord op dag {recalled.day} <b>&</b>" in sam.inbox[-3].text
        learner = await bridges.repo.get_learner(2002)
        assert learner is not None
        if day < course.length:
            assert learner.next_due_at is not None
            report = await bridges.next_day_at(learner.next_due_at + timedelta(seconds=1))
            assert report.sent == 1, day
        else:
            assert learner.next_due_at is None
    progress = await bridges.repo.progress(2002)
    assert progress is not None
    assert len(progress.delivered) == course.length
    assert progress.answers == course.length
    assert progress.streaks.current == course.length
    bridges.clock.advance(timedelta(days=1))
    await bridges.say(sam, "/today")
    assert "Je hebt de hele cursus afgerond" in sam.last.text
    assert all(call.status == 200 for call in sandbox.requests if call.method == "sendMessage")
