"""The daily loop's hot path: claim due learners, render their lesson, send it, record it.

    run_tick ──> DeliveryStore.claim_due   one short transaction: reserve `sending` rows,
       │                                   move each learner's next_due_at to a later day
       ├──> LessonService.render           Jinja2 -> Telegram HTML (lessons/)
       ├──> Send (bot/sender.py)           one message: lesson, check-in and its buttons
       │                                   (or the lesson with "later" buttons, and the
       │                                   check-in on its own in the evening: a claim's
       │                                   kind says which; storage/followups.py)
       └──> DeliveryStore.mark_sent / mark_failed
                                           fenced by the claim's attempt number

One repeating job calls `run_tick`; there is never a job per learner. A claim
is committed before any message goes out and no transaction is open while
Telegram is called. Each claim is sent and recorded on its own: one failure
(Telegram's or the database's) never aborts the others. A reply that never
came leaves the row `sending`; its lease (renewed here while the batch is in
flight) expires only if this process dies, and then another tick sends it once
more. The tick stops claiming when its time budget is spent or `stopping` is
set (SIGTERM), and always finishes and records what it has claimed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from lessons.loader import Course, Lesson
from lessons.render import RenderedLesson, Renderer
from scheduler.claims import DEFAULT_LEASE, Claim, CourseEntry, DeliveryStore
from scheduler.clock import Clock
from scheduler.crash import crash_point
from scheduler.freeze import AUTO_PAUSE_AFTER
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


class LessonRemoved(LookupError):
    """The claimed lesson is no longer in the course (edited after the claim)."""


@dataclass(frozen=True)
class SendResult:
    """What Telegram said: `sent` (with the message id), `blocked`, `failed` or `unknown`."""

    status: SendStatus
    message_id: int = 0
    reason: str = ""
    recorded: bool = True  # False when the outcome could not be stored (the lease resends)


class Send(Protocol):
    """Sends one rendered lesson with its check-in to one learner; implemented in bot.sender.

    `bulk` sends (the tick's fan-out) wait behind replies to learners who are
    talking to the bot; /today is such a reply.
    """

    async def __call__(
        self, claim: Claim, rendered: RenderedLesson, *, bulk: bool = True
    ) -> SendResult: ...


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


def course_outline(course: Course) -> list[CourseEntry]:
    """What storage needs to know of the course: lesson ids in order and check-in kinds."""
    return [CourseEntry(lesson.id, lesson.checkin.kind) for lesson in course.lessons["en"]]


class LessonService:
    """Everything needed to render and deliver a claimed lesson; shared by the tick and /today."""

    def __init__(
        self,
        repo: DeliveryStore,
        renderer: Renderer,
        send: Send,
        *,
        auto_pause_after: int = AUTO_PAUSE_AFTER,
        on_outcome: Callable[[SendStatus, bool], None] | None = None,
    ) -> None:
        self.repo = repo
        # Told each recorded outcome (and whether it was a resend) as it happens: metrics.
        self.on_outcome = on_outcome or (lambda _status, _resend: None)
        # Lessons in a row without an answer before one gentle note and a pause.
        self.auto_pause_after = auto_pause_after
        self.renderer = renderer
        self.course = renderer.course
        self.outline = course_outline(self.course)
        self.send = send
        # Set on SIGTERM: a running tick claims nothing more and finishes what it holds.
        self.stopping = asyncio.Event()

    async def render(self, claim: Claim) -> RenderedLesson:
        """The claimed lesson for this learner; LessonRemoved if the course no longer has it."""
        if claim.kind == ClaimKind.PAUSE_NOTE:  # no lesson: the sender words the note
            return RenderedLesson("", "", "", "", ())
        lesson = self.course.by_id(claim.language, claim.lesson_id)
        if lesson is None:
            raise LessonRemoved(claim.lesson_id)
        return await self.render_lesson(
            lesson, learner_id=claim.learner_id, name=claim.first_name, timezone=claim.timezone
        )

    async def render_lesson(
        self, lesson: Lesson, *, learner_id: int, name: str, timezone: str | None
    ) -> RenderedLesson:
        """One lesson for one learner, with the earlier answers it shows back or branches on."""
        answers = {}  # missing ones are simply skipped
        for lesson_id in lesson.looks_back():
            answer = await self.repo.recalled_answer(learner_id, lesson_id)
            if answer is not None:
                answers[lesson_id] = answer
        # The zone picks the help lines of the learner's country.
        return self.renderer.render(lesson, name=name, answers=answers, timezone=timezone)

    async def deliver(self, claim: Claim, clock: Clock, *, bulk: bool = True) -> SendResult:
        """Render, send and record one claimed delivery; never raises."""
        try:
            rendered = await self.render(claim)
            crash_point("send:before")
            result = await self.send(claim, rendered, bulk=bulk)
        except LessonRemoved:
            # Removed from the course after the claim: nothing sent; failed, the next
            # claim finds the learner's place by lesson id in the course as it is now.
            result = SendResult(SendStatus.FAILED, reason="lesson no longer in the course")
        except Exception as error:  # one learner's failure must not stop the others
            log.exception("delivery %s to learner %s failed", claim.delivery_id, claim.learner_id)
            result = SendResult(SendStatus.UNKNOWN, reason=type(error).__name__)
        crash_point("send:after")
        if not await self.record(claim, result, clock):
            return replace(result, recorded=False)
        return result

    async def deliver_now(self, claim: Claim, clock: Clock) -> SendResult:
        """/today and onboarding: one delivery as a reply, its lease kept fresh meanwhile.

        A reply can wait for a send slot (or a 429) past the lease; renewing it
        keeps a tick elsewhere from taking the live claim over and sending it twice.
        """
        async with _leases_renewed(self.repo, [claim], clock, DEFAULT_LEASE):
            return await self.deliver(claim, clock, bulk=False)

    async def record(self, claim: Claim, result: SendResult, clock: Clock) -> bool:
        """Store the outcome, fenced; False when it was not stored.

        Either the database failed (the lease will resend) or, for a follow-up,
        a newer claim holds the row after a lease expired (its holder records).
        """
        try:
            if claim.kind != ClaimKind.LESSON:
                if result.status != SendStatus.UNKNOWN:  # unknown: the lease decides
                    sent = result.status == SendStatus.SENT
                    if not await self.repo.mark_followup(
                        claim,
                        now=clock(),
                        message_id=result.message_id if sent else None,
                        failure="" if sent else result.reason,
                    ):
                        # Taken over after its lease (or its row is gone): the new holder
                        # records it; this outcome is not stored.
                        log.warning(
                            "follow-up of delivery %s: %s, but its claim was taken over",
                            claim.delivery_id,
                            result.status,
                        )
                        return False
            elif result.status == SendStatus.SENT:
                await self.repo.mark_sent(
                    claim,
                    now=clock(),
                    message_id=result.message_id,
                    course_length=self.course.length,
                )
            elif result.status in (SendStatus.BLOCKED, SendStatus.FAILED):
                await self.repo.mark_failed(
                    claim, reason=result.reason, blocked=result.status == SendStatus.BLOCKED
                )
        except Exception:
            log.exception("delivery %s: outcome %s not recorded", claim.delivery_id, result.status)
            return False
        if result.status != SendStatus.SENT:
            log.warning(
                "delivery %s to learner %s: %s (%s)",
                claim.delivery_id,
                claim.learner_id,
                result.status,
                result.reason,
            )
        if claim.kind == ClaimKind.LESSON:
            self.on_outcome(result.status, claim.resend)
        crash_point("record:after")
        return True


async def run_tick(
    clock: Clock,
    service: LessonService,
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
    early = await _window(service.repo, clock(), early, per_second)
    limit = asyncio.Semaphore(concurrency)
    oldest = await service.repo.oldest_due(clock())
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
        claims = await service.repo.claim_due(
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
        async with _leases_renewed(service.repo, claims, clock, lease):
            await asyncio.gather(*(one(claim) for claim in claims))
        if unsent:
            await _release(service.repo, unsent)
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
    repo: DeliveryStore, now: datetime, early: timedelta, per_second: float
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
    due = await repo.due_span(now, early)
    if due.count == 0 or due.first is None or due.last is None:
        return timedelta(0)
    sending = due.count / per_second
    spread = (due.last - due.first).total_seconds()
    return min(early, timedelta(seconds=max(0.0, (sending - spread) / 2)))


async def _release(repo: DeliveryStore, claims: list[Claim]) -> None:
    try:
        await repo.release(claims)
    except Exception:  # unreleased claims still come back, after their lease
        log.warning("could not release %d unsent claims", len(claims), exc_info=True)
    else:
        log.info("stopping: %d claimed lessons handed back unsent", len(claims))


@contextlib.asynccontextmanager
async def _leases_renewed(
    repo: DeliveryStore, claims: Sequence[Claim], clock: Clock, lease: timedelta
) -> AsyncIterator[None]:
    """Renew the batch's leases every third of a lease while it is in flight.

    A long 429 wait or a slow Bot API must not make a live batch look dead to
    another process; only a process that stops renewing (it died) loses its rows.
    """

    async def renew() -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            try:
                await repo.renew_leases(claims, clock())
            except Exception:  # a failed renewal only risks a resend, never a loss
                log.warning("could not renew %d leases", len(claims), exc_info=True)

    task = asyncio.create_task(renew())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
