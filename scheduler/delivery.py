"""The delivery: render a claimed lesson, send it, record what the send came to.

    DeliveryService.deliver(claim)
      ├─ render   pure: the claim carries the learner's recalled answers (lessons/render.py)
      ├─ send     the `Send` protocol, implemented by the chat bot's sender: one message
      └─ record   ClaimStore.record_outcome, fenced by the claim's attempt (storage/outcome.py)

Shared by the tick (every claim of a batch, concurrently) and by /today and
onboarding (one claim, as a reply). It never raises: one learner's failure,
Telegram's or the database's, never stops the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from html import escape
from typing import Protocol

from lessons.loader import Course
from lessons.render import RenderedLesson, Renderer
from scheduler.claims import DEFAULT_LEASE, Claim, ClaimStore, CourseEntry, Outcome
from scheduler.clock import Clock
from scheduler.crash import crash_point
from scheduler.freeze import AUTO_PAUSE_AFTER
from scheduler.states import ClaimKind, SendStatus

log = logging.getLogger(__name__)


class LessonRemoved(LookupError):
    """The claimed lesson is no longer in the course (edited after the claim)."""


@dataclass(frozen=True)
class SendResult:
    """What Telegram said: `sent` (with the message id), `blocked`, `failed` or `unknown`."""

    status: SendStatus
    message_id: int = 0
    reason: str = ""
    recorded: bool = True  # False when the outcome could not be stored (the lease decides)


class Send(Protocol):
    """Sends one claim (rendered lesson, evening check-in or note) to one learner.

    `bulk` sends (the tick's fan-out) wait behind replies to learners who are
    talking to the bot; /today is such a reply.
    """

    async def __call__(
        self, claim: Claim, rendered: RenderedLesson, *, bulk: bool = True
    ) -> SendResult: ...


def course_outline(course: Course) -> list[CourseEntry]:
    """What storage needs to know of the course: lesson ids in order, check-in kinds, and
    the earlier lessons each one shows back or branches on (in any language)."""
    outline = []
    for lesson in course.lessons["en"]:
        looks_back = {
            lesson_id
            for language in course.lessons
            if (same := course.by_id(language, lesson.id)) is not None
            for lesson_id in same.looks_back()
        }
        outline.append(CourseEntry(lesson.id, lesson.checkin.kind, tuple(sorted(looks_back))))
    return outline


class DeliveryService:
    """Renders, sends and records claimed deliveries; shared by the tick and /today."""

    def __init__(
        self,
        store: ClaimStore,
        renderer: Renderer,
        send: Send,
        *,
        auto_pause_after: int = AUTO_PAUSE_AFTER,
        on_outcome: Callable[[SendStatus, bool], None] | None = None,
    ) -> None:
        self.store = store
        # Told each stored lesson outcome (and whether it was a resend) as it happens:
        # metrics count only what was stored.
        self.on_outcome = on_outcome or (lambda _status, _resend: None)
        # Lessons in a row without an answer before one gentle note and a pause.
        self.auto_pause_after = auto_pause_after
        self.renderer = renderer
        self.course = renderer.course
        self.outline = course_outline(self.course)
        self.send = send
        # Set on SIGTERM: a running tick claims nothing more and finishes what it holds.
        self.stopping = asyncio.Event()

    def render(self, claim: Claim) -> RenderedLesson:
        """The claimed lesson for this learner, from the answers the claim carries (pure).

        LessonRemoved if the course no longer has it.
        """
        if claim.kind == ClaimKind.PAUSE_NOTE:  # no lesson: the sender words the note
            return RenderedLesson("", "", "", "", ())
        lesson = self.course.by_id(claim.language, claim.lesson_id)
        if claim.kind == ClaimKind.PAIR_NOTE:
            # The sender words it; a reveal names the check-in's question (escaped, as
            # HTML) and a tap by its label, in the reader's language.
            if lesson is None:
                return RenderedLesson(claim.lesson_id, "", "", "", ())
            checkin = lesson.checkin
            options = tuple((option.label, option.value) for option in checkin.options)
            return RenderedLesson(lesson.id, escape(checkin.question), "", checkin.kind, options)
        if lesson is None:
            raise LessonRemoved(claim.lesson_id)
        # The zone picks the help lines of the learner's country.
        return self.renderer.render(
            lesson,
            name=claim.first_name,
            answers=claim.recalls,
            private=claim.private,
            timezone=claim.timezone,
            together=claim.together,
            partner=(claim.partner_name, claim.partner_recalls) if claim.partner_recalls else None,
        )

    async def deliver(self, claim: Claim, clock: Clock, *, bulk: bool = True) -> SendResult:
        """Render, send and record one claimed delivery; never raises."""
        try:
            rendered = self.render(claim)
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
        async with leases_renewed(self.store, [claim], clock, DEFAULT_LEASE):
            return await self.deliver(claim, clock, bulk=False)

    async def record(self, claim: Claim, result: SendResult, clock: Clock) -> bool:
        """Store the outcome, fenced; False when it was not stored.

        Either the database failed (the lease will resend) or a newer claim
        holds the row after a lease expired (its holder records). An unknown
        outcome is not stored: the row stays `sending` and the lease decides.
        """
        outcome = Outcome(
            result.status,
            clock(),
            result.message_id if result.status == SendStatus.SENT else None,
            result.reason,
        )
        try:
            stored = await self.store.record_outcome(claim, outcome)
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
        if not stored:
            return False
        if claim.kind == ClaimKind.LESSON:
            self.on_outcome(result.status, claim.resend)
        crash_point("record:after")
        return True


@contextlib.asynccontextmanager
async def leases_renewed(
    store: ClaimStore, claims: Sequence[Claim], clock: Clock, lease: timedelta
) -> AsyncIterator[None]:
    """Renew the claims' leases every third of a lease while they are in flight.

    A long 429 wait or a slow Bot API must not make live work look dead to
    another process; only a process that stops renewing (it died) loses its rows.
    """

    async def renew() -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            try:
                await store.renew_leases(claims, clock())
            except Exception:  # a failed renewal only risks a resend, never a loss
                log.warning("could not renew %d leases", len(claims), exc_info=True)

    task = asyncio.create_task(renew())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
