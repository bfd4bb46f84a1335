"""Time zones as people say them, through the sandbox: Dutch pre-selected from Telegram's
language, city names in either language, one "did you mean", and a shared location."""

from __future__ import annotations

from bot.tools.sandbox import Sandbox
from tests.e2e.harness import Bridges


async def test_a_dutch_learner_says_den_haag_and_shares_a_location(
    bridges: Bridges, sandbox: Sandbox
):
    noor = sandbox.user(4001, "Noor", language_code="nl-NL")
    await bridges.say(noor, "/start")
    assert noor.last.button_labels() == ["🇳🇱 Nederlands", "🇬🇧 English"]
    assert "Nederlands vooraan" in noor.last.text
    await bridges.press(noor, "🇳🇱 Nederlands")
    await bridges.say(noor, "Den Haag")
    assert "Tijdzone ingesteld op Europe/Amsterdam" in noor.inbox[-2].text
    await bridges.say(noor, "/timezone brussl")
    assert "Bedoel je Europe/Brussels?" in noor.last.text
    await bridges.press(noor, "Ja, Europe/Brussels")
    assert "Tijdzone ingesteld op Europe/Brussels" in noor.inbox[-2].text
    noor.send_location(27.7172, 85.3240)  # Kathmandu, +05:45
    await bridges.settle()
    assert any("Asia/Kathmandu" in message.text for message in noor.inbox[-2:])
    assert bridges.repo is not None
    learner = await bridges.repo.get_learner(4001)
    assert learner is not None and learner.timezone == "Asia/Kathmandu"
    await bridges.say(noor, "/timezone Atlantis op zee")
    assert "ken ik niet" in noor.last.text


async def test_an_english_learner_types_new_york(bridges: Bridges, sandbox: Sandbox):
    sam = sandbox.user(4002, "Sam", language_code="en")
    await bridges.say(sam, "/start")
    assert sam.last.button_labels() == ["🇬🇧 English", "🇳🇱 Nederlands"]
    await bridges.press(sam, "🇬🇧 English")
    await bridges.say(sam, "new york")
    assert "Time zone set to America/New_York" in sam.inbox[-2].text
    sam.send_location(-31.5553, 159.0821)  # Lord Howe Island: a half-hour DST shift
    await bridges.settle()
    assert "Time zone set to Australia/Lord_Howe" in sam.inbox[-2].text
