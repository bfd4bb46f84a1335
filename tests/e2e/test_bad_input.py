"""Bad input gets a clear, friendly answer and loses nothing."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from bot.ops.logs import configure_logging
from bot.tools.sandbox import Sandbox
from tests.e2e.harness import Bridges


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/time 25:00", "“25:00” isn't a time I can use"),
        ("/time lunchtime", "for example /time 07:30"),
        ("/timezone Mars/Olympus", "I don't know the place or time zone “Mars/Olympus”"),
        ("/timezone <b>&</b>", "I don't know the place or time zone “<b>&</b>”"),
        ("/language fr", "/language nl or /language en"),
        ("/pause soon", "for example /pause 7"),
        ("/pause 0", "whole number from 1 to 365"),
        ("/pause 9999", "whole number from 1 to 365"),
        ("/frobnicate", "I don't know /frobnicate"),
    ],
)
async def test_wrong_arguments_get_an_example(
    bridges: Bridges, sandbox: Sandbox, command: str, expected: str
):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex, first_now=False)
    before = await bridges.repo.get_learner(1001) if bridges.repo else None
    await bridges.say(alex, command)
    assert expected in alex.last.text
    after = await bridges.repo.get_learner(1001) if bridges.repo else None
    assert after == before  # nothing changed


async def test_typed_zone_and_time_during_onboarding(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.say(alex, "/start")
    await bridges.press(alex, "🇬🇧 English")
    await bridges.say(alex, "Atlantis")
    assert "I don't know the place or time zone “Atlantis”" in alex.inbox[-2].text
    assert "Which time zone" in alex.last.text  # asked again
    await bridges.say(alex, "asia/kathmandu")
    assert "Time zone set to Asia/Kathmandu" in alex.inbox[-2].text
    await bridges.say(alex, "7.5")
    assert "isn't a time I can use" in alex.inbox[-2].text
    await bridges.say(alex, "6:45")
    assert "06:45" in alex.last.text and "first lesson" in alex.last.text


async def test_name_full_of_markup_and_emoji_is_escaped(bridges: Bridges, sandbox: Sandbox):
    name = "<b>Zoë</b> & <i>co</i> 🌉 </blockquote>"
    odd = sandbox.user(3003, name)
    await bridges.onboard(odd)
    welcome = odd.inbox[0]
    assert f"Hi {name}!" in welcome.text
    lesson = odd.inbox[-1]
    assert f"Hi {name}, welcome" in lesson.text
    sends = [call for call in sandbox.requests if call.method == "sendMessage"]
    assert sends and all(call.status == 200 for call in sends)


async def test_forged_and_stale_buttons_get_a_polite_reply(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    mallory = sandbox.user(6666, "Mallory")
    await bridges.onboard(alex)
    await bridges.onboard(mallory)
    mallory_checkin = mallory.last
    # Alex's check-in is delivery 1; Mallory tries to answer it with her own button message.
    mallory.press_data("v1:a:1:sent", message_id=mallory_checkin.message_id)
    await bridges.settle()
    assert "doesn't work any more" in mallory.callback_answers[-1].text
    for junk in ("v1:a:abc:1", "v0:a:1:1", "nonsense", "v1:zz", "v1:a:2:not-an-option"):
        mallory.press_data(junk, message_id=mallory_checkin.message_id)
        await bridges.settle()
        assert "doesn't work any more" in mallory.callback_answers[-1].text
    progress = await bridges.repo.progress(1001) if bridges.repo else None
    assert progress is not None and progress.answers == 0
    # A check-in from yesterday is closed once today's lesson came.
    await bridges.next_day_at(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))
    old_checkin = next(m for m in alex.inbox if "Check-in" in m.text)
    alex.press("Not yet", message_id=old_checkin.message_id)
    await bridges.settle()
    assert "closed" in alex.callback_answers[-1].text


async def test_blocked_learner_is_marked_and_skipped(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    alex.block()
    await bridges.settle()
    learner = await bridges.repo.get_learner(1001) if bridges.repo else None
    assert learner is not None and learner.status == "blocked"
    sends = len(sandbox.calls("sendMessage"))
    assert (await bridges.next_day_at(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))).claimed == 0
    assert len(sandbox.calls("sendMessage")) == sends


async def test_learner_who_blocked_silently_is_marked_on_403(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    alex.blocked = True  # no my_chat_member update reached us: only the 403 tells
    report = await bridges.next_day_at(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))
    assert report.blocked == 1
    learner = await bridges.repo.get_learner(1001) if bridges.repo else None
    assert learner is not None and learner.status == "blocked" and learner.next_due_at is None
    assert (await bridges.next_day_at(datetime(2026, 3, 4, 7, 0, tzinfo=UTC))).claimed == 0


async def test_long_and_non_text_messages(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)
    await bridges.say(alex, "x" * 4096)
    assert "I couldn't tell which answer you meant" in alex.last.text  # day 1: buttons
    await bridges.say(alex, "/start@BridgesBot")
    assert "Welcome back" in alex.last.text


async def test_commands_are_registered_in_both_languages(bridges: Bridges, sandbox: Sandbox):
    english = sandbox.commands[("default", "")]
    dutch = sandbox.commands[("default", "nl")]
    assert [c["command"] for c in english] == [c["command"] for c in dutch]
    assert {"today", "pause", "resume", "progress", "help", "stop", "delete"} <= {
        c["command"] for c in english
    }
    assert english != dutch


async def test_token_never_reaches_the_logs(
    bridges: Bridges, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
):
    """Even at DEBUG, with httpx logging request URLs, the token is redacted."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    configure_logging("DEBUG", secrets=[sandbox.token])
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    try:
        alex = sandbox.user(1001, "Alex")
        await bridges.onboard(alex)
        logging.getLogger("test").error("failed calling %s", sandbox.base_url + sandbox.token)
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
    logged = capsys.readouterr().err
    assert "sendMessage" in logged  # httpx did log the request URLs
    assert sandbox.token not in logged
    assert sandbox.token.split(":", 1)[1] not in logged
    assert "[REDACTED]" in logged


async def test_text_at_the_language_step_asks_again(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.say(alex, "/start")
    await bridges.say(alex, "hello?")
    assert "Which language" in alex.last.text
    assert alex.last.button_labels() == ["🇬🇧 English", "🇳🇱 Nederlands"]
