"""Telegram's flood limits as token buckets on a monotonic clock.

Telegram answers 429 with ``retry_after`` when a bot sends faster than about 30 messages a
second overall or about one a second to one chat (after a short burst). The sandbox keeps one
bucket for the bot and one per chat, so tests can prove that Bridges paces its own sends.
"""

from __future__ import annotations

import math
from collections.abc import Callable


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
