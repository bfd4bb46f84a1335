"""The repository: every read and write of Bridges' data, each one short transaction.

Handlers and the tick call `Repo` and get plain dataclasses back (storage.views,
scheduler.claims); no session, query or ORM object leaves storage. Times are
aware UTC instants passed in by the caller (the injected clock), never read
here. The work is plain functions that take the session first, one module per
step; `Repo` opens the transaction (storage/base.py: its sessions, retries) and
calls them. The delivery path, in the order the data flows:

    storage/due.py        who is due (one indexed range scan), the backlog
    storage/claim.py      the claim: reserve due learners' deliveries as a set
    storage/followups.py  ... of which evening check-ins and snoozed lessons
    storage/silence.py    ... freezes, and the auto-pause note for who went silent
    storage/recalls.py    ... and the earlier answers the claimed lessons show back
    storage/lease.py      the one lease: reclaim, renew, release, settle (fenced)
    storage/outcome.py    record what a send came to
    storage/today.py      /today: today's lesson now, counted once
    storage/snooze.py     "Later" on a lesson: it comes again once, today

And what the learner does:

    storage/learners.py   enrol, onboarding settings, pause, stop, block, delete
    storage/answers.py    answers to check-ins, streaks, /progress
    storage/history.py    the learner's own history (chart, /export), /restart
    storage/schedule.py   the one due instant every change above reschedules
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from scheduler.claims import DEFAULT_LEASE, Claim, CourseEntry, DueSpan, Outcome
from scheduler.freeze import AUTO_PAUSE_AFTER
from storage import (
    answers,
    claim,
    due,
    history,
    in_step,
    kept,
    learners,
    lease,
    notices,
    outcome,
    pairs,
    recalls,
    snooze,
    today,
)
from storage.answers import MAX_ANSWER_LENGTH
from storage.base import read_sessions, retrying, write_sessions
from storage.history import ScalePoint
from storage.lease import MAX_RESENDS
from storage.views import (
    AnswerOutcome,
    ButtonCheckin,
    LearnerView,
    NoteOutcome,
    Progress,
    SnoozeOutcome,
    TodayOutcome,
    Typed,
)

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_LEASE",
    "MAX_ANSWER_LENGTH",
    "MAX_RESENDS",
    "AnswerOutcome",
    "Claim",
    "CourseEntry",
    "LearnerView",
    "Outcome",
    "Progress",
    "Repo",
    "ScalePoint",
    "TodayOutcome",
    "Typed",
]


class Repo:
    """Bridges' storage, built on one engine; safe to share across tasks.

    It is the tick's `scheduler.claims.ClaimStore`. Each method opens one
    transaction, a write (`_sessions`) or a read (`_reads`, storage/base.py),
    and calls the function that does the work inside it.
    """

    def __init__(self, engine: AsyncEngine, *, invite_key: bytes = b"") -> None:
        """`invite_key`: the secret invite codes are hashed under (storage/pairs.py)."""
        self.engine = engine
        self._invite_key = invite_key
        self._sessions = write_sessions(engine)
        self._reads = read_sessions(engine)

    async def claim_due(
        self,
        now: datetime,
        course: Sequence[CourseEntry],
        *,
        batch: int = 100,
        lease: timedelta = DEFAULT_LEASE,
        early: timedelta = timedelta(0),
        auto_pause_after: int = AUTO_PAUSE_AFTER,
    ) -> list[Claim]:
        """The claim (storage/claim.py), committed before anything is sent."""
        async with self._sessions.begin() as session:
            return await claim.claim_due(
                session,
                now,
                course,
                batch=batch,
                lease=lease,
                early=early,
                auto_pause_after=auto_pause_after,
            )

    async def renew_leases(self, claims: Sequence[Claim], now: datetime) -> None:
        """Keep the lease of claims still in flight fresh, so only dead work ever expires."""
        if claims:
            async with self._sessions.begin() as session:
                await lease.renew(session, claims, now)

    async def release(self, claims: Sequence[Claim]) -> None:
        """Hand back claims never sent (the process is stopping): any tick takes them at once."""
        if claims:
            async with self._sessions.begin() as session:
                await lease.release(session, claims)

    async def record_outcome(self, claim: Claim, result: Outcome) -> bool:
        """Record what a send came to, fenced; False when it was not stored (taken over, gone).

        Retried on a transient database error for up to half a lease: recording
        is idempotent under its fence, so running it twice changes nothing.
        """

        async def record() -> bool:
            async with self._sessions.begin() as session:
                return await outcome.record_outcome(session, claim, result)

        stored = await retrying(
            record, what=f"recording {claim.kind} of delivery {claim.delivery_id}"
        )
        if not stored:
            log.warning(
                "delivery %s: %s %s, but its claim was taken over: not recorded",
                claim.delivery_id,
                claim.kind,
                result.status,
            )
        return stored

    async def oldest_due(self, now: datetime) -> datetime | None:
        async with self._reads() as session:
            return await due.oldest_due(session, now)

    async def due_span(self, now: datetime, early: timedelta) -> DueSpan:
        async with self._reads() as session:
            return await due.due_span(session, now, early)

    async def deliver_today(
        self, learner_id: int, now: datetime, course: Sequence[CourseEntry]
    ) -> TodayOutcome:
        async with self._sessions.begin() as session:
            return await today.deliver_today(session, learner_id, now, course)

    async def snooze(
        self, learner_id: int, delivery_id: int, choice: str, now: datetime
    ) -> SnoozeOutcome:
        async with self._sessions.begin() as session:
            return await snooze.snooze(session, learner_id, delivery_id, choice, now)

    async def recalled_answers(
        self, learner_id: int, lesson_ids: Iterable[str]
    ) -> tuple[dict[str, str], frozenset[str]]:
        """The learner's own answers to these earlier lessons (/lesson N shows them back),
        and which of them are private (never shown back)."""
        async with self._reads() as session:
            found, private = await recalls.recalled_answers(session, {learner_id: set(lesson_ids)})
            return found.get(learner_id, {}), frozenset(private.get(learner_id, ()))

    # Learners and their settings (storage/learners.py).

    async def get_learner(self, learner_id: int) -> LearnerView | None:
        async with self._reads() as session:
            return await learners.get_learner(session, learner_id)

    async def start_learner(
        self, learner_id: int, *, first_name: str, language: str, now: datetime
    ) -> tuple[LearnerView, bool]:
        async with self._sessions.begin() as session:
            return await learners.start_learner(
                session, learner_id, first_name=first_name, language=language, now=now
            )

    async def set_language(self, learner_id: int, language: str) -> LearnerView | None:
        async with self._sessions.begin() as session:
            return await learners.set_language(session, learner_id, language)

    async def set_timezone(self, learner_id: int, zone: str, now: datetime) -> LearnerView | None:
        async with self._sessions.begin() as session:
            return await learners.set_timezone(session, learner_id, zone, now)

    async def set_daily_time(
        self, learner_id: int, daily_time: str, now: datetime
    ) -> LearnerView | None:
        async with self._sessions.begin() as session:
            return await learners.set_daily_time(session, learner_id, daily_time, now)

    async def set_checkin_time(
        self, learner_id: int, checkin_time: str | None, now: datetime
    ) -> LearnerView | None:
        async with self._sessions.begin() as session:
            return await learners.set_checkin_time(session, learner_id, checkin_time, now)

    async def pause(
        self, learner_id: int, now: datetime, days: int | None = None
    ) -> LearnerView | None:
        async with self._sessions.begin() as session:
            return await learners.pause(session, learner_id, now, days)

    async def resume(self, learner_id: int, now: datetime) -> tuple[LearnerView | None, bool]:
        async with self._sessions.begin() as session:
            return await learners.resume(session, learner_id, now)

    async def stop(self, learner_id: int) -> LearnerView | None:
        async with self._sessions.begin() as session:
            return await learners.stop(session, learner_id)

    async def mark_blocked(self, learner_id: int) -> LearnerView | None:
        async with self._sessions.begin() as session:
            return await learners.mark_blocked(session, learner_id)

    async def mark_unblocked(self, learner_id: int, now: datetime) -> LearnerView | None:
        async with self._sessions.begin() as session:
            return await learners.mark_unblocked(session, learner_id, now)

    async def delete_learner(self, learner_id: int, now: datetime) -> bool:
        async with self._sessions.begin() as session:
            return await learners.delete_learner(session, learner_id, now)

    async def count_learners(self) -> int:
        async with self._reads() as session:
            return await learners.count_learners(session)

    # Answers, streaks and progress (storage/answers.py).

    async def record_answer(
        self,
        learner_id: int,
        delivery_id: int,
        value: str,
        now: datetime,
        *,
        accepts: Callable[[str, str], bool],
        private: Callable[[str, str], bool] = lambda _lesson, _value: False,
        typed: Typed | None = None,
    ) -> AnswerOutcome:
        async with self._sessions.begin() as session:
            return await answers.record_answer(
                session,
                learner_id,
                delivery_id,
                value,
                now,
                accepts=accepts,
                private=private,
                typed=typed,
            )

    async def record_text_answer(
        self,
        learner_id: int,
        text: str,
        now: datetime,
        *,
        private: bool = False,
        message_id: int | None = None,
    ) -> AnswerOutcome:
        async with self._sessions.begin() as session:
            return await answers.record_text_answer(
                session, learner_id, text, now, private=private, message_id=message_id
            )

    async def record_voice_answer(
        self,
        learner_id: int,
        file_id: str,
        seconds: int,
        now: datetime,
        *,
        message_id: int | None = None,
    ) -> AnswerOutcome:
        async with self._sessions.begin() as session:
            return await answers.record_voice_answer(
                session, learner_id, file_id, seconds, now, message_id=message_id
            )

    # Kept messages: notes on the day and edits (storage/kept.py).

    async def keep_note(
        self,
        learner_id: int,
        words: str,
        now: datetime,
        *,
        message_id: int | None = None,
        private: bool = False,
        voice_file_id: str | None = None,
    ) -> NoteOutcome:
        async with self._sessions.begin() as session:
            if not await kept.keep_note(
                session,
                learner_id,
                message_id,
                words[:MAX_ANSWER_LENGTH],
                now,
                private=private,
                voice_file_id=voice_file_id,
            ):
                return NoteOutcome(kept=False)
            # Words from a learner whom silence paused say they are back, as an answer does;
            # words that spoke of crisis or abuse never restart lessons behind their back.
            resumed = not private and await answers.back_from_silence(session, learner_id, now)
            return NoteOutcome(kept=True, resumed=resumed)

    async def edit_kept(
        self, learner_id: int, message_id: int, words: str, now: datetime, *, private: bool = False
    ) -> kept.EditOutcome:
        async with self._sessions.begin() as session:
            return await kept.edit(
                session,
                learner_id,
                message_id,
                words[:MAX_ANSWER_LENGTH],
                now,
                private=private,
                longest=MAX_ANSWER_LENGTH,
            )

    async def note_care(self, learner_id: int, now: datetime) -> None:
        async with self._sessions.begin() as session:
            await answers.note_care(session, learner_id, now)

    async def button_checkin(self, learner_id: int, now: datetime) -> ButtonCheckin | None:
        async with self._reads() as session:
            return await answers.button_checkin(session, learner_id, now)

    async def progress(self, learner_id: int) -> Progress | None:
        async with self._reads() as session:
            return await answers.progress(session, learner_id)

    # Together: invites, pairs, the mutual reveal (storage/pairs.py).

    async def create_invite(self, learner_id: int, now: datetime) -> str:
        async with self._sessions.begin() as session:
            return await pairs.create_invite(session, learner_id, now, key=self._invite_key)

    async def keep_pending_invite(self, learner_id: int, code: str) -> None:
        async with self._sessions.begin() as session:
            await pairs.keep_pending(session, learner_id, code)

    async def take_pending_invite(self, learner_id: int) -> str | None:
        async with self._sessions.begin() as session:
            return await pairs.take_pending(session, learner_id)

    async def revoke_invites(self, learner_id: int, now: datetime) -> int:
        async with self._sessions.begin() as session:
            return await pairs.revoke_invites(session, learner_id, now)

    async def partner(self, learner_id: int) -> pairs.Partner | None:
        async with self._reads() as session:
            return await pairs.partner(session, learner_id)

    async def check_invite(self, learner_id: int, code: str, now: datetime) -> pairs.InviteCheck:
        async with self._sessions.begin() as session:  # a wrong code counts as a miss
            checked, _invite = await pairs.check_invite(
                session, learner_id, code, now, key=self._invite_key
            )
            return checked

    async def link(self, learner_id: int, code: str, now: datetime) -> pairs.InviteCheck:
        async with self._sessions.begin() as session:
            return await pairs.link(session, learner_id, code, now, key=self._invite_key)

    async def unlink(self, learner_id: int, now: datetime) -> pairs.Partner | None:
        async with self._sessions.begin() as session:
            return await pairs.unlink(session, learner_id, now)

    async def shared_streak(self, learner_id: int) -> tuple[pairs.Partner, int] | None:
        async with self._reads() as session:
            return await pairs.shared_streak(session, learner_id)

    async def reveal(self, learner_id: int, lesson_id: str, now: datetime) -> pairs.Sharing | None:
        async with self._sessions.begin() as session:
            return await pairs.reveal(session, learner_id, lesson_id, now)

    async def next_pair_notice(self) -> datetime | None:
        """When the next pair notice waits for (the demo's `:next`)."""
        async with self._reads() as session:
            return await notices.next_due(session)

    async def pair_days(
        self, learner_id: int, course: Sequence[CourseEntry]
    ) -> tuple[int, int] | None:
        async with self._reads() as session:
            return await in_step.days(session, learner_id, course)

    async def align(
        self, learner_id: int, choice: in_step.AlignChoice, course: Sequence[CourseEntry]
    ) -> int | None:
        async with self._sessions.begin() as session:
            return await in_step.align(session, learner_id, choice, course)

    async def withhold(self, learner_id: int, delivery_id: int) -> pairs.WithholdStatus:
        async with self._sessions.begin() as session:
            return await pairs.withhold(session, learner_id, delivery_id)

    # The learner's own history, and /restart (storage/history.py).

    async def scale_answers(self, learner_id: int) -> list[ScalePoint]:
        async with self._reads() as session:
            return await history.scale_answers(session, learner_id)

    async def delivered_lesson(self, learner_id: int, lesson_id: str) -> bool:
        async with self._reads() as session:
            return await history.delivered_lesson(session, learner_id, lesson_id)

    async def restart(self, learner_id: int, now: datetime, course_length: int) -> str:
        async with self._sessions.begin() as session:
            return await history.restart(session, learner_id, now, course_length)

    async def export(self, learner_id: int) -> dict[str, Any] | None:
        async with self._reads() as session:
            return await history.export(session, learner_id)
