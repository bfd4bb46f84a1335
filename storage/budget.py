"""The bot's send budget shared by every process, in one PostgreSQL row.

Telegram counts messages per bot, not per process. Each process asks this row
for its next few send slots in one statement; the row's `next_slot` moves on
by that many intervals, so slots from all processes interleave evenly at the
bot's rate. Time is PostgreSQL's own (`clock_timestamp()`), so the processes'
clocks need not agree. Implements bot.budget.SlotSource.
"""

from __future__ import annotations

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
    RETURNING EXTRACT(EPOCH FROM (next_slot - make_interval(secs => :span) - clock_timestamp()))
    """
)


class SharedSlots:
    """Send slots drawn from the `send_budget` row; safe for any number of processes."""

    def __init__(self, engine: AsyncEngine) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("the shared send budget needs PostgreSQL")
        self.engine = engine

    async def reserve(self, count: int, interval: float) -> float:
        """Reserve `count` slots `interval` apart; seconds from now until the first."""
        async with self.engine.begin() as connection:
            result = await connection.execute(
                _RESERVE, {"row": BUDGET_ROW, "span": float(count * interval)}
            )
            return max(0.0, float(result.scalar_one()))
