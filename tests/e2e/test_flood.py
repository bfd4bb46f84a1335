"""Past Telegram's flood limits the sandbox answers 429; the rate limiter waits and retries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.tools.sandbox import Sandbox
from lessons.loader import Course
from tests.e2e.harness import Bridges
from tests.helpers import SettableClock


@pytest.fixture
async def tight_sandbox() -> AsyncIterator[Sandbox]:
    """Real time, and a chat that takes only three quick messages before 429."""
    async with Sandbox(chat_burst=3, chat_rate=5.0) as running:
        yield running


async def test_429_is_retried_and_nothing_is_lost(
    tight_sandbox: Sandbox, tmp_path: Path, course: Course, clock: SettableClock
):
    bot = Bridges(tight_sandbox, tmp_path / "flood.db", course, clock)
    await bot.start()
    try:
        alex = tight_sandbox.user(1001, "Alex")
        await bot.say(alex, "/start")  # welcome + language question
        for command in ("/help", "/sources", "/help"):
            await bot.say(alex, command)
    finally:
        await bot.stop()
    refused = [call for call in tight_sandbox.calls("sendMessage") if call.status == 429]
    assert refused, "the burst should have hit the flood limit"
    delivered = [message.text for message in alex.inbox]
    assert len(delivered) == 5
    assert delivered[-1].startswith("Bridges")  # the last /help arrived after the retry
