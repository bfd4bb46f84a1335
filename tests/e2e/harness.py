"""Drives the real Bridges Application over HTTP against the sandbox, with a settable clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from pathlib import Path

from bot.chat.activity import Activity
from bot.chat.app import BridgesApp, build_application
from bot.ops.runner import running
from bot.tools.sandbox import Sandbox, SandboxUser
from lessons.loader import Course
from scheduler.tick import TickReport, run_tick
from storage.db import create_engine, upgrade_schema
from storage.repo import Repo
from tests.helpers import SettableClock

# Long enough that the JobQueue's own tick never fires during a test: the tests
# call the tick themselves, at the instants they choose.
TEST_TICK_SECONDS = 3600
# Onboarding's last buttons: send the first lesson now, or at the learner's time.
FIRST_LESSON = {
    "en": ("Yes, send it now", "At my chosen time is fine"),
    "nl": ("Ja, stuur maar meteen", "Op de gekozen tijd is prima"),
}


class Bridges:
    """One running bot: start, restart, tick and wait until everything is answered."""

    def __init__(
        self,
        sandbox: Sandbox,
        database: Path,
        course: Course,
        clock: SettableClock,
        *,
        pace_clock: Callable[[], float] = time.monotonic,
        database_url: str | None = None,
    ) -> None:
        """`database_url` (e.g. the real PostgreSQL) replaces the SQLite file `database`."""
        self.sandbox = sandbox
        self.database_url = database_url or f"sqlite:///{database}"
        self.pace_clock = pace_clock
        self.database = database
        self.course = course
        self.clock = clock
        self.activity = Activity()
        self.app: BridgesApp | None = None
        self.repo: Repo | None = None
        self._stack: AsyncExitStack | None = None

    async def start(self) -> None:
        self._stack = AsyncExitStack()
        engine = create_engine(self.database_url)
        self._stack.push_async_callback(engine.dispose)
        await upgrade_schema(engine)
        self.repo = Repo(engine)
        self.app = build_application(
            token=self.sandbox.token,
            base_url=self.sandbox.base_url,
            repo=self.repo,
            course=self.course,
            clock=self.clock,
            tick_seconds=TEST_TICK_SECONDS,
            # The tests run every tick themselves (`tick`, `next_day_at`): a JobQueue tick
            # of its own would race them on the simulated clock and take their claims.
            first_tick=TEST_TICK_SECONDS,
            activity=self.activity,
            pace_clock=self.pace_clock,
        )
        await self._stack.enter_async_context(running(self.app, poll_timeout=1))

    async def stop(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def _idle(self) -> bool:
        return self.activity.idle and (self.app is None or self.app.update_queue.empty())

    async def settle(self) -> None:
        """Wait until every update was handled and every reply went out."""
        await self.sandbox.wait_idle(timeout=10, extra=self._idle)

    async def say(self, user: SandboxUser, text: str) -> None:
        user.send(text)
        await self.settle()

    async def press(self, user: SandboxUser, label: str) -> None:
        user.press(label)
        await self.settle()

    async def tick(self) -> TickReport:
        assert self.app is not None
        services = self.app.bot_data.services
        async with self.activity.working():
            report = await run_tick(self.clock, services.delivery)
        await self.settle()
        return report

    async def next_day_at(self, when: datetime) -> TickReport:
        """Move the clock to `when` and run the tick, as the JobQueue would."""
        self.clock.now = when
        return await self.tick()

    async def onboard(
        self,
        user: SandboxUser,
        *,
        zone: str = "Europe/Amsterdam",
        time: str = "08:00",
        first_now: bool = True,
        checkin_time: str = "off",
    ) -> None:
        """Onboard through the real dialogue. `checkin_time` is the evening check-in's time;
        "off" (the default here) keeps the check-in in the lesson message."""
        await self.say(user, "/start")
        await self.press(user, "🇬🇧 English" if user.language_code != "nl" else "🇳🇱 Nederlands")
        await self.say(user, f"/timezone {zone}")
        await self.say(user, f"/time {time}")
        if checkin_time != "20:00":
            await self.say(user, f"/reflect {checkin_time}")
        labels = FIRST_LESSON["nl" if user.language_code == "nl" else "en"]
        await self.press(user, labels[0] if first_now else labels[1])


def advance(clock: SettableClock, **delta: float) -> datetime:
    return clock.advance(timedelta(**delta))
