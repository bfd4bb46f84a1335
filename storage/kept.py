"""Kept messages: every message of the learner's that Bridges keeps, and edits of them.

Nothing a learner types is thrown away. A message that answers a check-in is kept as
a part of the answer (the answer's value is its parts, in order); words that answer
nothing (a "hmm" under a choice, words after the tap, a voice note where a tap was
asked) are kept as a *note* on the day, on the learner's newest lesson. The evening
check-in shows the day's notes back (`with_notes`), so it never asks as if nothing was
said. An edit of a kept message updates its words and keeps the old ones
(`MessageEdit`); an edited answer part updates the answer too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Literal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.claims import Claim
from scheduler.states import ClaimKind, KeptRole
from storage.models import Answer, KeptMessage, Learner, MessageEdit
from storage.schedule import latest_delivery, lock_learner

# What the evening check-in shows back of the day's notes (the whole notes are kept): the
# newest few, each cut to a length, so the check-in stays far inside Telegram's 4096.
SHOWN_NOTES = 3
SHOWN_NOTE_LENGTH = 300

EditOutcome = Literal["answer", "typed", "note", "unknown", "same"]


def voice_words(seconds: int) -> str:
    """How a voice or video note is written where words are kept: "🎤 0:12"."""
    return f"🎤 {seconds // 60}:{seconds % 60:02d}"


def keep(
    session: AsyncSession,
    learner_id: int,
    delivery_id: int | None,
    message_id: int | None,
    role: KeptRole,
    words: str,
    now: datetime,
    *,
    private: bool = False,
    voice_file_id: str | None = None,
) -> None:
    """Keep one message of the learner's, as a part of an answer or as a note."""
    session.add(
        KeptMessage(
            learner_id=learner_id,
            delivery_id=delivery_id,
            message_id=message_id,
            role=role,
            words=words,
            kept_at=now,
            private=private,
            voice_file_id=voice_file_id[:256] if voice_file_id else None,
        )
    )


async def keep_note(
    session: AsyncSession,
    learner_id: int,
    message_id: int | None,
    words: str,
    now: datetime,
    *,
    private: bool = False,
    voice_file_id: str | None = None,
) -> bool:
    """Keep words that answered nothing as a note on the learner's newest lesson (or on no
    lesson, before the first one came). Private when the learner is in care. False for a
    stranger (nobody to keep them for)."""
    learner = await session.get(Learner, learner_id)
    if learner is None:
        return False
    latest = await latest_delivery(session, learner_id, sent_only=True)
    hidden = private or learner.care_since is not None
    keep(
        session,
        learner_id,
        latest.id if latest is not None else None,
        message_id,
        KeptRole.NOTE,
        words,
        now,
        private=hidden,
        voice_file_id=voice_file_id,
    )
    return True


async def edit(
    session: AsyncSession,
    learner_id: int,
    message_id: int,
    words: str,
    now: datetime,
    *,
    private: bool = False,
    longest: int,
) -> EditOutcome:
    """An edit of a kept message: its new words are kept and the old ones go to the
    history. An answer's part updates the answer (`longest` characters at most).
    `typed` for words that stood for a tap (the tap stays the answer); `unknown` for a
    message that was never kept (a command, a typed setting)."""
    # The learner first, as every answer takes it: a second message adding to the answer
    # at this moment waits, so neither overwrites the other's words.
    await lock_learner(session, learner_id)
    found = (
        await session.exec(
            select(KeptMessage)
            .where(KeptMessage.learner_id == learner_id, KeptMessage.message_id == message_id)
            .order_by(col(KeptMessage.id))
        )
    ).first()
    if found is None or found.id is None:
        return "unknown"
    if found.words == words and not (private and not found.private):
        return "same"
    session.add(MessageEdit(kept_message_id=found.id, words=found.words, replaced_at=now))
    old = found.words
    found.words, found.edited_at = words, now
    found.private = found.private or private
    if found.role == KeptRole.TYPED:
        return "typed"  # the tap they stood for stays the answer
    if found.role != KeptRole.ANSWER or found.delivery_id is None:
        return "note"
    answer = (
        await session.exec(select(Answer).where(Answer.delivery_id == found.delivery_id))
    ).first()
    if answer is not None:
        answer.value = (await _answer_value(session, answer, found, old))[:longest]
        answer.private = answer.private or found.private
    return "answer"


async def _answer_value(
    session: AsyncSession, answer: Answer, edited: KeptMessage, old: str
) -> str:
    """The answer's words after one part changed: its parts again, in order, when they are
    all kept; else (an answer from before parts were kept) the old words replaced."""
    parts = (
        await session.exec(
            select(KeptMessage)
            .where(
                KeptMessage.delivery_id == answer.delivery_id,
                KeptMessage.role == KeptRole.ANSWER,
            )
            .order_by(col(KeptMessage.id))
        )
    ).all()
    before = [old if part.id == edited.id else part.words for part in parts]
    if "\n\n".join(before) == answer.value:
        return "\n\n".join(part.words for part in parts)
    return answer.value.replace(old, edited.words, 1)


async def with_notes(session: AsyncSession, claims: Sequence[Claim]) -> list[Claim]:
    """The claims, each evening check-in carrying the day's notes to show back (one query
    for the batch, none when no check-in is claimed). Private notes are never shown."""
    asked = {claim.delivery_id for claim in claims if claim.kind == ClaimKind.CHECKIN}
    if not asked:
        return list(claims)
    rows = (
        await session.exec(
            select(col(KeptMessage.delivery_id), col(KeptMessage.words))
            .where(
                col(KeptMessage.delivery_id).in_(sorted(asked)),
                KeptMessage.role == KeptRole.NOTE,
                col(KeptMessage.private).is_(False),
            )
            .order_by(col(KeptMessage.id))
        )
    ).all()
    notes: dict[int, list[str]] = {}
    for delivery_id, words in rows:
        if delivery_id is not None:
            notes.setdefault(delivery_id, []).append(_shown(words))
    for delivery_id, day in notes.items():
        if len(day) > SHOWN_NOTES:  # the newest few, and how many more there are
            notes[delivery_id] = [f"… (+{len(day) - SHOWN_NOTES})", *day[-SHOWN_NOTES:]]
    return [
        replace(claim, notes=tuple(notes[claim.delivery_id]))
        if claim.kind == ClaimKind.CHECKIN and claim.delivery_id in notes
        else claim
        for claim in claims
    ]


def _shown(words: str) -> str:
    """A note as the evening shows it: whole, or cut at a word with "…"."""
    if len(words) <= SHOWN_NOTE_LENGTH:
        return words
    return words[:SHOWN_NOTE_LENGTH].rsplit(" ", 1)[0].rstrip() + "…"


async def kept_for_export(
    session: AsyncSession, learner_id: int
) -> dict[int | None, list[dict[str, object]]]:
    """Every kept message with the words it had before each edit, oldest first, as
    JSON-ready values, by delivery (None: a note from before the first lesson)."""
    kept = (
        await session.exec(
            select(KeptMessage)
            .where(KeptMessage.learner_id == learner_id)
            .order_by(col(KeptMessage.id))
        )
    ).all()
    ids = [message.id for message in kept if message.id is not None]
    edits: dict[int, list[MessageEdit]] = {}
    if ids:
        for row in (
            await session.exec(
                select(MessageEdit)
                .where(col(MessageEdit.kept_message_id).in_(ids))
                .order_by(col(MessageEdit.id))
            )
        ).all():
            edits.setdefault(row.kept_message_id, []).append(row)
    found: dict[int | None, list[dict[str, object]]] = {}
    for message in kept:
        found.setdefault(message.delivery_id, []).append(
            {
                "role": message.role,
                "words": message.words,
                "kept_at": message.kept_at.isoformat(),
                "edited_at": message.edited_at.isoformat() if message.edited_at else None,
                "private": message.private,
                "voice_file_id": message.voice_file_id,
                "before_edits": [
                    {"words": row.words, "replaced_at": row.replaced_at.isoformat()}
                    for row in edits.get(message.id or 0, [])
                ],
            }
        )
    return found
