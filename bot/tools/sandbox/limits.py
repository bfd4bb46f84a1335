"""Telegram's flood limits on a monotonic clock, in three modes.

Telegram answers 429 with ``retry_after`` when a bot sends faster than about 30 messages a
second overall or about one a second to one chat (after a short burst). The modes:

- ``bucket`` (the default): one token bucket for the bot and one per chat, so tests can prove
  that Bridges paces its own sends;
- ``strict``: Telegram's real shape, at most ``global_limit`` sends in ANY sliding window of
  one second (a log of the last second's sends, not a bucket that lets a refilled burst
  through) and one a second per chat beyond a small burst;
- ``off``: never 429, for throughput benchmarks.

Every check is O(1) amortised: the sliding window forgets sends older than a second, and a
chat's bucket is found in a dict.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import Literal, Protocol

FloodMode = Literal["bucket", "strict", "off"]
FLOOD_MODES: tuple[FloodMode, ...] = ("bucket", "strict", "off")


class Flood(Protocol):
    """What the Bot API methods ask before a message goes out."""

    def acquire(self, chat_id: int) -> int:
        """Spend a send for ``chat_id``; return 0, or the whole seconds to wait (>= 1)."""
        ...


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; starts full."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def wait_time(self) -> float:
        """Seconds until one token is available; 0 when one is available now."""
        self._refill()
        if self._tokens >= 1.0:
            return 0.0
        return (1.0 - self._tokens) / self.rate

    def take(self) -> None:
        """Spend one token; call only after :meth:`wait_time` returned 0."""
        self._refill()
        self._tokens -= 1.0


class FloodControl:
    """One global bucket plus one bucket per chat; a send needs a token from both."""

    def __init__(
        self,
        *,
        global_rate: float,
        global_burst: int,
        chat_rate: float,
        chat_burst: int,
        clock: Callable[[], float],
    ) -> None:
        self._clock = clock
        self._chat_rate = chat_rate
        self._chat_burst = chat_burst
        self._global = TokenBucket(global_rate, global_burst, clock)
        self._chats: dict[int, TokenBucket] = {}

    def _chat(self, chat_id: int) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            bucket = TokenBucket(self._chat_rate, self._chat_burst, self._clock)
            self._chats[chat_id] = bucket
        return bucket

    def acquire(self, chat_id: int) -> int:
        """Spend a token for ``chat_id``; return 0, or the whole seconds to wait (>= 1)."""
        chat = self._chat(chat_id)
        wait = max(self._global.wait_time(), chat.wait_time())
        if wait > 0:
            return max(1, math.ceil(wait))
        self._global.take()
        chat.take()
        return 0


class NoFlood:
    """The limiter switched off: every send goes through (throughput benchmarks)."""

    def acquire(self, chat_id: int) -> int:
        return 0


class SlidingWindow:
    """At most ``limit`` events in any half-open window ``(t - window, t]``."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float]) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._stamps: deque[float] = deque()

    def wait_time(self) -> float:
        """Seconds until one more event fits; 0 when it fits now."""
        now = self._clock()
        while self._stamps and self._stamps[0] <= now - self.window:
            self._stamps.popleft()
        if len(self._stamps) < self.limit:
            return 0.0
        return self._stamps[0] + self.window - now

    def take(self) -> None:
        """Record one event; call only after :meth:`wait_time` returned 0."""
        self._stamps.append(self._clock())


class StrictFloodControl:
    """Telegram's real shape: a sliding second for the bot, one a second per chat."""

    def __init__(
        self,
        *,
        global_limit: int = 30,
        chat_rate: float = 1.0,
        chat_burst: int = 3,
        clock: Callable[[], float],
    ) -> None:
        self._clock = clock
        self._chat_rate = chat_rate
        self._chat_burst = chat_burst
        self._global = SlidingWindow(global_limit, 1.0, clock)
        self._chats: dict[int, TokenBucket] = {}

    def acquire(self, chat_id: int) -> int:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = TokenBucket(self._chat_rate, self._chat_burst, self._clock)
            self._chats[chat_id] = chat
        wait = max(self._global.wait_time(), chat.wait_time())
        if wait > 0:
            return max(1, math.ceil(wait))
        self._global.take()
        chat.take()
        return 0
