"""Fixtures shared by the sandbox tests: a running `sandbox`, a PTB `bot` on it, and `alex`.

Every test here opts in to PTB's timedelta durations (`ptb_timedelta`); helpers that are
not fixtures (the fake monotonic clock, `retry_seconds`, `keyboard`) live in support.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.tools.sandbox import Sandbox, SandboxUser


@pytest.fixture(autouse=True)
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta durations: without it, building a RetryAfter warns (v22.2)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """A sandbox Bot API with its defaults (test_webhook.py overrides it with a quick backoff)."""
    async with Sandbox() as running:
        yield running


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[Bot]:
    """The real python-telegram-bot client, talking to `sandbox` over HTTP."""
    async with Bot(sandbox.token, base_url=sandbox.base_url) as client:
        yield client


@pytest.fixture
def alex(sandbox: Sandbox) -> SandboxUser:
    """User 42, Alex, English."""
    return sandbox.user(42, "Alex", language_code="en")
