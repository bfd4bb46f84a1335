"""What the sandbox counts while it runs, for tests and for benchmarks in another process.

Counters grow by one per request (never a scan of past requests); the update -> reply
latencies are computed only when asked, from each user's own stamps.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.tools.sandbox.state import SandboxUser


@dataclass
class Counters:
    """Running totals; ``reset`` starts a new measurement without restarting the sandbox."""

    calls: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    flood_refusals: int = 0
    """429s answered."""
    injected_errors: int = 0
    """5xx answered because a fault said so."""
    lost_replies: int = 0
    """Calls processed whose reply was dropped or held past the client's patience."""
    conflicts: int = 0
    """409s answered to getUpdates (a second poller, or a webhook is set)."""
    webhook_posts: int = 0
    webhook_failures: int = 0

    def reset(self) -> None:
        fresh = Counters()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))


def reply_latencies(users: Iterable[SandboxUser]) -> list[float]:
    """Seconds from each update a user caused to the bot's first answer in that chat after it.

    An update still unanswered is left out. Both lists are in time order, so one merge per
    user does it: O(updates + answers).
    """
    latencies: list[float] = []
    for user in users:
        replies = user.reply_times
        index = 0
        for stamp in user.updates:
            while index < len(replies) and replies[index] < stamp.created:
                index += 1
            if index == len(replies):
                break
            latencies.append(replies[index] - stamp.created)
    return latencies


def summarise(values: list[float]) -> dict[str, Any]:
    """Count, mean and nearest-rank percentiles, in seconds (None when there is nothing)."""
    if not values:
        return {"count": 0, "mean": None, "p50": None, "p90": None, "p99": None, "max": None}
    ordered = sorted(values)

    def rank(percent: float) -> float:
        return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]

    return {
        "count": len(ordered),
        "mean": sum(ordered) / len(ordered),
        "p50": rank(50),
        "p90": rank(90),
        "p99": rank(99),
        "max": ordered[-1],
    }
