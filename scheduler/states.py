"""The named states of a learner and a delivery, as types mypy can check.

They live here, free of SQL and Telegram, so that handlers, the tick and
storage all speak of them without importing a table: `bot/` compares a
learner's step with `Step.DONE`, never with a string it could misspell.
"""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    """Onboarding steps, in order; `done` means the learner gets daily lessons."""

    LANGUAGE = "language"
    TIMEZONE = "timezone"
    TIME = "time"
    DONE = "done"


class LearnerStatus(StrEnum):
    """`stopped` after /stop; `blocked` after Telegram said 403 to a learner who had not stopped."""

    ACTIVE = "active"
    STOPPED = "stopped"
    BLOCKED = "blocked"


class DeliveryState(StrEnum):
    """Reserved (`sending`) before Telegram is called, then one of the two recorded outcomes."""

    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class SendStatus(StrEnum):
    """What one send came to.

    `unknown` is a reply that never came (a timeout, a reset connection, a 5xx
    or an exhausted 429 retry): Telegram may or may not have delivered, so the
    delivery stays `sending` and the lease decides, instead of `failed` (which
    would send the lesson again tomorrow although it may have arrived today).
    """

    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"
    UNKNOWN = "unknown"


class DueKind(StrEnum):
    """What is due at a learner's one `next_due_at`: the lesson, the evening check-in, or
    a snoozed lesson sent again. One instant per learner keeps the claim one range scan."""

    LESSON = "lesson"
    CHECKIN = "checkin"
    SNOOZED = "snoozed"


class FollowUpState(StrEnum):
    """A delivery's evening check-in or snoozed resend: reserved, sent and fenced like the lesson.

    NULL in the column means "not apart": the check-in went with the lesson
    (`/reflect off`), or the lesson was never snoozed.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # Answered before it was asked (an early answer at lunch): nothing to send tonight.
    ANSWERED = "answered"


class ClaimKind(StrEnum):
    """What a claim sends: the lesson, its evening check-in, a snoozed lesson, the one
    gentle note that auto-pause sends before it falls silent, or a pair notice."""

    LESSON = "lesson"
    CHECKIN = "checkin"
    SNOOZED = "snoozed"
    PAUSE_NOTE = "pause_note"
    # A partner's answer or "the link has ended", at the reader's own moment (issue 16).
    PAIR_NOTE = "pair_note"


class AnswerVia(StrEnum):
    """How an answer came, so authors see how learners really answer (`bridges stats`)."""

    TAP = "tap"  # a button
    TYPED = "typed"  # words that stand for a button: "4", "not yet", "ja"
    TEXT = "text"  # free text for a check-in that asks for words (a caption too)
    VOICE = "voice"  # a voice or video note


class KeptRole(StrEnum):
    """What a kept message is: a part of the day's answer, or a note on the day."""

    ANSWER = "answer"
    TYPED = "typed"  # the words that stood for a tap ("yes, I sent it"): the tap is the answer
    NOTE = "note"


class NoticeState(StrEnum):
    """A pair notice (storage/notices.py): waiting for its moment, held, sent, failed, or
    dropped (the link ended, an answer became private, the reader left) unsent."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"


class NoticeKind(StrEnum):
    """What a pair notice tells its reader (issue 16): the partner's answer, that the link
    ended, or that today's lesson waits for the partner."""

    REVEAL = "reveal"
    ENDED = "ended"
    WAITING = "waiting"
