"""The tick: find who is due, claim them in batches, deliver each batch, until done.

    run_tick                        one pass of the daily loop (the JobQueue's repeating job)
      ├─ ClaimStore.due_span        how early the send window may open (`_window`)
      ├─ ClaimStore.claim_due       storage/claim.py: one short transaction reserves a batch
      ├─ DeliveryService.deliver    scheduler/delivery.py: render -> send -> record, per claim
      │                             (leases renewed while the batch is in flight)
      └─ ClaimStore.release         on SIGTERM: claims not yet sent are handed back

One repeating job calls `run_tick`; there is never a job per learner. A claim
is committed before any message goes out and no transaction is open while
Telegram is called. Each claim is sent and recorded on its own: one failure
never aborts the others. A reply that never came leaves the row `sending`;
its lease expires only if this process dies, and then another tick sends it
once more. The tick stops claiming when its time budget is spent or
`stopping` is set (SIGTERM), and always finishes and records what it has
claimed.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scheduler.claims import DEFAULT_LEASE, Claim, ClaimStore
from scheduler.clock import Clock
from scheduler.crash import crash_point
from scheduler.delivery import DeliveryService, leases_renewed
from scheduler.states import ClaimKind, SendStatus

log = logging.getLogger(__name__)

# A tick stops claiming after this many seconds; the next tick goes on where it left off.
DEFAULT_TICK_BUDGET_S = 20.0
# Sends in flight at once at Telegram's ordinary 30 a second.
DEFAULT_CONCURRENCY = 16


def concurrency_for(per_second: float) -> int:
    """Sends in flight needed to keep a budget of `per_second` busy.

    A send's round trip is about a tenth to a fifth of a second, so a fifth of a
    second's worth of sends in flight keeps every slot used; never fewer than 16.
    """
    return max(DEFAULT_CONCURRENCY, math.ceil(per_second / 5))


@dataclass
class TickReport:
    """What one tick did; the tick job turns it into log lines and metrics."""

    claimed: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    unknown: int = 0  # no reply: left `sending` for the lease
    resent: int = 0  # claims that were lost sends going out again
    unrecorded: int = 0  # the outcome could not be stored (the lease will resend)
    released: int = 0  # claimed but handed back unsent because the process is stopping
    lateness_s: float = 0.0  # how late the oldest due learner was when the tick began
    stopped: bool = False  # stopped early: budget spent or shutting down
    lateness: list[float] = field(default_factory=list)  # seconds late, per claimed learner


async def run_tick(
    clock: Clock,
    service: DeliveryService,
    *,
    batch: int = 100,
    concurrency: int = DEFAULT_CONCURRENCY,
    budget_s: float = DEFAULT_TICK_BUDGET_S,
    early: timedelta = timedelta(0),
    lease: timedelta = DEFAULT_LEASE,
    per_second: float = 30.0,
) -> TickReport:
    """One pass of the daily loop, on an injected clock so tests and the demo can move time.

    Claims in batches until nobody is due, the time budget is spent or the
    service is stopping; sends each batch with bounded concurrency (the send
    budget in bot/ keeps Telegram's pace at `per_second`). `early` is the most
    the send window may start before learners' time (see `_window`). Once
    stopping, claims not yet sent are handed back at once instead of sent, so
    shutdown never waits for a whole batch at a slow pace. The clock is read
    again for every batch and every record, so a long tick never stamps late
    work with its start time (which could make a fresh lease look expired to
    another process).
    """
    report = TickReport()
    started = time.monotonic()
    early = await _window(service.store, clock(), early, per_second)
    limit = asyncio.Semaphore(concurrency)
    oldest = await service.store.oldest_due(clock())
    if oldest is not None:
        report.lateness_s = max(0.0, (clock() - oldest).total_seconds())
        log.info("tick: oldest due learner is %.1f s late", report.lateness_s)

    unsent: list[Claim] = []

    async def one(claim: Claim) -> None:
        async with limit:
            # Shutting down: hand it back rather than be killed mid-send. An auto-pause
            # note has no row to hand back (the pause is committed) and is one short
            # message, so it still goes out.
            if service.stopping.is_set() and claim.kind != ClaimKind.PAUSE_NOTE:
                unsent.append(claim)
                return
            if claim.resend:
                log.warning("resending delivery %s after an expired lease", claim.delivery_id)
            result = await service.deliver(claim, clock)
        report.resent += claim.resend
        report.unrecorded += not result.recorded
        if result.status == SendStatus.SENT:
            report.sent += 1
            if claim.due_at is not None:
                report.lateness.append((clock() - claim.due_at).total_seconds())
        elif result.status == SendStatus.BLOCKED:
            report.blocked += 1
        elif result.status == SendStatus.FAILED:
            report.failed += 1
        else:
            report.unknown += 1

    while True:
        if service.stopping.is_set() or time.monotonic() - started > budget_s:
            report.stopped = True
            break
        crash_point("claim:before")
        claims = await service.store.claim_due(
            clock(),
            service.outline,
            batch=batch,
            early=early,
            lease=lease,
            auto_pause_after=service.auto_pause_after,
        )
        crash_point("claim:after")
        if not claims:
            break
        report.claimed += len(claims)
        async with leases_renewed(service.store, claims, clock, lease):
            await asyncio.gather(*(one(claim) for claim in claims))
        if unsent:
            await _release(service.store, unsent)
            report.released += len(unsent)
            unsent.clear()
        if len(claims) < batch:
            break
    if report.claimed:
        log.info(
            "tick: %d claimed, %d sent, %d blocked, %d failed, %d unknown, %d resent%s",
            report.claimed,
            report.sent,
            report.blocked,
            report.failed,
            report.unknown,
            report.resent,
            " (stopped early)" if report.stopped else "",
        )
    return report


async def _window(
    store: ClaimStore, now: datetime, early: timedelta, per_second: float
) -> timedelta:
    """How early this tick may start: only as early as the backlog needs, at most `early`.

    N learners due across a span of S seconds take N / per_second = D seconds
    to send. Sent earliest due first from (D - S) / 2 before the first one's
    time, the most anyone is early equals the most anyone is late: half of
    first-in-first-out's D - S. A small backlog (D <= S, an idle bot) sends at
    the chosen time, never early.
    """
    if early <= timedelta(0):
        return timedelta(0)
    due = await store.due_span(now, early)
    if due.count == 0 or due.first is None or due.last is None:
        return timedelta(0)
    sending = due.count / per_second
    spread = (due.last - due.first).total_seconds()
    return min(early, timedelta(seconds=max(0.0, (sending - spread) / 2)))


async def _release(store: ClaimStore, claims: list[Claim]) -> None:
    try:
        await store.release(claims)
    except Exception:  # unreleased claims still come back, after their lease
        log.warning("could not release %d unsent claims", len(claims), exc_info=True)
    else:
        log.info("stopping: %d claimed lessons handed back unsent", len(claims))
