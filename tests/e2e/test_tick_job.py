"""The JobQueue's own tick (not the test's) sends a due lesson, at the injected clock's time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from bot.chat.activity import Activity
from bot.chat.app import build_application
from bot.ops.runner import running
from bot.tools.sandbox import Sandbox
from lessons.loader import Course
from storage.db import create_engine, upgrade_schema
from storage.repo import Repo
from tests.helpers import SettableClock, make_learner


async def test_the_scheduled_tick_delivers(sandbox: Sandbox, tmp_path: Path, course: Course):
    engine = create_engine(f"sqlite:///{tmp_path / 'tick.db'}")
    await upgrade_schema(engine)
    repo = Repo(engine)
    clock = SettableClock(datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
    alex = sandbox.user(1001, "Alex")
    await make_learner(repo, clock.now, zone="Europe/Amsterdam", daily_time="08:00")
    clock.now = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 in Amsterdam: due
    activity = Activity()
    app = build_application(
        token=sandbox.token,
        base_url=sandbox.base_url,
        repo=repo,
        course=course,
        clock=clock,
        tick_seconds=0.05,
        activity=activity,
    )
    arrived = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_message(*_: object) -> None:
        if alex.inbox:  # the lesson, with its check-in
            loop.call_soon_threadsafe(arrived.set)

    sandbox.add_listener(on_message)
    try:
        async with running(app, poll_timeout=1):
            async with asyncio.timeout(10):
                await arrived.wait()
            await sandbox.wait_idle(extra=lambda: activity.idle)
    finally:
        await engine.dispose()
    assert "Day 1 of" in alex.inbox[0].text
    assert "Check-in" in alex.inbox[0].text
    assert len(alex.inbox) == 1  # many ticks ran; still one delivery
