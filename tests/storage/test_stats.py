"""`bridges stats`' aggregates on both engines: funnel, answers, values, where learners leave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.health import DatabaseUnavailable
from storage.repo import CourseEntry, Repo
from storage.stats import (
    CourseStats,
    Leaving,
    LessonCount,
    TogetherCount,
    Totals,
    ValueCount,
    Ways,
    read_stats,
)
from storage.views import Typed
from tests.helpers import make_learner, record_sent

COURSE = [
    CourseEntry("opening-1", "choice"),
    CourseEntry("empathy-1", "scale"),
    CourseEntry("empathy-2", "choice"),
    CourseEntry("empathy-3", "text"),
    CourseEntry("empathy-4", "scale"),
    CourseEntry("empathy-5", "text"),
]
# 07:00 UTC is 08:00 in Amsterdam, every learner's lesson time.
DAY1 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def _accept_all(_lesson_id: str, _value: str) -> bool:
    return True


async def _day(repo: Repo, day: int) -> dict[int, int]:
    """Run day `day`'s delivery for everyone due: learner id -> delivery id."""
    now = DAY1 + timedelta(days=day - 1)
    claims = await repo.claim_due(now, COURSE)
    for claim in claims:
        await record_sent(repo, claim, now=now, message_id=1)
    return {claim.learner_id: claim.delivery_id for claim in claims}


async def _answer(repo: Repo, learner_id: int, delivery_id: int, value: str, day: int) -> None:
    now = DAY1 + timedelta(days=day - 1, minutes=10)
    outcome = await repo.record_answer(learner_id, delivery_id, value, now, accepts=_accept_all)
    assert outcome.status == "recorded"


async def _fill(repo: Repo) -> None:
    """Alex answers two days then falls silent; Sam (nl) answers two and pauses; Kim stops."""
    start = DAY1 - timedelta(hours=1)
    await make_learner(repo, start, learner_id=1, first_name="Alex")
    await make_learner(repo, start, learner_id=2, first_name="Sam", language="nl")
    await make_learner(repo, start, learner_id=3, first_name="Kim")
    await make_learner(repo, start, learner_id=4, first_name="Noor", daily_time=None)
    sent = await _day(repo, 1)
    assert sorted(sent) == [1, 2, 3]
    await _answer(repo, 1, sent[1], "sent", 1)
    await _answer(repo, 2, sent[2], "not-yet", 1)
    await repo.stop(3)
    sent = await _day(repo, 2)
    assert sorted(sent) == [1, 2]
    await _answer(repo, 1, sent[1], "4", 2)
    await _answer(repo, 2, sent[2], "2", 2)
    await repo.pause(2, DAY1 + timedelta(days=1, minutes=30))
    for day in (3, 4, 5):
        assert sorted(await _day(repo, day)) == [1]


async def test_stats_count_the_funnel_answers_and_where_learners_leave(db: AsyncEngine):
    repo = Repo(db)
    await _fill(repo)
    stats = await read_stats(db, DAY1 + timedelta(days=5))
    assert stats.totals == Totals(
        learners=4,
        onboarded=3,
        active=3,
        paused=1,
        stopped=1,
        blocked=0,
        lessons_sent=8,
        answers=4,
    )
    assert stats.lessons == [
        LessonCount("opening-1", 1, "choice", learners=3, answered=2),
        LessonCount("empathy-1", 2, "scale", learners=2, answered=2),
        LessonCount("empathy-2", 3, "choice", learners=1, answered=0),
        LessonCount("empathy-3", 4, "text", learners=1, answered=0),
        LessonCount("empathy-4", 5, "scale", learners=1, answered=0),
    ]
    assert stats.values == [
        ValueCount("opening-1", 1, "choice", "en", "sent", 1),
        ValueCount("opening-1", 1, "choice", "nl", "not-yet", 1),
        ValueCount("empathy-1", 2, "scale", "en", "4", 1),
        ValueCount("empathy-1", 2, "scale", "nl", "2", 1),
    ]
    assert stats.leaving == [
        Leaving("opening-1", 1, stopped=1),
        Leaving("empathy-1", 2, paused=1, silent=1),
    ]


async def test_two_unanswered_lessons_are_not_silent_yet(db: AsyncEngine):
    repo = Repo(db)
    await make_learner(repo, DAY1 - timedelta(hours=1), learner_id=1)
    sent = await _day(repo, 1)
    await _answer(repo, 1, sent[1], "sent", 1)
    await _day(repo, 2)
    await _day(repo, 3)
    assert (await read_stats(db, DAY1 + timedelta(days=3))).leaving == []
    await _day(repo, 4)
    assert (await read_stats(db, DAY1 + timedelta(days=4))).leaving == [
        Leaving("opening-1", 1, silent=1)
    ]


async def test_never_answering_and_pausing_before_any_lesson_count_before_the_course(
    db: AsyncEngine,
):
    repo = Repo(db)
    await make_learner(repo, DAY1 - timedelta(hours=1), learner_id=1)
    await make_learner(repo, DAY1 - timedelta(hours=1), learner_id=2)
    await repo.pause(2, DAY1 - timedelta(minutes=30))
    for day in (1, 2, 3):
        await _day(repo, day)
    stats = await read_stats(db, DAY1 + timedelta(days=3))
    assert stats.leaving == [Leaving(None, None, paused=1, silent=1)]
    assert stats.totals.paused == 1


async def test_a_timed_pause_that_ended_is_not_paused_now_but_still_shows_where(db: AsyncEngine):
    repo = Repo(db)
    await make_learner(repo, DAY1 - timedelta(hours=1), learner_id=1)
    await _day(repo, 1)
    await repo.pause(1, DAY1 + timedelta(hours=1), days=2)
    stats = await read_stats(db, DAY1 + timedelta(days=4))
    assert stats.totals.paused == 0
    assert stats.leaving == [Leaving("opening-1", 1, paused=1)]


async def test_an_empty_database_gives_zeros(db: AsyncEngine):
    stats = await read_stats(db, DAY1)
    assert stats == CourseStats(
        totals=Totals(0, 0, 0, 0, 0, 0, 0, 0), lessons=[], values=[], leaving=[]
    )


async def test_an_unmigrated_database_is_named_not_dumped(tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(DatabaseUnavailable, match="no such table"):
            await read_stats(engine, DAY1)
    finally:
        await engine.dispose()


async def test_stats_count_how_answers_came_notes_and_edits(db: AsyncEngine):
    """Tap, typed, text and voice; early ones; notes; edited kept messages; and answers from
    before `via` was kept, counted apart."""
    repo = Repo(db)
    await _fill(repo)  # four taps: Alex and Sam on days 1 and 2
    await make_learner(repo, DAY1 + timedelta(days=5), learner_id=5, first_name="Ans")
    for day in range(6, 11):  # Ans: days 1-4 over 8-11 March; day 4 (empathy-3) asks words
        await _day(repo, day)
    now = DAY1 + timedelta(days=9, minutes=5)
    progress = await repo.progress(5)
    assert progress is not None and progress.delivered[-1] == "empathy-3"
    assert (await repo.record_text_answer(5, "a first line", now, message_id=41)).status == (
        "recorded"
    )
    assert (await repo.record_voice_answer(5, "v-1", 9, now, message_id=42)).status == "added"
    assert (await repo.keep_note(5, "by the way", now, message_id=43)).kept
    assert await repo.edit_kept(5, 41, "the first line", now) == "answer"
    async with db.begin() as connection:  # one answer from before `via` was kept
        await connection.exec_driver_sql("UPDATE answer SET via = NULL WHERE learner_id = 2")
    stats = await read_stats(db, now)
    assert stats.ways == Ways(tap=2, text=1, before=2, notes=1, edited=1)


async def test_typed_words_for_a_tap_are_counted_and_kept_beside_it(db: AsyncEngine):
    repo = Repo(db)
    await make_learner(repo, DAY1 - timedelta(hours=1), learner_id=1)
    sent = await _day(repo, 1)
    typed = Typed("yes, I sent it!", message_id=7)
    outcome = await repo.record_answer(1, sent[1], "sent", DAY1, accepts=_accept_all, typed=typed)
    assert outcome.status == "recorded"
    assert (await read_stats(db, DAY1)).ways == Ways(typed=1)
    exported = await repo.export(1)
    assert exported is not None
    [day1] = exported["deliveries"]
    assert day1["answer"]["value"] == "sent" and day1["answer"]["via"] == "typed"
    assert [(m["role"], m["words"]) for m in day1["messages"]] == [("typed", "yes, I sent it!")]
    # An edit of those words keeps them, and the tap they stood for stays the answer.
    assert await repo.edit_kept(1, 7, "no, not yet", DAY1) == "typed"
    exported = await repo.export(1)
    assert exported is not None
    assert exported["deliveries"][0]["answer"]["value"] == "sent"


async def test_stats_count_invites_links_and_the_answer_rate_of_linked_learners(
    db: AsyncEngine,
):
    repo = Repo(db)
    await _fill(repo)  # Alex (1) and Sam (2) answer two days each; Kim (3) stops; Noor (4)
    start = DAY1 - timedelta(hours=1)
    code = await repo.create_invite(1, start)
    assert (await repo.link(2, code, start)).status == "ok"
    await repo.create_invite(4, start)  # never used: expired by the time of the report
    await repo.create_invite(3, start)
    await repo.revoke_invites(3, start)
    await repo.unlink(2, DAY1 + timedelta(days=4))
    stats = await read_stats(db, DAY1 + timedelta(days=5))
    assert stats.together == TogetherCount(
        invites=3,
        accepted=1,
        expired=1,
        revoked=1,
        links=1,
        ended=1,
        linked_sent=7,  # Alex 5 lessons, Sam 2
        linked_answers=4,
        single_sent=1,  # Kim's one lesson
        single_answers=0,
    )
