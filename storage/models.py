"""The tables. All of them live here so that migrations and the repository see one metadata.

Words: a *learner* is a Telegram user enrolled in the course; a *delivery* is
one lesson sent to one learner (exactly once: unique on learner and lesson);
an *answer* is the learner's reply to a delivery's check-in (at most one); a
*kept message* is a message of the learner's that Bridges kept (a part of an
answer, or a *note*: words on the day that answer nothing, such as "hmm" under a
choice); a *message edit* is the text a kept message had before the learner
edited it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

# Set before any table is defined, so every constraint has a stable name that
# Alembic can find again on both engines.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Steps, statuses and delivery states are the StrEnums of scheduler.states; the
# columns hold their string values.


class Learner(SQLModel, table=True):
    """One learner; the row is also their schedule (`next_due_at`) and onboarding state."""

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    first_name: str = Field(sa_column=Column(String(256), nullable=False))
    language: str = Field(sa_column=Column(String(8), nullable=False))
    timezone: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    daily_time: str | None = Field(default=None, sa_column=Column(String(5), nullable=True))
    onboarding_step: str = Field(sa_column=Column(String(16), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    next_lesson: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    next_due_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True)
    )
    paused_since: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    paused_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Which time through the course: /restart after the last day begins the next round,
    # and the course position counts only this round's deliveries.
    round: int = Field(
        default=1, sa_column=Column(Integer, nullable=False, server_default=text("1"))
    )
    # What `next_due_at` is for (scheduler.states.DueKind): one due instant per learner.
    due_kind: str = Field(
        default="lesson",
        sa_column=Column(String(16), nullable=False, server_default=text("'lesson'")),
    )
    # The evening check-in's local time (``HH:MM``); NULL sends it with the lesson.
    checkin_time: str | None = Field(default=None, sa_column=Column(String(5), nullable=True))
    # Care: when the learner first told Bridges of crisis or of being harmed (a caught
    # message, or "someone is hurting me now"). From then on no streak is shown to them
    # and their answers are kept private (never shown back in a later lesson).
    care_since: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # When silence last paused the learner (auto-pause); kept after they come back, so
    # only lessons after it count as silence. Paused by silence while paused_since equals it.
    auto_paused_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Wrong invite codes typed (/together CODE) since `invite_misses_since`: a few an hour,
    # then no more tries for a while, so codes cannot be guessed.
    invite_misses: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )
    invite_misses_since: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # An invite opened by a learner still onboarding: its code, until onboarding ends and
    # they are asked whether to link (then cleared).
    pending_invite: str | None = Field(default=None, sa_column=Column(String(20)))
    # The course day this round starts at: 1, or the day of a partner further along whom
    # the learner chose to join (issue 16); the days before it are skipped, not sent.
    course_from: int = Field(
        default=1, sa_column=Column(Integer, nullable=False, server_default=text("1"))
    )
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Delivery(SQLModel, table=True):
    """One lesson to one learner. Reserved (`sending`) before Telegram is called."""

    __table_args__ = (
        # One delivery per learner, lesson and round of the course (/restart begins a new round).
        UniqueConstraint("learner_id", "round", "lesson_id"),
        Index("ix_delivery_state_claimed_at", "state", "claimed_at"),
        # The follow-ups' lease scans (evening check-in, snoozed lesson), as for lessons:
        # without them every claim batch reads the whole delivery history.
        Index(
            "ix_delivery_checkin_state_followup_claimed_at", "checkin_state", "followup_claimed_at"
        ),
        Index(
            "ix_delivery_snooze_state_followup_claimed_at", "snooze_state", "followup_claimed_at"
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    learner_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("learner.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    lesson_id: str = Field(sa_column=Column(String(64), nullable=False))
    round: int = Field(
        default=1, sa_column=Column(Integer, nullable=False, server_default=text("1"))
    )
    lesson_day: int = Field(sa_column=Column(Integer, nullable=False))
    checkin_kind: str = Field(sa_column=Column(String(16), nullable=False))
    local_date: date
    state: str = Field(sa_column=Column(String(16), nullable=False))
    # The fence: every claim of the row takes a new attempt number, and only
    # its holder may record the outcome.
    attempts: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    # How often an expired lease sent it again since it was last claimed for a day.
    resends: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )
    claimed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    lesson_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    checkin_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    failure: str | None = Field(default=None, sa_column=Column(String(512)))
    # The evening check-in, sent apart from the lesson (scheduler.states.FollowUpState;
    # NULL when it went with the lesson), fenced by its own attempt number.
    checkin_state: str | None = Field(default=None, sa_column=Column(String(16)))
    checkin_attempts: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )
    followup_claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # "Later": the lesson comes once more at `snoozed_until` (at most one snooze a day).
    snoozed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    snooze_state: str | None = Field(default=None, sa_column=Column(String(16)))
    snooze_attempts: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )


class Answer(SQLModel, table=True):
    """A learner's answer to one check-in; unique per delivery, so a second tap never counts."""

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    delivery_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("delivery.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    learner_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("learner.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    value: str = Field(sa_column=Column(Text, nullable=False))
    answered_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # Private: words that spoke of crisis or abuse, or "someone is hurting me now". They
    # are kept (and exported) but never shown back in a later lesson, whose first line
    # may be read by someone else on the lock screen.
    private: bool = Field(
        default=False,
        sa_column=Column(Boolean, nullable=False, server_default=text("false")),
    )
    # A voice or video note kept as the answer: Telegram's file id and its length (never
    # downloaded); `value` then says "🎤 0:12" for the recalls and the export.
    voice_file_id: str | None = Field(default=None, sa_column=Column(String(256)))
    voice_seconds: int | None = Field(default=None, sa_column=Column(Integer))
    # How the answer came (scheduler.states.AnswerVia: a tap, words typed for a tap, free
    # text, a voice note), and whether it came before its evening check-in was asked.
    # Older answers have no `via`; `bridges stats` counts them apart.
    via: str | None = Field(default=None, sa_column=Column(String(8)))
    early: bool = Field(
        default=False,
        sa_column=Column(Boolean, nullable=False, server_default=text("false")),
    )
    # Kept from the partner (issue 16, "keep this from Sam" after answering): the partner
    # is shown only that it was answered. Unlike `private`, the learner chose it.
    withheld: bool = Field(
        default=False,
        sa_column=Column(Boolean, nullable=False, server_default=text("false")),
    )


class KeptMessage(SQLModel, table=True):
    """One message of the learner's, kept: part of an answer (`role` "answer": the answer's
    value is its parts, in order) or a note on the day (`role` "note": words that answered
    nothing, kept so that nothing typed is thrown away, and shown back in the evening).

    `message_id` is the learner's own Telegram message, so that an edit of it can find
    and update the words (the old words go to `MessageEdit`). A note on a day before
    any lesson came has no delivery.
    """

    __tablename__ = "kept_message"
    __table_args__ = (Index("ix_kept_message_learner_id_message_id", "learner_id", "message_id"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    learner_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("learner.id", ondelete="CASCADE"), nullable=False)
    )
    delivery_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("delivery.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    role: str = Field(sa_column=Column(String(8), nullable=False))
    words: str = Field(sa_column=Column(Text, nullable=False))
    kept_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    edited_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # As for answers: words that spoke of crisis or abuse are never shown back.
    private: bool = Field(
        default=False,
        sa_column=Column(Boolean, nullable=False, server_default=text("false")),
    )
    voice_file_id: str | None = Field(default=None, sa_column=Column(String(256)))


class MessageEdit(SQLModel, table=True):
    """The text a kept message had before an edit replaced it: the history stays."""

    __tablename__ = "message_edit"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    kept_message_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("kept_message.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    words: str = Field(sa_column=Column(Text, nullable=False))
    replaced_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Invite(SQLModel, table=True):
    """A learner's invite to take the course together (/together): single use, for 72
    hours, revocable. Only a hash of its code is kept (the code itself is shown once, to
    the inviter), so the table cannot be read back into working invites."""

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    inviter_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("learner.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    code_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class Pair(SQLModel, table=True):
    """Two learners taking the course together, from `linked_at` until `ended_at` (either
    may end it, at once). One open pair per learner at a time."""

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    inviter_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("learner.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    partner_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("learner.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    linked_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class Reveal(SQLModel, table=True):
    """A check-in both partners answered, shown to each of them once: unique per pair,
    lesson and each one's round of the course (/restart begins a new one), so two answers
    landing at the same moment reveal exactly once, and a lesson taken again reveals again."""

    __table_args__ = (UniqueConstraint("pair_id", "lesson_id", "inviter_round", "partner_round"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    pair_id: int = Field(
        sa_column=Column(Integer, ForeignKey("pair.id", ondelete="CASCADE"), nullable=False)
    )
    lesson_id: str = Field(sa_column=Column(String(64), nullable=False))
    revealed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    inviter_round: int = Field(
        default=1, sa_column=Column(Integer, nullable=False, server_default=text("1"))
    )
    partner_round: int = Field(
        default=1, sa_column=Column(Integer, nullable=False, server_default=text("1"))
    )


class PairNotice(SQLModel, table=True):
    """A message to one partner that waits for its moment, the database being the schedule:
    the other's answer (`reveal`, in the reader's evening, or soon after the second answer
    if that came later) or that the link ended (`ended`, at the reader's next lesson or
    evening). Waiting keeps either from saying when the other acted, and leaves time to
    keep an answer from the partner. Held, sent and fenced like a lesson (`state`,
    `attempts`, `claimed_at`); `lesson_id` is "" for `ended`, so the unique key holds.
    A `waiting` notice says today's lesson waits for the partner (storage/in_step.py).
    The pair may be gone (/delete) while an `ended` notice still waits: SET NULL."""

    __tablename__ = "pair_notice"
    __table_args__ = (
        UniqueConstraint("reader_id", "pair_id", "kind", "lesson_id", "round"),
        Index("ix_pair_notice_state_due_at", "state", "due_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    pair_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("pair.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    reader_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("learner.id", ondelete="CASCADE"), nullable=False)
    )
    # Whose answer a reveal shows (the reader's partner); None for `ended`.
    writer_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    kind: str = Field(sa_column=Column(String(8), nullable=False))
    lesson_id: str = Field(sa_column=Column(String(64), nullable=False))
    # The reader's round of the course when it was scheduled: a lesson taken again after
    # /restart has its own notices.
    round: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    state: str = Field(sa_column=Column(String(16), nullable=False))
    attempts: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # A reveal's words as it showed them (None when kept from the reader): the reader's
    # /export says what they were shown, not the answer as it reads now.
    shown: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class SendBudgetSlot(SQLModel, table=True):
    """The bot's shared send budget: the next free slot, one row for all processes.

    Telegram's limits are per bot, so N processes draw their send slots from
    this row (storage/budget.py) instead of each keeping its own 30 a second.
    """

    __tablename__ = "send_budget"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    next_slot: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
