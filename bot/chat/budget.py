"""The bot's send budget: Telegram's per-bot limits, kept by spacing sends evenly.

Telegram allows a bot about 30 messages a second overall (more with paid
broadcasts) and about one a second per chat. A token bucket that lets a burst
of 30 through and then 30 a second still breaks a strict "30 in any second",
so the budget hands out *slots* spaced evenly at the configured rate (with a
small safety margin), one per counted request. Slots come from a `SlotSource`:
in memory for one process, or one PostgreSQL row (storage/budget.py) that
every process of the bot draws from, so N processes together stay within one
bot's limit.

Replies to learners who are talking to the bot take the next slot ahead of
bulk lesson sends (marked with `rate_limit_args=BULK`), so a tap is answered
promptly while a morning's fan-out is under way. A 429 that still comes
pauses every send for Telegram's `retry_after`, then the request is tried
again, up to `max_retries` times.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

BULK = "bulk"  # rate_limit_args of a lesson fan-out send: it waits behind replies
# Slots are spaced this much wider than the nominal rate: any rate+1 slots span
# 1/SAFETY seconds, about 31 ms more than one second, whatever the rate.
SAFETY = 0.97
# A slot released later than this (the loop was busy) is let go: below the margin
# above, a late slot can never put rate+1 sends inside one second.
LATE_S = 0.025
# After the shared budget fails, pace this process alone this long, then try it again.
FALLBACK_S = 10.0
# Telegram's per-chat pace: about one message a second, after a burst (the sandbox's default),
# with the same margin as the overall budget: Telegram counts arrivals, not our reservations.
CHAT_INTERVAL_S = 1.0 / SAFETY
CHAT_BURST = 20
# Endpoints Telegram counts as messages (edits included, as a strict stand-in does).
_COUNTED_PREFIXES = ("send", "editMessage", "copyMessage", "forwardMessage")
_UNCOUNTED = frozenset({"sendChatAction"})


def counts(endpoint: str) -> bool:
    """Whether a Bot API method spends the message budget."""
    return endpoint.startswith(_COUNTED_PREFIXES) and endpoint not in _UNCOUNTED


class SlotSource(Protocol):
    """Where slots come from: `reserve(n, interval)` -> seconds from now to the first of n slots.

    `pause(seconds)` pushes every later slot past a 429's retry_after, for every
    process that shares the source.
    """

    async def reserve(self, count: int, interval: float) -> float: ...

    async def pause(self, seconds: float) -> None: ...


class LocalSlots:
    """Slots for one process, on the monotonic clock."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._next = 0.0

    async def reserve(self, count: int, interval: float) -> float:
        now = self._clock()
        first = max(self._next, now)
        self._next = first + count * interval
        return first - now

    async def pause(self, seconds: float) -> None:
        self._next = max(self._next, self._clock() + seconds)


class _ChatPace:
    """One chat's token bucket: `burst` messages at once, then one per CHAT_INTERVAL_S."""

    __slots__ = ("burst", "stamp", "tokens")

    def __init__(self, now: float, burst: int) -> None:
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = now

    def wait(self, now: float) -> float:
        """Take this chat's next turn; seconds to wait for it."""
        self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) / CHAT_INTERVAL_S)
        self.stamp = now
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens * CHAT_INTERVAL_S


class SendBudget(BaseRateLimiter[str]):
    """A python-telegram-bot rate limiter that spaces counted sends evenly, replies first."""

    def __init__(
        self,
        per_second: float = 30.0,
        *,
        slots: SlotSource | None = None,
        max_retries: int = 3,
        chat_burst: int = CHAT_BURST,
        on_429: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.interval = 1.0 / (per_second * SAFETY)
        self.slots = slots or LocalSlots(clock)
        self.max_retries = max_retries
        self.chat_burst = chat_burst
        self._on_429 = on_429 or (lambda: None)
        self._clock = clock
        self._replies: collections.deque[asyncio.Future[None]] = collections.deque()
        self._bulk: collections.deque[asyncio.Future[None]] = collections.deque()
        self._dispatcher: asyncio.Task[None] | None = None
        self._resume_at = 0.0  # no slot is handed out before this (after a 429)
        self._local = LocalSlots(clock)  # used while a shared source is unreachable
        self._fallback_until = -math.inf
        self._chats: dict[int, _ChatPace] = {}

    async def initialize(self) -> None:
        """Nothing to open: the dispatcher starts with the first waiting send."""

    async def shutdown(self) -> None:
        """Stop handing out slots; sends still waiting for one are cancelled, not left hanging."""
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher
            self._dispatcher = None
        while (waiter := self._next_waiter()) is not None:
            waiter.cancel()

    @property
    def waiting(self) -> int:
        """Sends queued for a slot (replies and bulk)."""
        return len(self._replies) + len(self._bulk)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        counted = counts(endpoint)
        for attempt in range(self.max_retries + 1):
            if counted:
                await self._chat_turn(data.get("chat_id"))
                await self._slot(bulk=rate_limit_args == BULK)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                self._on_429()
                pause = error.retry_after
                seconds = pause if isinstance(pause, int | float) else pause.total_seconds()
                self._resume_at = max(self._resume_at, self._clock() + seconds + 0.1)
                await self._pause_source(seconds + 0.1)
                if attempt == self.max_retries:
                    log.error("%s: 429 after %d retries; giving up", endpoint, attempt)
                    raise
                log.warning("%s: 429, retrying after %.1f s", endpoint, seconds)
                await asyncio.sleep(max(0.0, self._resume_at - self._clock()))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _chat_turn(self, chat_id: object) -> None:
        """Wait for this chat's own pace (one message a second after a short burst)."""
        if not isinstance(chat_id, int):
            with contextlib.suppress(TypeError, ValueError):
                chat_id = int(str(chat_id))
        if not isinstance(chat_id, int):
            return
        now = self._clock()
        pace = self._chats.get(chat_id)
        if pace is None:
            if len(self._chats) > 10_000:  # forget chats that sent nothing for a while
                horizon = now - self.chat_burst * CHAT_INTERVAL_S
                self._chats = {k: v for k, v in self._chats.items() if v.stamp > horizon}
            pace = self._chats[chat_id] = _ChatPace(now, self.chat_burst)
        delay = pace.wait(now)
        if delay > 0:
            await asyncio.sleep(delay)

    async def _slot(self, *, bulk: bool) -> None:
        """Wait for a slot of the bot's budget; replies are served before bulk sends."""
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._bulk if bulk else self._replies).append(turn)
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch())
        try:
            await turn
        except asyncio.CancelledError:
            with contextlib.suppress(ValueError):
                (self._bulk if bulk else self._replies).remove(turn)
            raise

    async def _dispatch(self) -> None:
        """Hand out slots while anyone waits: reserve a few at once, release one per slot."""
        while self._replies or self._bulk:
            count = max(1, min(self.waiting, int(0.2 / self.interval) or 1))
            try:
                delay = await self._source().reserve(count, self.interval)
            except Exception:  # the shared budget is unreachable: pace locally, never stop
                log.warning(
                    "send budget unavailable; pacing this process alone for %.0f s",
                    FALLBACK_S,
                    exc_info=True,
                )
                self._fallback_until = self._clock() + FALLBACK_S
                continue
            start = self._clock() + delay
            for index in range(count):
                at = max(start + index * self.interval, self._resume_at)
                wait = at - self._clock()
                if wait > 0:
                    await asyncio.sleep(wait)
                if self._clock() - at > LATE_S:
                    # The loop was busy far past this slot: using it now could bunch it
                    # against the next ones (perhaps another process's). Let it go.
                    continue
                waiter = self._next_waiter()
                if waiter is None:
                    break
                waiter.set_result(None)

    def _source(self) -> SlotSource:
        """The shared source, or this process's own while the shared one is unreachable."""
        if self._clock() < self._fallback_until:
            return self._local
        return self.slots

    async def _pause_source(self, seconds: float) -> None:
        """Tell every process drawing from the same source to hold off too."""
        try:
            await self._source().pause(seconds)
        except Exception:
            log.warning("could not share a 429 pause", exc_info=True)

    def _next_waiter(self) -> asyncio.Future[None] | None:
        """The first send still waiting, replies before bulk; cancelled ones are dropped."""
        for queue in (self._replies, self._bulk):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    return waiter
        return None
