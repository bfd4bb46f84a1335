"""The daily loop's hot path: claim due learners, render their lesson, send it, record it.

One repeating job calls `run_tick`; there is never a job per learner. A claim
is committed before any message goes out and no transaction is open while
Telegram is called, so a crash can cost at most one lesson's send, never a
duplicate (see storage.repo.Repo.claim_due).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from lessons.loader import Course
from lessons.render import RenderedLesson, Renderer
from scheduler.clock import Clock
from storage.repo import Claim, CourseEntry, Repo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    """What Telegram said: `sent` (with message ids), `blocked` (403) or `failed`."""

    status: str
    lesson_message_id: int = 0
    checkin_message_id: int | None = None
    reason: str = ""


class Send(Protocol):
    """Sends one rendered lesson and its check-in to one learner; implemented in bot.sender."""

    async def __call__(self, claim: Claim, rendered: RenderedLesson) -> SendResult: ...


@dataclass
class TickReport:
    claimed: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0


def course_outline(course: Course) -> list[CourseEntry]:
    """What storage needs to know of the course: lesson ids in order and check-in kinds."""
    return [CourseEntry(lesson.id, lesson.checkin.kind) for lesson in course.lessons["en"]]


class LessonService:
    """Everything needed to render and deliver a claimed lesson; shared by the tick and /today."""

    def __init__(self, repo: Repo, renderer: Renderer, send: Send) -> None:
        self.repo = repo
        self.renderer = renderer
        self.course = renderer.course
        self.outline = course_outline(self.course)
        self.send = send

    async def render(self, claim: Claim) -> RenderedLesson:
        lesson = self.course.by_id(claim.language, claim.lesson_id)
        if lesson is None:  # a lesson removed from the course after it was claimed
            lesson = self.course.lesson(claim.language, min(claim.lesson_day, self.course.length))
        answers = {}  # earlier answers the lesson shows back or branches on; missing ones skipped
        for lesson_id in lesson.looks_back():
            answer = await self.repo.recalled_answer(claim.learner_id, lesson_id)
            if answer is not None:
                answers[lesson_id] = answer
        timezone = getattr(claim, "timezone", None)  # the claim does not carry the zone yet
        if timezone is None and lesson.helplines:
            learner = await self.repo.get_learner(claim.learner_id)
            timezone = learner.timezone if learner is not None else None
        return self.renderer.render(
            lesson, name=claim.first_name, answers=answers, timezone=timezone
        )

    async def deliver(self, claim: Claim, now: datetime) -> SendResult:
        """Render, send and record one claimed delivery."""
        try:
            rendered = await self.render(claim)
            result = await self.send(claim, rendered)
        except Exception as error:  # one learner's failure must not stop the others
            log.exception("delivery %s to learner %s failed", claim.delivery_id, claim.learner_id)
            result = SendResult("failed", reason=type(error).__name__)
        if result.status == "sent":
            await self.repo.mark_sent(
                claim.delivery_id,
                now=now,
                lesson_message_id=result.lesson_message_id,
                checkin_message_id=result.checkin_message_id,
                course_length=self.course.length,
            )
        else:
            await self.repo.mark_failed(
                claim.delivery_id, reason=result.reason, blocked=result.status == "blocked"
            )
            log.warning(
                "delivery %s to learner %s: %s (%s)",
                claim.delivery_id,
                claim.learner_id,
                result.status,
                result.reason,
            )
        return result


async def run_tick(
    clock: Clock, service: LessonService, *, batch: int = 100, concurrency: int = 16
) -> TickReport:
    """One pass of the daily loop, on an injected clock so tests and the demo can move time.

    Claims in batches until nobody is due; sends each batch with bounded
    concurrency (the rate limiter keeps Telegram's global pace). The clock is
    read again for every batch and every record, so a long tick at a busy
    hour never stamps late work with its start time (which could make a
    fresh lease look expired to another process).
    """
    report = TickReport()
    limit = asyncio.Semaphore(concurrency)

    async def one(claim: Claim) -> None:
        async with limit:
            if claim.resend:
                log.warning("resending delivery %s after an expired lease", claim.delivery_id)
            result = await service.deliver(claim, clock())
        if result.status == "sent":
            report.sent += 1
        elif result.status == "blocked":
            report.blocked += 1
        else:
            report.failed += 1

    while True:
        claims = await service.repo.claim_due(clock(), service.outline, batch=batch)
        if not claims:
            break
        report.claimed += len(claims)
        await asyncio.gather(*(one(claim) for claim in claims))
        if len(claims) < batch:
            break
    if report.claimed:
        log.info(
            "tick: %d claimed, %d sent, %d blocked, %d failed",
            report.claimed,
            report.sent,
            report.blocked,
            report.failed,
        )
    return report
