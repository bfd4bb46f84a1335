"""Update handling: concurrent across learners, one at a time per learner, and counted.

Updates run concurrently so one learner's slow reply (waiting for a send
slot, or a 429) never holds up another's tap; each learner's own updates run
in order, so two quick taps never race on one learner's row. The counts let
the demo and the tests wait until the bot is idle without a fixed sleep:
together with the sandbox's own view (no unconfirmed update, no request in
flight) they tell "everything the learner caused has been answered".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.ops import metrics

# How many updates are handled at once (across different learners).
CONCURRENT_UPDATES = 64
# How many more may wait (for their learner's turn) before PTB stops taking new ones.
QUEUED_PER_SLOT = 16


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


class _KeyedLocks:
    """One lock per learner, kept only while someone holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: int) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class TrackingUpdateProcessor(BaseUpdateProcessor):
    """Handles updates concurrently, serialised per learner, and counts them."""

    def __init__(self, activity: Activity, concurrency: int = CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates=concurrency * QUEUED_PER_SLOT)
        self.activity = activity
        self._learners = _KeyedLocks()
        self._slots = asyncio.Semaphore(concurrency)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Take the learner's own turn first, then one of the shared slots.

        In this order a learner's queued burst of updates waits on their own
        lock without holding shared slots, so it never delays other learners.
        (PTB's own semaphore, taken before this, is sized far above ours.)
        """
        started = time.monotonic()
        user = update.effective_user if isinstance(update, Update) else None
        async with self.activity.working():
            try:
                if user is None:
                    async with self._slots:
                        await coroutine
                    return
                async with self._learners.hold(user.id), self._slots:
                    await coroutine
            finally:
                metrics.update_handled(time.monotonic() - started)

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""
