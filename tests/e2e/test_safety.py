"""Care first, end to end: a message that speaks of crisis or abuse (as an answer, early,
before /start, during sign-up, as a caption, in either language) is answered with care and
the help lines of the learner's country, never with a streak or a hint; /sos shows the
lines of every country in the table, any time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.chat.app import register_commands
from bot.tools.sandbox import Sandbox, SandboxUser
from lessons.helplines import helpline_table
from tests.e2e.harness import Bridges

# The clock fixture starts on 2026-03-02; day 4 (empathy-3) asks for free text.
TEXT_CHECKIN_DAYS = (3, 4, 5)
STREAK = ("streak", "🔥", "✍️", "reeks", "op rij")


async def _to_the_text_checkin(bridges: Bridges) -> None:
    for day in TEXT_CHECKIN_DAYS:
        await bridges.next_day_at(datetime(2026, 3, day, 7, 0, tzinfo=UTC))


async def _one_reply(bridges: Bridges, user: SandboxUser, text: str) -> str:
    """Say `text` and return the one reply: a streak or a hint sent before or after the
    care would be a second message."""
    before = len(user.inbox)
    await bridges.say(user, text)
    assert len(user.inbox) == before + 1, [m.text[:60] for m in user.inbox[before:]]
    return user.last.text


async def test_a_crisis_answer_gets_care_and_help_lines_and_is_kept_without_a_streak(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex, zone="Europe/London", time="07:00")
    await _to_the_text_checkin(bridges)
    assert alex.last.buttons == []  # the free-text check-in is open
    reply = await _one_reply(bridges, alex, "Honestly, I don't want to be here any more.")
    assert "I'm glad you told me" in reply
    assert "Emergency: 999" in reply
    assert "Samaritans: 116 123" in reply
    assert reply.index("999") < reply.index("Samaritans")  # the emergency number first
    assert not any(word in reply for word in STREAK)
    assert "Thanks for sharing" not in reply
    await bridges.say(alex, "/progress")
    assert any("Answers given: 1" in m.text for m in alex.inbox[-2:])  # what they wrote is kept


async def test_dutch_words_are_met_in_dutch_with_the_dutch_lines(
    bridges: Bridges, sandbox: Sandbox
):
    ans = sandbox.user(3003, "Ans", language_code="nl")
    await bridges.onboard(ans, time="08:00")
    await _to_the_text_checkin(bridges)
    reply = await _one_reply(bridges, ans, "Eerlijk gezegd zie ik het niet meer zitten")
    assert "Goed dat je het me vertelt" in reply
    assert "Alarmnummer: 112" in reply
    assert "113 Zelfmoordpreventie" in reply
    assert "De Luisterlijn" in reply
    assert not any(word in reply for word in STREAK)


async def test_abuse_outside_a_check_in_gets_the_abuse_lines_not_a_hint(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)  # Amsterdam; day 1's check-in takes buttons
    reply = await _one_reply(bridges, alex, "he hit me again last night")
    assert "Nobody has the right to hurt, threaten or control you" in reply
    assert "Emergency: 112" in reply and "Veilig Thuis: 0800-2000" in reply
    assert "113 Zelfmoordpreventie" not in reply  # the lines for what was said
    assert "Tap one of the buttons" not in reply
    # The screen reads every language: Dutch words from an English learner.
    assert "Nobody has the right" in await _one_reply(bridges, alex, "Ik ben bang voor hem")


async def test_before_start_and_during_sign_up_care_comes_first(bridges: Bridges, sandbox: Sandbox):
    kim = sandbox.user(4004, "Kim", language_code="en")
    reply = await _one_reply(bridges, kim, "i want to die")
    assert "I'm glad you told me" in reply
    assert "findahelpline.com" in reply  # no zone yet: the neutral lines
    assert "/start" not in reply
    await bridges.say(kim, "/start")
    await bridges.press(kim, "🇬🇧 English")
    reply = await _one_reply(bridges, kim, "my partner threatens me")  # instead of a zone
    assert "Nobody has the right" in reply
    await bridges.say(kim, "Amsterdam")  # sign-up goes on as before
    assert "Europe/Amsterdam" in kim.inbox[-2].text or "Europe/Amsterdam" in kim.last.text


async def test_a_caption_is_screened_and_a_plain_photo_is_not(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    alex.send_photo(caption="this is where he hit me")
    await bridges.settle()
    assert "Nobody has the right" in alex.last.text
    alex.send_photo()
    await bridges.settle()
    assert "only read text" in alex.last.text


async def test_an_edit_that_speaks_of_crisis_is_met_with_care(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    sent = alex.send("all fine")
    await bridges.settle()
    replies = len(alex.inbox)
    alex.edit_message(sent, "not fine, I want to die")
    await bridges.settle()
    assert len(alex.inbox) == replies + 1
    assert "I'm glad you told me" in alex.last.text
    alex.edit_message(sent, "all fine, really")  # an everyday edit: the kept words change
    await bridges.settle()
    assert len(alex.inbox) == replies + 2
    assert alex.last.text == "✏️ I've kept your change."
    assert bridges.repo is not None
    exported = await bridges.repo.export(1001)
    assert exported is not None
    [note] = exported["deliveries"][0]["messages"]
    assert note["role"] == "note" and note["words"] == "all fine, really"
    assert [edit["words"] for edit in note["before_edits"]] == [
        "all fine",
        "not fine, I want to die",
    ]
    assert note["private"]  # once it spoke of crisis it is never shown back


async def test_everyday_words_get_the_usual_answer(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex, time="07:00")
    await _to_the_text_checkin(bridges)
    reply = await _one_reply(
        bridges, alex, "It hurt when she cancelled, but I tried nonviolent communication"
    )
    assert "Thanks for sharing that" in reply


@pytest.mark.parametrize("code", helpline_table().codes)
async def test_sos_shows_every_line_of_the_learners_country(
    bridges: Bridges, sandbox: Sandbox, code: str
):
    table = helpline_table()
    country = table.country(code)
    assert country is not None
    zone = sorted(country.zones)[0]
    user = sandbox.user(5005, "Robin <&>", language_code="en")
    await bridges.say(user, "/start")
    await bridges.press(user, "🇬🇧 English")
    await bridges.say(user, f"/timezone {zone}")
    await bridges.say(user, "/sos")
    reply = user.last.text
    assert country.called["en"] in reply
    expected = table.lines(code, "en")
    assert len(expected) == len(country.lines) + 1  # its own lines, then Find A Helpline
    for line in expected:
        assert line in reply, line


async def test_sos_for_another_country_an_unknown_one_and_in_dutch(
    bridges: Bridges, sandbox: Sandbox
):
    kai = sandbox.user(6006, "Kai", language_code="en")
    await bridges.say(kai, "/sos be")  # works before /start
    assert "Belgium" in kai.last.text and "1712" in kai.last.text
    await bridges.say(kai, "/sos UK")
    assert "National Domestic Abuse Helpline: 0808 2000 247" in kai.last.text
    assert "Cruse Bereavement Support" in kai.last.text and "NHS 111" in kai.last.text
    await bridges.say(kai, "/sos Atlantis <b>")
    assert "I don't have help lines for “Atlantis &lt;b&gt;”" in kai.last.html
    assert "findahelpline.com" in kai.last.text
    await bridges.say(kai, "/sos the Netherlands")  # a country's name works too
    assert "Veilig Thuis" in kai.last.text
    ans = sandbox.user(3003, "Ans", language_code="nl")
    await bridges.say(ans, "/sos ie")
    assert "Ierland" in ans.last.text and "Women's Aid: 1800 341 900" in ans.last.text
    assert "Ergens anders?" in ans.last.text


async def test_sos_is_in_the_command_menu_in_both_languages(bridges: Bridges, sandbox: Sandbox):
    await register_commands(bridges.app)
    menus = sandbox.commands
    assert len(menus) == 2  # English (the default) and Dutch
    for commands in menus.values():
        assert "sos" in [command["command"] for command in commands]


async def test_words_after_a_command_are_screened_and_the_command_does_not_run(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    reply = await _one_reply(bridges, alex, "/sos he is hurting me")
    assert "Nobody has the right" in reply and "Veilig Thuis" in reply
    reply = await _one_reply(bridges, alex, "/help i want to die")
    assert "I'm glad you told me" in reply and "/today: today's lesson now" not in reply
    reply = await _one_reply(bridges, alex, "/nosuchcommand he hit me again")
    assert "Nobody has the right" in reply
    assert "Lesson" in await _one_reply(bridges, alex, "/progress")  # plain commands still run


async def test_crisis_and_abuse_together_get_the_lines_for_both(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    reply = await _one_reply(bridges, alex, "he hits me and I want to die")
    assert "I'm glad you told me" in reply  # crisis first
    assert "113 Zelfmoordpreventie" in reply and "Veilig Thuis" in reply
    assert reply.index("Emergency: 112") < reply.index("113 Zelfmoordpreventie")


async def test_care_goes_out_when_the_database_fails(
    bridges: Bridges, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    assert bridges.repo is not None

    async def down(*_args: object, **_kwargs: object) -> None:
        raise ConnectionError("database down")

    monkeypatch.setattr(bridges.repo, "get_learner", down)
    reply = await _one_reply(bridges, alex, "I want to die")
    assert "I'm glad you told me" in reply
    assert "findahelpline.com" in reply  # no zone could be read: the neutral lines


async def test_after_a_disclosure_answers_are_kept_private_and_no_streak_is_shown(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    await bridges.next_day_at(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))  # day 2: a scale
    await bridges.press(alex, "4")  # before: shown back as usual
    for day in (4, 5):  # days 3 and 4 (empathy-3, free text)
        await bridges.next_day_at(datetime(2026, 3, day, 7, 0, tzinfo=UTC))
    await _one_reply(bridges, alex, "he hit me again")
    for day in (6, 7):  # day 5, then day 6 (empathy-5, free text)
        await bridges.next_day_at(datetime(2026, 3, day, 7, 0, tzinfo=UTC))
    reply = await _one_reply(bridges, alex, "I asked my brother what he needed")
    assert "Thanks for sharing that" in reply and "streak" not in reply  # care, not a game
    await bridges.next_day_at(datetime(2026, 3, 8, 7, 0, tzinfo=UTC))  # day 7: the review
    review = alex.inbox[-1].text
    assert "Day 7 of" in review
    assert "4/5" in review  # an answer from before is shown back
    assert "hit me" not in review and "I asked my brother" not in review
    await bridges.say(alex, "/lesson 7")
    assert "hit me" not in alex.last.text and "I asked my brother" not in alex.last.text
    await bridges.say(alex, "/progress")
    shown = "\n".join(m.text for m in alex.inbox[-2:])
    assert "Answers given: 3" in shown and "streak" not in shown.lower()


async def test_sos_by_a_place_in_the_country_and_care_without_a_zone_says_where_to_look(
    bridges: Bridges, sandbox: Sandbox
):
    kai = sandbox.user(6006, "Kai", language_code="en")
    await bridges.say(kai, "/sos Leeds")
    assert "the United Kingdom" in kai.last.text and "Samaritans" in kai.last.text
    await bridges.say(kai, "/sos Vlaanderen")
    assert "Hulplijn 1712" in kai.last.text
    reply = await _one_reply(bridges, kai, "my husband hits me")  # no zone yet
    assert "findahelpline.com" in reply and "/sos NL" in reply and "/sos UK" in reply


async def test_a_stranger_is_answered_in_the_language_they_wrote(
    bridges: Bridges, sandbox: Sandbox
):
    lotte = sandbox.user(7007, "Lotte", language_code="en")  # an English phone, Dutch words
    reply = await _one_reply(bridges, lotte, "ik wil er niet meer zijn")
    assert "Goed dat je het me vertelt" in reply
    sam = sandbox.user(7008, "Sam", language_code="nl")
    assert "I'm glad you told me" in await _one_reply(bridges, sam, "I want to die")
