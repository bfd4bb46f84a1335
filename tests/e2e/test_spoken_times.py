"""Times as people say them, end to end: /time and /reflect and sign-up take "7pm",
"19u30", "half acht 's avonds"; "7" or "half acht" is asked back with two buttons."""

from __future__ import annotations

from bot.tools.sandbox import Sandbox
from tests.e2e.harness import Bridges


async def test_time_as_people_type_it_in_english(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    await bridges.say(alex, "/time 7pm")
    assert any("Daily time set to 19:00" in m.text for m in alex.inbox[-3:])
    await bridges.say(alex, "/time noon")
    assert any("Daily time set to 12:00" in m.text for m in alex.inbox[-3:])
    before = len(alex.inbox)
    await bridges.say(alex, "/time 7")
    assert len(alex.inbox) == before + 1
    assert "Did you mean 07:00 or 19:00?" in alex.last.text
    assert alex.last.button_labels() == ["07:00", "19:00"]
    await bridges.press(alex, "19:00")
    assert any("Daily time set to 19:00" in m.text for m in alex.inbox[before + 1 :])
    await bridges.say(alex, "/reflect half past nine in the evening")
    assert "Did you mean" not in alex.last.text
    await bridges.say(alex, "/reflect 9")
    assert alex.last.button_labels() == ["09:00", "21:00"]
    await bridges.press(alex, "21:00")
    assert any("21:00" in m.text for m in alex.inbox[-2:])
    await bridges.say(alex, "/time lunchtime")
    assert "isn't a time I can use" in alex.last.text


async def test_dutch_times_during_sign_up_and_after(bridges: Bridges, sandbox: Sandbox):
    ans = sandbox.user(3003, "Ans", language_code="nl")
    await bridges.say(ans, "/start")
    await bridges.press(ans, "🇳🇱 Nederlands")
    await bridges.say(ans, "Utrecht")
    await bridges.say(ans, "half acht")  # typed at the time question
    assert "Bedoel je 07:30 of 19:30?" in ans.last.text
    await bridges.press(ans, "07:30")
    assert any("07:30" in m.text for m in ans.inbox[-3:])
    await bridges.say(ans, "/time 19u30")
    assert any("19:30" in m.text for m in ans.inbox[-3:])
    await bridges.say(ans, "/time 8 uur 's avonds")
    assert any("20:00" in m.text for m in ans.inbox[-3:])
    await bridges.say(ans, "/reflect kwart voor tien 's avonds")
    assert any("21:45" in m.text for m in ans.inbox[-3:])


async def test_a_utc_offset_is_taken_with_a_word_about_summer_time(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    await bridges.say(alex, "/timezone UTC+1")
    shown = "\n".join(m.text for m in alex.inbox[-2:])
    assert "Time zone set to UTC+1." in shown
    assert "does not follow summer time" in shown and "/timezone Amsterdam" in shown
    await bridges.say(alex, "/timezone hague")
    assert any("Time zone set to Europe/Amsterdam." in m.text for m in alex.inbox[-2:])
