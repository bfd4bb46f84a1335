"""The bot's send budget shared by every process, in one PostgreSQL row.

Telegram counts messages per bot, not per process. Each process asks this row
for its next few send slots in one statement; the row's `next_slot` moves on
by that many intervals, so slots from all processes interleave evenly at the
bot's rate. Time is PostgreSQL's own (`clock_timestamp()`), so the processes'
clocks need not agree; each process maps the database's time onto its own
monotonic clock with the offset seen on its fastest round trip so far (as NTP
does), so a reply that came back late never shifts its slots onto another
process's. Implements bot.chat.budget.SlotSource.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

BUDGET_ROW = 1

_RESERVE = text(
    """
    INSERT INTO send_budget (id, next_slot)
    VALUES (:row, clock_timestamp() + make_interval(secs => :span))
    ON CONFLICT (id) DO UPDATE
        SET next_slot = GREATEST(send_budget.next_slot, clock_timestamp())
                        + make_interval(secs => :span)
    RETURNING EXTRACT(EPOCH FROM next_slot - make_interval(secs => :span)),
              EXTRACT(EPOCH FROM clock_timestamp())
    """
)
_NOW = text("SELECT EXTRACT(EPOCH FROM clock_timestamp())")
_PAUSE = text(
    """
    INSERT INTO send_budget (id, next_slot)
    VALUES (:row, clock_timestamp() + make_interval(secs => :seconds))
    ON CONFLICT (id) DO UPDATE
        SET next_slot = GREATEST(send_budget.next_slot,
                                 clock_timestamp() + make_interval(secs => :seconds))
    """
)
# How far the two clocks may drift apart per second before an old offset is distrusted.
_DRIFT_PER_S = 1e-4


class SharedSlots:
    """Send slots drawn from the `send_budget` row; safe for any number of processes."""

    def __init__(self, engine: AsyncEngine, clock: Callable[[], float] = time.monotonic) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("the shared send budget needs PostgreSQL")
        self.engine = engine
        self._clock = clock
        self._offset: float | None = None  # local = database + offset
        self._offset_at = 0.0

    async def _calibrate(self) -> None:
        """A few quick round trips before the first reservation: the first connect is slow."""
        async with self.engine.connect() as connection:
            for _ in range(3):
                result = await connection.execute(_NOW)
                self._observe(float(result.scalar_one()))

    def _observe(self, database_now: float) -> float:
        """Fold one reading of the database's clock into the offset; returns the local time."""
        received = self._clock()
        sample = received - database_now  # the true offset is at most this
        if self._offset is None:
            self._offset = sample
        else:
            aged = self._offset + _DRIFT_PER_S * (received - self._offset_at)
            self._offset = min(sample, aged)
        self._offset_at = received
        return received

    async def pause(self, seconds: float) -> None:
        """Push the next free slot past a 429's retry_after, for every process of the bot."""
        async with self.engine.begin() as connection:
            await connection.execute(_PAUSE, {"row": BUDGET_ROW, "seconds": float(seconds)})

    async def reserve(self, count: int, interval: float) -> float:
        """Reserve `count` slots `interval` apart; seconds from now until the first."""
        if self._offset is None:
            await self._calibrate()
        async with self.engine.begin() as connection:
            result = await connection.execute(
                _RESERVE, {"row": BUDGET_ROW, "span": float(count * interval)}
            )
            first, database_now = (float(value) for value in result.one())
        received = self._observe(database_now)
        assert self._offset is not None
        return max(0.0, first + self._offset - received)
