"""Counts work in progress, so the demo and the tests can wait until the bot is idle.

The update processor counts updates being handled; the tick job counts itself.
Together with the sandbox's own view (no unconfirmed update, no request in
flight) this tells "everything the learner caused has been answered" without
a fixed sleep.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

from telegram.ext import SimpleUpdateProcessor


class Activity:
    def __init__(self) -> None:
        self.busy = 0

    @property
    def idle(self) -> bool:
        return self.busy == 0

    @asynccontextmanager
    async def working(self) -> AsyncIterator[None]:
        self.busy += 1
        try:
            yield
        finally:
            self.busy -= 1


class TrackingUpdateProcessor(SimpleUpdateProcessor):
    """Handles updates one at a time (as PTB's default does) and counts them."""

    def __init__(self, activity: Activity) -> None:
        super().__init__(max_concurrent_updates=1)
        self.activity = activity

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        async with self.activity.working():
            await coroutine
