"""The one place Bridges asks the system for the time.

Everything else receives a `Clock` and calls it, so tests and `bridges demo`
can move time forward without sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, as an aware UTC instant."""
    return datetime.now(UTC)


class ShiftedClock:
    """The system clock plus an offset the demo can push forward ("the next day")."""

    def __init__(self, base: Clock = system_clock) -> None:
        self._base = base
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return self._base() + self.offset

    def jump_to(self, instant: datetime) -> None:
        """Move the clock to `instant` (never backwards)."""
        now = self()
        if instant > now:
            self.offset += instant - now
