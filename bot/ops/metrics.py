"""Bridges' Prometheus metrics, in one place, with small functions the rest of the code calls.

Every metric lives on one dedicated `CollectorRegistry` (never the library's
global one, which also carries process and platform collectors and would
make two Applications in one test process clash). Callers never touch the
metric objects: the tick shim calls `tick_finished`, handlers call
`answer_recorded` and `update_handled`, the sender calls `telegram_429`.
`lesson_recorded` is ready for the tick to call once per recorded delivery,
so a tick killed half-way still counts what it sent; until it does,
`tick_finished` counts a tick's outcomes when the tick ends. Counters carry no
`_created` series (`disable_created_metrics`): they doubled the output and no
dashboard reads them.
The backlog gauges are set by the HTTP server just before a scrape, from a
cheap indexed query, so a process that only serves /metrics still tells the
truth about the whole database.
"""

from __future__ import annotations

import time
from typing import Literal, Protocol, cast

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

__all__ = [
    "CONTENT_TYPE",
    "METRICS",
    "OUTCOMES",
    "Metrics",
    "answer_recorded",
    "lesson_recorded",
    "telegram_429",
    "tick_finished",
    "update_handled",
]

# A delivery ends in `sent`, `blocked`, `failed` or `unknown` (a send whose reply was
# lost; the lease decides later). `resent` is not a fifth ending but a subset: claims
# that went out again after an expired lease, whatever their outcome, so they are also
# counted under one of the other four. Never add `resent` to the others.
OUTCOMES = ("sent", "blocked", "failed", "resent", "unknown")
Outcome = Literal["sent", "blocked", "failed", "resent", "unknown"]

# Process-wide (prometheus_client has no per-registry switch); Bridges reads no `_created`.
disable_created_metrics()  # type: ignore[no-untyped-call]

# A tick normally takes milliseconds; at a busy hour it may claim thousands of learners.
TICK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
UPDATE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class TickCounts(Protocol):
    """What a tick reports (scheduler.tick.TickReport has these fields)."""

    sent: int
    blocked: int
    failed: int
    resent: int
    unknown: int


class Metrics:
    """The metric objects on their own registry; one per process (`METRICS`), fresh in tests."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.lessons = Counter(
            "bridges_lessons",
            "Lesson deliveries by outcome; `resent` is a subset of the others.",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in OUTCOMES:
            self.lessons.labels(outcome=outcome)  # every outcome shows, at 0, from the start
        self.telegram_429 = Counter(
            "bridges_telegram_429",
            "Bot API calls Telegram refused with 429 Too Many Requests.",
            registry=self.registry,
        )
        self.tick_seconds = Histogram(
            "bridges_tick_seconds",
            "How long one tick (claim, render, send, record) took.",
            buckets=TICK_BUCKETS,
            registry=self.registry,
        )
        self.due_backlog = Gauge(
            "bridges_due_backlog",
            "Learners due now and not yet claimed (read from the database at scrape time).",
            registry=self.registry,
        )
        self.oldest_due_lateness = Gauge(
            "bridges_oldest_due_lateness_seconds",
            "How long the longest-waiting due learner has been due (0 when nobody is).",
            registry=self.registry,
        )
        self.answers = Counter(
            "bridges_answers",
            "Check-in answers recorded.",
            registry=self.registry,
        )
        self.safety_replies = Counter(
            "bridges_safety_replies",
            "Messages answered with care and help lines, by what they spoke of (never the words).",
            ["concern"],
            registry=self.registry,
        )
        for concern in ("crisis", "abuse"):
            self.safety_replies.labels(concern=concern)
        self.together = Counter(
            "bridges_together",
            "Pair mode: invites made, links made, links ended (never who).",
            ["event"],
            registry=self.registry,
        )
        for event in ("invite", "link", "unlink"):
            self.together.labels(event=event)
        self.update_seconds = Histogram(
            "bridges_update_seconds",
            "How long handling one Telegram update took.",
            buckets=UPDATE_BUCKETS,
            registry=self.registry,
        )
        self.last_tick = Gauge(
            "bridges_last_tick_timestamp_seconds",
            "Unix time when this process last finished a tick (0 before the first).",
            registry=self.registry,
        )
        # Plain values for /healthz, which must not parse its own metrics.
        self.last_tick_at: float | None = None
        self.tick_started_at: float | None = None
        # Set by the first `lesson_recorded`: outcomes are then counted per delivery, and
        # `tick_finished` must not count them a second time.
        self.counts_per_delivery = False

    def lesson_recorded(self, outcome: Outcome) -> None:
        """Count one delivery's outcome as soon as it is recorded (see `lesson_recorded`)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown lesson outcome {outcome!r}")
        self.counts_per_delivery = True
        self.lessons.labels(outcome=outcome).inc()

    def tick_started(self, at: float | None = None) -> None:
        self.tick_started_at = time.time() if at is None else at

    def tick_aborted(self) -> None:
        """The tick raised: it is no longer running, and it did not finish."""
        self.tick_started_at = None

    def tick_finished(self, report: TickCounts, duration_s: float, at: float | None = None) -> None:
        """Count the tick's outcomes (unless counted per delivery); `at` is when it finished."""
        finished = time.time() if at is None else at
        counts = {
            "sent": report.sent,
            "blocked": report.blocked,
            "failed": report.failed,
            "resent": report.resent,
            "unknown": report.unknown,
        }
        for outcome, count in counts.items():
            if count and not self.counts_per_delivery:
                self.lessons.labels(outcome=outcome).inc(count)
        self.tick_seconds.observe(duration_s)
        self.last_tick.set(finished)
        self.last_tick_at = finished
        self.tick_started_at = None

    def set_backlog(self, due: int, oldest_lateness_s: float) -> None:
        self.due_backlog.set(due)
        self.oldest_due_lateness.set(max(0.0, oldest_lateness_s))

    def render(self) -> bytes:
        """The Prometheus text format of every metric on this registry."""
        return generate_latest(self.registry)


METRICS = Metrics()


def tick_finished(report: TickCounts, duration_s: float) -> None:
    """The tick shim calls this after every tick."""
    METRICS.tick_finished(report, duration_s)


def lesson_outcome(status: str, resend: bool) -> None:
    """The tick's hook (DeliveryService.on_outcome): one recorded lesson send, as it happens."""
    lesson_recorded(cast(Outcome, str(status)))
    if resend:
        lesson_recorded("resent")


def lesson_recorded(outcome: Outcome) -> None:
    """Call once per delivery whose outcome was just recorded, and once more with `resent`
    when that delivery was a resend after an expired lease.

    The counter then moves during a tick, not only when it ends, and a tick killed
    half-way still counted what it sent. From the first call on, `tick_finished` stops
    counting outcomes itself, so a process never counts a delivery twice.
    """
    METRICS.lesson_recorded(outcome)


def answer_recorded() -> None:
    """Call once per check-in answer that was stored."""
    METRICS.answers.inc()


def safety_reply(concern: str) -> None:
    """Call once per message answered with care and help lines (`crisis` or `abuse`)."""
    METRICS.safety_replies.labels(concern=concern).inc()


def together(event: str) -> None:
    """Call once per invite made (`invite`), link made (`link`) or link ended (`unlink`)."""
    METRICS.together.labels(event=event).inc()


def telegram_429() -> None:
    """Call once per Bot API call Telegram answered with 429 (RetryAfter)."""
    METRICS.telegram_429.inc()


def update_handled(seconds: float) -> None:
    """Call once per Telegram update with how long its handling took."""
    METRICS.update_seconds.observe(seconds)
