"""Where to turn: an Amsterdam learner sees Dutch help lines on day 1 and in /help; a
learner whose zone we have no lines for gets the neutral one."""

from __future__ import annotations

from bot.tools.sandbox import Sandbox
from tests.e2e.harness import Bridges


async def test_an_amsterdam_learner_sees_help_lines_on_day_one_and_in_help(
    bridges: Bridges, sandbox: Sandbox
):
    ans = sandbox.user(3003, "Ans", language_code="nl")
    await bridges.say(ans, "/start")
    await bridges.press(ans, "🇳🇱 Nederlands")
    await bridges.say(ans, "/timezone Europe/Amsterdam")
    await bridges.say(ans, "/time 08:00")
    await bridges.press(ans, "Ja, stuur maar meteen")
    day_one = ans.inbox[-1].text
    assert "Dag 1 van" in day_one
    assert "113 Zelfmoordpreventie: 0800-0113 (gratis) of 113" in day_one
    assert "Veilig Thuis: 0800-2000" in day_one
    await bridges.say(ans, "/help")
    assert "113 Zelfmoordpreventie" in ans.last.text
    assert "geen therapie" in ans.last.text


async def test_a_learner_elsewhere_gets_the_neutral_line(bridges: Bridges, sandbox: Sandbox):
    kai = sandbox.user(3004, "Kai", language_code="en")
    await bridges.say(kai, "/start")
    await bridges.press(kai, "🇬🇧 English")
    await bridges.say(kai, "/timezone Asia/Tokyo")
    await bridges.say(kai, "/time 08:00")
    await bridges.press(kai, "Yes, send it now")
    day_one = kai.inbox[-1].text
    assert "First, your safety" in day_one  # day 1's safety note, with the lines
    assert "your local emergency number (112 in most of Europe), or a doctor you trust" in day_one
    assert "findahelpline.com" in day_one
    assert "Samaritans" not in day_one and "988" not in day_one


async def test_a_choice_answer_gets_its_own_feedback_line(bridges: Bridges, sandbox: Sandbox):
    lee = sandbox.user(3005, "Lee", language_code="en")
    await bridges.say(lee, "/start")
    await bridges.press(lee, "🇬🇧 English")
    await bridges.say(lee, "/timezone Europe/London")
    await bridges.say(lee, "/time 08:00")
    await bridges.say(lee, "/reflect off")  # the check-in comes with the lesson
    await bridges.press(lee, "Yes, send it now")
    assert "Samaritans: 116 123" in lee.inbox[-1].text
    await bridges.press(lee, "Not yet")
    assert "Your answer: Not yet" in lee.last.text
    assert "💡 No problem. Keep that person in mind" in lee.last.text
