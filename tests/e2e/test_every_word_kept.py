"""Every word kept (issue 15), end to end in both languages: words that answer nothing are
kept as a note on the day and shown back by the evening check-in; an edit updates what
was kept (the old words stay in the history); typed words that answer take the buttons
off; a learner on pause, a poll and right-to-left marks lose nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.tools.sandbox import Sandbox
from bot.tools.sandbox.state import SandboxUser
from tests.e2e.harness import Bridges

# The clock starts on Monday 2 March 2026, 06:00 UTC (07:00 in Amsterdam).
MORNING = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 in Amsterdam
LUNCH = datetime(2026, 3, 2, 11, 30, tzinfo=UTC)
EVENING = datetime(2026, 3, 2, 19, 0, 1, tzinfo=UTC)  # 20:00 in Amsterdam

WORDS = {
    "en": {
        "note": "hmm, I did half of it <b>&</b>",
        "kept": "so I've kept your words as a note for today",
        "earlier": "You wrote earlier today:",
        "tap": "Not yet",
        "answer": "I asked my sistr how she really was",
        "fixed": "I asked my sister how she really was",
        "more": "she called back!",
        "edit": "✏️ I've kept your change.",
        "typed": "not yet",
        "edit-typed": "Your answer stays the one you first gave",
        "paused": "Your lessons are paused; /resume brings them back",
    },
    "nl": {
        "note": "hmm, half gedaan <b>&</b>",
        "kept": "dus je woorden heb ik bewaard als notitie bij vandaag",
        "earlier": "Eerder vandaag schreef je:",
        "tap": "Nog niet",
        "answer": "Ik vroeg mijn zuss hoe het echt ging",
        "fixed": "Ik vroeg mijn zus hoe het echt ging",
        "more": "ze belde terug!",
        "edit": "✏️ Je wijziging is bewaard.",
        "typed": "nog niet",
        "edit-typed": "Je antwoord blijft het antwoord dat je eerst gaf",
        "paused": "Je lessen staan op pauze; met /resume komen ze terug",
    },
}
LANGUAGES = pytest.mark.parametrize("language", ["en", "nl"])


def _learner(sandbox: Sandbox, language: str) -> SandboxUser:
    return sandbox.user(1001, "Alex" if language == "en" else "Ans", language_code=language)


async def _export(bridges: Bridges, user: SandboxUser) -> dict[str, object]:
    await bridges.say(user, "/export")
    document = user.last.document
    assert document is not None
    data: dict[str, object] = json.loads(document.data)
    return data


@LANGUAGES
async def test_words_under_a_choice_are_a_note_the_evening_shows_back(
    bridges: Bridges, sandbox: Sandbox, language: str
):
    words = WORDS[language]
    user = _learner(sandbox, language)
    await bridges.onboard(user, time="08:00", checkin_time="20:00", first_now=False)
    await bridges.next_day_at(MORNING)  # day 1: a choice, asked in the evening
    bridges.clock.now = LUNCH
    await bridges.say(user, words["note"])  # no option says this: a note, and the choices
    assert words["kept"] in user.last.text and user.last.buttons
    report = await bridges.next_day_at(EVENING)
    assert report.sent == 1  # the choice is still open: asked, with the note shown back
    evening = user.last
    assert words["earlier"] in evening.text
    assert f"“{words['note']}”" in evening.text  # shown as written, its <&> escaped
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in evening.html
    await bridges.press(user, words["tap"])
    assert "🔥" in user.last.text  # the tap answers and counts for the streak
    data = await _export(bridges, user)
    [day1] = data["deliveries"]  # type: ignore[misc]
    assert day1["answer"]["value"] == "not-yet" and day1["answer"]["via"] == "tap"
    assert [(m["role"], m["words"]) for m in day1["messages"]] == [("note", words["note"])]


@LANGUAGES
async def test_an_edited_answer_is_kept_as_edited_with_its_history(
    bridges: Bridges, sandbox: Sandbox, language: str
):
    words = WORDS[language]
    user = _learner(sandbox, language)
    await bridges.onboard(user)
    for day in (3, 4, 5):  # day 4 (empathy-3) asks for words
        await bridges.next_day_at(datetime(2026, 3, day, 7, 0, tzinfo=UTC))
    first = user.send(words["answer"])
    await bridges.settle()
    assert "✍️" in user.last.text
    await bridges.say(user, words["more"])
    user.edit_message(first, words["fixed"])  # the typo fixed
    await bridges.settle()
    assert user.last.text == words["edit"]
    assert bridges.repo is not None
    kept, _private = await bridges.repo.recalled_answers(1001, ["empathy-3"])
    assert kept == {"empathy-3": f"{words['fixed']}\n\n{words['more']}"}
    data = await _export(bridges, user)
    day4 = data["deliveries"][3]  # type: ignore[index]
    assert day4["answer"]["via"] == "text"
    fixed, more = day4["messages"]
    assert fixed["words"] == words["fixed"] and more["words"] == words["more"]
    assert [edit["words"] for edit in fixed["before_edits"]] == [words["answer"]]


@LANGUAGES
async def test_typed_words_take_the_buttons_off_and_an_edit_of_them_keeps_the_tap(
    bridges: Bridges, sandbox: Sandbox, language: str
):
    words = WORDS[language]
    user = _learner(sandbox, language)
    await bridges.onboard(user)  # day 1's choice comes under the lesson
    lesson = user.last
    assert lesson.buttons
    sent = user.send(words["typed"])
    await bridges.settle()
    assert words["tap"] in user.last.text
    assert lesson.buttons == []  # taken off, as a tap takes them off
    user.edit_message(sent, "ja" if language == "nl" else "yes")
    await bridges.settle()
    assert words["edit-typed"] in user.last.text
    data = await _export(bridges, user)
    [day1] = data["deliveries"]  # type: ignore[misc]
    assert day1["answer"]["value"] == "not-yet" and day1["answer"]["via"] == "typed"
    [typed] = day1["messages"]
    assert typed["role"] == "typed" and [e["words"] for e in typed["before_edits"]] == [
        words["typed"]
    ]


@LANGUAGES
async def test_words_and_a_voice_note_on_pause_are_kept(
    bridges: Bridges, sandbox: Sandbox, language: str
):
    words = WORDS[language]
    user = _learner(sandbox, language)
    await bridges.onboard(user, first_now=False)  # no lesson yet: nothing to answer
    await bridges.say(user, "/pause")
    await bridges.say(user, words["more"])
    assert words["paused"] in user.last.text
    user.send_voice(8)
    await bridges.settle()
    assert words["paused"] in user.last.text
    data = await _export(bridges, user)
    kept = data["notes_before_the_first_lesson"]
    assert [(m["role"], m["words"]) for m in kept] == [  # type: ignore[union-attr]
        ("note", words["more"]),
        ("note", "🎤 0:08"),
    ]
    assert kept[1]["voice_file_id"].startswith("voice-1001-")  # type: ignore[index]


async def test_a_poll_gets_one_polite_line_and_marks_around_a_digit_are_read(
    bridges: Bridges, sandbox: Sandbox
):
    alex = _learner(sandbox, "en")
    await bridges.onboard(alex)
    alex.send_poll()
    await bridges.settle()
    assert "I can only read text messages" in alex.last.text
    await bridges.say(alex, "not yet")
    await bridges.next_day_at(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))  # day 2: a 1-5 scale
    await bridges.say(alex, "7")  # outside the scale: the question again, the 7 kept
    assert "couldn't tell which answer" in alex.last.text and alex.last.buttons
    await bridges.say(alex, "\u200f4\u200e")  # right-to-left and left-to-right marks
    assert "Your answer: 4" in alex.last.text
    data = await _export(bridges, alex)
    day2 = data["deliveries"][1]  # type: ignore[index]
    assert [(m["role"], m["words"]) for m in day2["messages"]] == [
        ("note", "7"),
        ("typed", "\u200f4\u200e"),
    ]


async def test_a_learner_marked_blocked_who_writes_again_is_taken_back(
    bridges: Bridges, sandbox: Sandbox
):
    """Blocked without a word (only a 403 told), then unblocked and writing: the message is
    kept and answered, and the lessons come again."""
    alex = _learner(sandbox, "en")
    await bridges.onboard(alex)
    alex.blocked = True
    assert (await bridges.next_day_at(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))).blocked == 1
    alex.blocked = False
    await bridges.say(alex, "sorry, I was away")
    assert "as a note for today" in alex.last.text
    assert bridges.repo is not None
    learner = await bridges.repo.get_learner(1001)
    assert learner is not None and learner.status == "active"
    report = await bridges.next_day_at(datetime(2026, 3, 4, 7, 0, tzinfo=UTC))
    assert report.sent == 1 and "Day 2 of" in alex.last.text


async def test_the_evening_shows_edited_notes_never_private_ones_and_only_the_newest_few(
    bridges: Bridges, sandbox: Sandbox
):
    alex = _learner(sandbox, "en")
    await bridges.onboard(alex, time="08:00", checkin_time="20:00", first_now=False)
    await bridges.next_day_at(MORNING)
    bridges.clock.now = LUNCH
    first = alex.send("hmm, hlf of it")
    await bridges.settle()
    alex.edit_message(first, "hmm, half of it")  # the evening shows the words as fixed
    await bridges.settle()
    for n in range(1, 6):
        await bridges.say(alex, f"thought {n}: " + "so much to say " * 30)
    await bridges.say(alex, "he hit me again")  # care first; kept, private, never shown
    assert "Nobody has the right" in alex.last.text
    report = await bridges.next_day_at(EVENING)
    assert report.sent == 1 and report.failed == 0  # many notes never make it too long
    evening = alex.last.text
    assert "hit me" not in evening
    assert "… (+3)" in evening  # the newest three shown, and how many more there are
    assert "thought 5" in evening and "thought 3" in evening and "thought 2" not in evening
    assert "hlf" not in evening and len(evening) < 1500
    data = await _export(bridges, alex)
    [day1] = data["deliveries"]  # type: ignore[misc]
    notes = day1["messages"]
    assert notes[0]["words"] == "hmm, half of it" and notes[6]["private"]
    assert len(notes) == 7  # every word kept, whatever the evening shows


async def test_an_early_typed_answer_is_marked_early_and_takes_every_keyboard_off(
    bridges: Bridges, sandbox: Sandbox
):
    alex = _learner(sandbox, "en")
    await bridges.onboard(alex)  # day 1's choice under the lesson
    lesson = alex.last
    await bridges.say(alex, "hmm")  # the choices again, with buttons of their own
    again = alex.last
    assert again.buttons
    await bridges.say(alex, "not yet")
    assert lesson.buttons == [] and again.buttons == []  # no stale buttons left
    alex.send_voice(5)  # after the answer: kept as a note, said so
    await bridges.settle()
    assert "already answered" in alex.last.text
    await bridges.onboard(sandbox.user(1002, "Sam"), time="08:00", checkin_time="20:00")
    sam = sandbox.user(1002, "Sam")
    assert "I'll ask how it went this evening" in sam.last.text
    await bridges.say(sam, "yes, I sent it")
    data = await _export(bridges, sam)
    [day1] = data["deliveries"]  # type: ignore[misc]
    assert day1["answer"]["early"] and day1["answer"]["via"] == "typed"


async def test_words_after_silence_paused_the_lessons_bring_them_back(
    bridges: Bridges, sandbox: Sandbox
):
    alex = _learner(sandbox, "en")
    await bridges.onboard(alex, time="08:00", first_now=False)
    for day in range(2, 8):  # five lessons unanswered, then the gentle note
        await bridges.next_day_at(datetime(2026, 3, day, 7, 0, tzinfo=UTC))
    assert "I haven't heard from you in a while" in alex.last.text
    await bridges.say(alex, "sorry, busy weeks")  # not an option: a note, and back
    assert "Welcome back! Your lessons continue" in alex.last.text


async def test_a_dutch_number_in_words_under_a_scale_is_the_tap(bridges: Bridges, sandbox: Sandbox):
    ans = _learner(sandbox, "nl")
    await bridges.onboard(ans)
    await bridges.say(ans, "nog niet")  # day 1's choice, in words
    assert "Jouw antwoord: Nog niet" in ans.last.text
    await bridges.next_day_at(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))  # day 2: a 1-5 scale
    await bridges.say(ans, "een vier")
    assert "Jouw antwoord: 4" in ans.last.text and "🔥" in ans.last.text


async def test_a_voice_note_with_a_caption_keeps_both(bridges: Bridges, sandbox: Sandbox):
    alex = _learner(sandbox, "en")
    await bridges.onboard(alex)
    for day in (3, 4, 5):  # day 4 (empathy-3) asks for words
        await bridges.next_day_at(datetime(2026, 3, day, 7, 0, tzinfo=UTC))
    alex.send_voice(9, caption="I called her")
    await bridges.settle()
    assert "Thanks for sharing that" in alex.last.text  # the caption is the words
    data = await _export(bridges, alex)
    day4 = data["deliveries"][3]  # type: ignore[index]
    assert day4["answer"]["value"] == "I called her"
    caption, voice = day4["messages"]
    assert (caption["role"], caption["words"]) == ("answer", "I called her")
    assert (voice["role"], voice["words"]) == ("note", "🎤 0:09")
    assert voice["voice_file_id"].startswith("voice-1001-")
