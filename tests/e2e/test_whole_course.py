"""The whole course through the sandbox, in each language: each day arrives once, every
answer gets its feedback, reviews and closing days show earlier answers, and a forgiveness
branch follows the learner's own choice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.tools.sandbox import Sandbox
from lessons.loader import Course
from tests.e2e.harness import Bridges

START = {"en": ("🇬🇧 English", "Yes, send it now"), "nl": ("🇳🇱 Nederlands", "Ja, stuur maar meteen")}
DAY = {"en": "Day {day} of {total}", "nl": "Dag {day} van {total}"}
STREAK = {"en": "🔥 {day}-day streak", "nl": "🔥 {day} dagen op rij"}
FINISHED = {"en": "You've finished the whole course", "nl": "Je hebt de hele cursus afgerond"}


# "hurting-me" (day 20's "Someone is hurting me now") leads the forgiveness week to safety.
@pytest.mark.parametrize(
    ("language", "forgiveness"), [("en", "hurting-me"), ("en", "not-ready"), ("nl", "myself")]
)
async def test_the_whole_course_answering_every_kind_and_taking_a_branch(
    bridges: Bridges, sandbox: Sandbox, course: Course, language: str, forgiveness: str
):
    sam = sandbox.user(2002, "Sam <&> 🌉", language_code=language)
    await bridges.say(sam, "/start")
    await bridges.press(sam, START[language][0])
    await bridges.say(sam, "/timezone Pacific/Apia")
    await bridges.say(sam, "/time 21:30")
    await bridges.say(sam, "/reflect off")  # each check-in with its lesson
    await bridges.press(sam, START[language][1])
    assert bridges.repo is not None
    given: dict[str, str] = {}  # lesson id -> how the answer reads back
    private: set[str] = set()  # lessons whose answer must never be shown back
    branches_seen = recalls_seen = helped = helped_days = 0
    in_care = False
    for day in range(1, course.length + 1):
        lesson = course.lesson(language, day)
        shown = sam.inbox[-1].text
        assert DAY[language].format(day=day, total=course.length) in shown
        for recalled in lesson.recall:
            if recalled in private:  # it said someone is hurting them: never shown back
                assert given[recalled] not in shown, (day, recalled)
                continue
            assert given[recalled] in shown, (day, recalled)
            recalls_seen += 1
        if lesson.branch is not None:
            path = lesson.branch.path_for(forgiveness)
            expected = path.text or path.practice or "" if path is not None else lesson.text
            # The words before any {{ name }}: the learner's name is filled in there.
            assert expected.split("\n")[0].split("{{")[0][:40] in shown, day
            branches_seen += path is not None
        # On a branch, the learner may be asked the branch's own check-in.
        asked = lesson.checkin_for({"forgiveness-1": forgiveness})
        on_help_path = asked is not lesson.checkin and forgiveness == "hurting-me"
        if on_help_path:
            assert asked.question in shown, day
            helped_days += 1
        if asked.kind == "text":
            answer = f"My answer on day {day} <b>&</b>"
            await bridges.say(sam, answer)
            if in_care:  # their days are not a game to keep up: no streak shown
                assert "🔥" not in sam.last.text
                private.add(lesson.id)
            else:
                assert STREAK[language].format(day=day) in sam.last.text
            given[lesson.id] = answer
        else:
            value = forgiveness if lesson.id == "forgiveness-1" else asked.values()[0]
            label = asked.label_for(value) if asked.options else value
            await bridges.press(sam, label)
            feedback = asked.feedback_for(value)
            assert feedback and feedback in sam.last.text, day
            if any(o.value == value and o.helplines for o in asked.options):
                assert "findahelpline.com" in sam.last.text  # the help lines, not a streak
                assert "🔥" not in sam.last.text
                helped += 1
                private.add(lesson.id)
            if in_care:  # from the day they said someone hurts them: private, no streak
                assert "🔥" not in sam.last.text
                private.add(lesson.id)
            in_care = in_care or lesson.id in private
            given[lesson.id] = asked.label_for(value)
        learner = await bridges.repo.get_learner(2002)
        assert learner is not None
        if day < course.length:
            assert learner.next_due_at is not None
            report = await bridges.next_day_at(learner.next_due_at + timedelta(seconds=1))
            assert report.sent == 1, day
        else:
            assert learner.next_due_at is None
    assert branches_seen >= 2
    assert helped == (forgiveness == "hurting-me")
    assert (helped_days >= 6) == (forgiveness == "hurting-me")  # its own gentle check-ins
    assert recalls_seen >= 1  # the loop above checked some recalled answer
    progress = await bridges.repo.progress(2002)
    assert progress is not None
    assert len(progress.delivered) == course.length
    assert progress.answers == course.length
    assert progress.streaks.current == course.length
    bridges.clock.advance(timedelta(days=1))
    await bridges.say(sam, "/today")
    assert FINISHED[language] in sam.last.text
    sends = [call for call in sandbox.requests if call.method == "sendMessage"]
    assert sends and all(call.status == 200 for call in sends)
