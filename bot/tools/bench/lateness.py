"""`bridges bench lateness`: how late a busy minute's learners get their lesson at 30/s.

`--learners` learners all choose the same minute (second-level spread, as
everyone picking 07:00 would). At Telegram's 30 messages a second a hundred
thousand of them take about 55 minutes to send, so time is simulated: the real
repository and claim (`storage.repo.Repo.claim_due`, on a bench database), the
real `scheduler.tick.run_tick` and `DeliveryService` (render, send, record), and a
virtual clock that moves 1/per_second with every send. The fake Send records
each lesson's virtual send time; lateness = send time - due time (negative:
early).

Two runs side by side, on identically seeded databases: first-in-first-out
(`early=0`, the tick starts at the minute) and the send window (`early` =
`--early-minutes`, run_tick's own `_window` decides how far before the
minute it starts, from the backlog). Between ticks the virtual clock moves by
the tick interval, as the JobQueue would call it.

One thing is not virtual: run_tick's time budget reads `time.monotonic`, so
the simulation passes an unbounded budget (one tick runs while the backlog
lasts, as a real tick that the next one relieves would). Sends go one at a
time (`concurrency=1`): in virtual time concurrency changes nothing, and on
SQLite it only queues the records on the writer lock.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.tools.bench.common import Progress, machine, percentile, pyplot, save, say
from lessons.loader import load_course
from lessons.render import RenderedLesson, Renderer
from scheduler.claims import Claim
from scheduler.delivery import DeliveryService, SendResult
from scheduler.states import SendStatus
from scheduler.tick import run_tick
from storage.seed import DEFAULT_POSTGRES_URL, bench_database

# The busy minute: a fixed instant, so runs compare; nothing here reads the system clock.
MINUTE = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
TICK_SECONDS = 5.0  # BRIDGES_TICK_SECONDS' default


class VirtualClock:
    """A settable clock (scheduler.clock.Clock) that only the simulation moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class TimedSend:
    """A Send that takes one slot of the budget in virtual time and notes when it went."""

    def __init__(
        self, clock: VirtualClock, per_second: float, progress: Progress | None = None
    ) -> None:
        self.clock = clock
        self.interval = 1 / per_second
        self.progress = progress
        self.lateness: list[float] = []  # seconds, in send order
        self.sent_at: list[float] = []  # seconds after the minute, in send order

    async def __call__(
        self, claim: Claim, rendered: RenderedLesson, *, bulk: bool = True
    ) -> SendResult:
        self.clock.advance(self.interval)
        sent = self.clock()
        due = claim.due_at if claim.due_at is not None else sent
        self.lateness.append((sent - due).total_seconds())
        self.sent_at.append((sent - MINUTE).total_seconds())
        if self.progress is not None:
            self.progress.update(len(self.lateness))
        return SendResult(SendStatus.SENT, message_id=len(self.lateness))


@dataclass
class Schedule:
    """One simulated run: each lesson's lateness and virtual send time, in send order."""

    early_minutes: float
    lateness: list[float] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)
    ticks: int = 0

    @property
    def worst(self) -> float:
        return max((abs(value) for value in self.lateness), default=0.0)

    def p(self, share: float) -> float:
        return percentile([abs(value) for value in self.lateness], share)


@dataclass
class LatenessRun:
    learners: int
    db: str
    per_second: float
    fifo: Schedule
    window: Schedule

    def result(self) -> dict[str, Any]:
        fifo, window = self.fifo, self.window
        return {
            "fifo_max_s": round(fifo.worst, 1),
            "window_max_s": round(window.worst, 1),
            "window_p95_s": round(window.p(95), 1),
            "learners": self.learners,
            "db": self.db,
            "machine": machine(),
            "window_over_fifo": round(window.worst / fifo.worst, 3) if fifo.worst else 0.0,
            "fifo_p50_s": round(fifo.p(50), 1),
            "fifo_p95_s": round(fifo.p(95), 1),
            "window_p50_s": round(window.p(50), 1),
            "window_earliest_s": round(min(window.lateness, default=0.0), 1),
            "window_latest_s": round(max(window.lateness, default=0.0), 1),
            "sent": [len(fifo.lateness), len(window.lateness)],
            "per_second": self.per_second,
            "early_minutes": window.early_minutes,
            "simulated": True,
        }


async def simulate(
    *,
    learners: int,
    early_minutes: float,
    db: str = "sqlite",
    postgres_url: str = DEFAULT_POSTGRES_URL,
    per_second: float = 30.0,
    batch: int = 100,
    label: str = "",
) -> Schedule:
    """Seed a busy minute on a fresh database; tick on a virtual clock until all are sent."""
    schedule = Schedule(early_minutes)
    course = load_course()
    early = timedelta(minutes=early_minutes)
    async with bench_database(db, postgres_url=postgres_url) as database:
        say(f"{label}: seeding {learners:,} learners due in {MINUTE:%H:%M} into {db} ...")
        await database.seed(learners, MINUTE, spread=timedelta(seconds=59))
        # The first tick that could start the window: early + one tick before the minute.
        clock = VirtualClock(MINUTE - early - timedelta(seconds=TICK_SECONDS))
        progress = Progress(label, learners)
        send = TimedSend(clock, per_second, progress)
        service = DeliveryService(database.repo, Renderer(course), send)
        while len(send.lateness) < learners:
            began = clock()
            await run_tick(
                clock,
                service,
                batch=batch,
                concurrency=1,
                budget_s=math.inf,
                early=early,
                per_second=per_second,
            )
            schedule.ticks += 1
            clock.now = max(clock.now, began + timedelta(seconds=TICK_SECONDS))
            if clock.now > MINUTE + timedelta(days=1):
                raise RuntimeError(f"{label}: learners still unsent a day later")
        progress.finish(f"{len(send.lateness):,} sent, worst {max(map(abs, send.lateness)):.0f}s")
    schedule.lateness = send.lateness
    schedule.sent_at = send.sent_at
    return schedule


async def bench_lateness(
    *,
    learners: int,
    db: str = "sqlite",
    postgres_url: str = DEFAULT_POSTGRES_URL,
    early_minutes: float = 60.0,
    per_second: float = 30.0,
    batch: int = 100,
) -> LatenessRun:
    common: dict[str, Any] = {
        "learners": learners,
        "db": db,
        "postgres_url": postgres_url,
        "per_second": per_second,
        "batch": batch,
    }
    fifo = await simulate(early_minutes=0, label="fifo", **common)
    window = await simulate(early_minutes=early_minutes, label="window", **common)
    return LatenessRun(learners, db, per_second, fifo, window)


def plot(run: LatenessRun, path: str) -> None:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(8, 4.5))
    for schedule, label, colour in (
        (run.fifo, "first in, first out", "#c44"),
        (run.window, f"send window (up to {run.window.early_minutes:g} min early)", "#3b75af"),
    ):
        step = max(1, len(schedule.lateness) // 2000)  # a few thousand points draw the same
        minutes = [value / 60 for value in schedule.sent_at[::step]]
        late = [value / 60 for value in schedule.lateness[::step]]
        axes.plot(
            minutes,
            late,
            color=colour,
            label=f"{label}: max |lateness| {schedule.worst / 60:.1f} min",
        )
    axes.axhline(0, color="#888", linewidth=0.8)
    axes.set_xlabel("send time, minutes after the learners' chosen minute")
    axes.set_ylabel("lateness, minutes (negative: early)")
    axes.legend()
    axes.set_title(
        f"{run.learners:,} learners due in one minute at {run.per_second:g} messages/s (simulated)"
    )
    save(figure, path)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    run = await bench_lateness(
        learners=args.learners,
        db=args.db,
        postgres_url=args.postgres_url,
        early_minutes=args.early_minutes,
        per_second=args.per_second,
        batch=args.batch,
    )
    if args.plot:
        plot(run, args.plot)
    return run.result()
