"""The earlier answers a lesson shows back or branches on, read for a whole batch of claims.

Read inside the claim's own transaction (one query for the batch, none when
no claimed lesson looks back), so rendering is pure and the fan-out never
goes back to the database per lesson.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.claims import Claim, CourseEntry
from scheduler.states import ClaimKind
from storage.models import Answer, Delivery


async def recalled_answers(
    session: AsyncSession, wanted: Mapping[int, set[str]]
) -> tuple[dict[int, dict[str, str]], dict[int, set[str]]]:
    """learner id -> {lesson id -> answer} for the lessons each learner's claim looks back at,
    and learner id -> the lesson ids among them whose answer is private.

    This round's answer wins over an older round's (/restart keeps history). A
    private answer still picks a branch, but is never shown back (storage/models.py).
    """
    lesson_ids = {lesson_id for ids in wanted.values() for lesson_id in ids}
    if not wanted or not lesson_ids:
        return {}, {}
    rows = (
        await session.exec(
            select(
                col(Delivery.learner_id),
                col(Delivery.lesson_id),
                col(Answer.value),
                col(Answer.private),
            )
            .join(Delivery, col(Delivery.id) == Answer.delivery_id)
            .where(
                col(Delivery.learner_id).in_(list(wanted)),
                col(Delivery.lesson_id).in_(sorted(lesson_ids)),
            )
            .order_by(col(Delivery.round).desc())
        )
    ).all()
    found: dict[int, dict[str, str]] = {}
    private: dict[int, set[str]] = {}
    for learner_id, lesson_id, value, hidden in rows:
        if lesson_id in wanted[learner_id] and lesson_id not in found.get(learner_id, {}):
            found.setdefault(learner_id, {})[lesson_id] = value
            if hidden:
                private.setdefault(learner_id, set()).add(lesson_id)
    return found, private


async def with_recalls(
    session: AsyncSession, claims: Sequence[Claim], course: Sequence[CourseEntry]
) -> list[Claim]:
    """The claims, each carrying the answers its lesson recalls (missing ones left out)."""
    looks_back = {entry.lesson_id: entry.looks_back for entry in course}
    wanted: dict[int, set[str]] = {}
    for claim in claims:
        if claim.kind != ClaimKind.PAUSE_NOTE and looks_back.get(claim.lesson_id):
            wanted.setdefault(claim.learner_id, set()).update(looks_back[claim.lesson_id])
    if not wanted:
        return list(claims)
    found, private = await recalled_answers(session, wanted)
    return [
        replace(
            claim,
            recalls=_only(found.get(claim.learner_id, {}), looks_back[claim.lesson_id]),
            private=frozenset(
                private.get(claim.learner_id, set()) & set(looks_back[claim.lesson_id])
            ),
        )
        if claim.learner_id in found and claim.lesson_id in looks_back
        else claim
        for claim in claims
    ]


def _only(answers: Mapping[str, str], lesson_ids: Iterable[str]) -> dict[str, str]:
    return {lesson_id: answers[lesson_id] for lesson_id in lesson_ids if lesson_id in answers}
