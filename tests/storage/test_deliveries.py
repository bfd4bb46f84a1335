"""Delivery at scale, on both engines: set-based claims, fenced records, the course position by id.

Each test names the fault it guards against: a sender that outlived its lease,
a course edited under live learners, a /stop followed by Telegram's 403.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from scheduler.claims import CourseEntry
from scheduler.states import DeliveryState, LearnerStatus
from storage.base import retrying
from storage.repo import DEFAULT_LEASE, Repo
from tests.helpers import COURSE, SettableClock, make_learner, record_failed, record_sent

# 2026-03-02 07:00 UTC is 08:00 in Amsterdam, the helpers' learner's time.
DUE = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


async def _state(repo: Repo, delivery_id: int) -> str:
    async with repo.engine.connect() as connection:
        result = await connection.execute(
            text("SELECT state FROM delivery WHERE id = :id"), {"id": delivery_id}
        )
        return str(result.scalar_one())


async def test_a_sender_past_its_lease_cannot_record_over_the_new_owner(
    repo: Repo, clock: SettableClock
):
    await make_learner(repo, clock.now)
    [old] = await repo.claim_due(DUE, COURSE)
    later = DUE + DEFAULT_LEASE + timedelta(seconds=1)
    [new] = await repo.claim_due(later, COURSE)  # the lease expired: another process took it
    assert new.delivery_id == old.delivery_id and new.attempt == old.attempt + 1
    assert await record_failed(repo, old, reason="late 429") is False
    assert await _state(repo, old.delivery_id) == DeliveryState.SENDING
    assert await record_sent(repo, new, now=later, message_id=7)
    # The stale sender wakes up again: it can neither fail nor re-send the recorded row.
    assert await record_failed(repo, old, reason="late") is False
    assert await record_sent(repo, old, now=later, message_id=8) is False
    assert await _state(repo, old.delivery_id) == DeliveryState.SENT


async def test_renewed_leases_are_not_taken_over(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    [claim] = await repo.claim_due(DUE, COURSE)
    renewed = DUE + DEFAULT_LEASE - timedelta(seconds=5)
    await repo.renew_leases([claim], renewed)
    assert await repo.claim_due(DUE + DEFAULT_LEASE + timedelta(seconds=1), COURSE) == []
    [lost] = await repo.claim_due(renewed + DEFAULT_LEASE + timedelta(seconds=1), COURSE)
    assert lost.resend and lost.delivery_id == claim.delivery_id


async def test_editing_the_course_strands_nobody(repo: Repo, clock: SettableClock):
    """Lessons inserted, reordered and removed under live learners: each gets the first new one."""
    await make_learner(repo, clock.now, learner_id=1)
    await make_learner(repo, clock.now, learner_id=2)
    day = DUE
    for _ in range(2):  # both have had opening-1 and empathy-1
        for claim in await repo.claim_due(day, COURSE):
            await record_sent(repo, claim, now=day, message_id=1)
        day += timedelta(days=1)
    edited = [
        CourseEntry("empathy-1", "scale"),  # moved first
        CourseEntry("intro-2", "text"),  # new, between lessons already sent
        CourseEntry("opening-1", "choice"),
        CourseEntry("empathy-3", "choice"),  # empathy-2 removed
    ]
    claims = await repo.claim_due(day, edited)
    assert sorted((c.learner_id, c.lesson_id, c.lesson_day) for c in claims) == [
        (1, "intro-2", 2),
        (2, "intro-2", 2),
    ]
    for claim in claims:
        await record_sent(repo, claim, now=day, message_id=2)
    day += timedelta(days=1)
    assert {c.lesson_id for c in await repo.claim_due(day, edited)} == {"empathy-3"}


async def test_stop_then_a_403_leaves_the_learner_stopped(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    [claim] = await repo.claim_due(DUE, COURSE)
    await repo.stop(1001)  # /stop while the lesson is on its way
    assert await record_failed(repo, claim, reason="Forbidden: bot was blocked", blocked=True)
    learner = await repo.get_learner(1001)
    assert learner is not None and learner.status == LearnerStatus.STOPPED
    # Unblocking the bot later does not bring back someone who said stop.
    back = await repo.mark_unblocked(1001, DUE + timedelta(days=2))
    assert back is not None and back.status == LearnerStatus.STOPPED and back.next_due_at is None


async def test_early_window_claims_earliest_first_for_their_own_day(
    repo: Repo, clock: SettableClock
):
    await make_learner(repo, clock.now, learner_id=1, daily_time="08:05")
    await make_learner(repo, clock.now, learner_id=2, daily_time="08:00")
    await make_learner(repo, clock.now, learner_id=3, daily_time="09:00")
    before = DUE - timedelta(minutes=2)  # 07:58 in Amsterdam
    assert await repo.claim_due(before, COURSE) == []
    claims = await repo.claim_due(before, COURSE, early=timedelta(minutes=10))
    assert [c.learner_id for c in claims] == [2, 1]  # earliest due first; 09:00 not yet
    assert all(c.local_date == DUE.date() and c.due_at is not None for c in claims)
    learner = await repo.get_learner(2)
    assert learner is not None and learner.next_due_at == DUE + timedelta(days=1)


async def test_claiming_a_batch_is_a_handful_of_statements(repo: Repo, clock: SettableClock):
    for learner_id in range(1, 51):
        await make_learner(repo, clock.now, learner_id=learner_id)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        statements.append(sql)

    event.listen(repo.engine.sync_engine, "before_cursor_execute", count)
    try:
        claims = await repo.claim_due(DUE, COURSE, batch=50)
    finally:
        event.remove(repo.engine.sync_engine, "before_cursor_execute", count)
    assert len(claims) == 50
    # Lost leases (lessons and evening check-ins), pick, the learners' recent days (for
    # freezes and silence, and their delivered lessons) and their pause, insert, advance,
    # who of them is linked (in step, and the practice for two), the pair notices due,
    # plus BEGIN: the same few statements for 50 learners as for one, never a loop of
    # savepoints.
    assert len(statements) <= 10, statements
    assert not any("SAVEPOINT" in sql.upper() for sql in statements)
    assert not any(sql.lstrip().upper().startswith("INSERT") for sql in statements[:-3])
    assert "pair" in statements[-1]


async def test_sqlite_reads_run_beside_a_held_write_lock(tmp_path, clock: SettableClock):
    """A reader never queues for SQLite's single write lock (WAL): /progress stays instant."""
    from storage.db import create_engine, upgrade_schema

    path = tmp_path / "bridges.db"
    engine = create_engine(f"sqlite:///{path}")
    await upgrade_schema(engine)
    repo = Repo(engine)
    await make_learner(repo, clock.now)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        learner = await repo.get_learner(1001)
        progress = await repo.progress(1001)
        assert learner is not None and progress is not None
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        await engine.dispose()


async def test_records_are_retried_on_transient_database_errors():
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise OperationalError("UPDATE delivery", {}, Exception("connection was closed"))
        return "recorded"

    assert await retrying(flaky, what="test") == "recorded"
    assert calls == 3


async def test_a_database_error_that_is_not_transient_is_raised_at_once():
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("a bug, not a blip")

    with pytest.raises(ValueError):
        await retrying(broken, what="test")
    assert calls == 1


async def test_concurrent_claims_with_early_window_still_claim_each_learner_once(
    repo: Repo, db, clock: SettableClock
):
    for learner_id in range(1, 31):
        await make_learner(repo, clock.now, learner_id=learner_id)
    other = Repo(db)
    window = timedelta(minutes=5)
    results = await asyncio.gather(
        *(
            r.claim_due(DUE - timedelta(minutes=1), COURSE, batch=4, early=window)
            for r in (repo, other) * 6
        )
    )
    claimed = [c.learner_id for batch in results for c in batch]
    assert len(claimed) == len(set(claimed))


async def test_today_after_an_early_claim_for_tomorrow_sends_no_second_lesson(
    repo: Repo, clock: SettableClock
):
    """Daily 00:05 with a send window: claimed at 23:57 for tomorrow, /today at 23:58."""
    await make_learner(repo, clock.now, daily_time="00:05")
    late_evening = datetime(2026, 3, 2, 22, 57, tzinfo=UTC)  # 23:57 in Amsterdam
    [early] = await repo.claim_due(late_evening, COURSE, early=timedelta(minutes=10))
    assert early.local_date == date(2026, 3, 3)
    await record_sent(repo, early, now=late_evening, message_id=1)
    today = await repo.deliver_today(1001, late_evening + timedelta(minutes=1), COURSE)
    assert today.kind == "again" and today.claim is not None
    assert today.claim.lesson_id == early.lesson_id  # the same lesson shown again
    assert await repo.claim_due(datetime(2026, 3, 2, 23, 5, tzinfo=UTC), COURSE) == []


async def test_a_send_lost_while_the_bot_was_down_does_not_come_on_top_of_todays(
    repo: Repo, clock: SettableClock
):
    await make_learner(repo, clock.now)
    [lost] = await repo.claim_due(DUE, COURSE)  # the process dies mid-send on Mar 2
    three_days_later = DUE + timedelta(days=3)
    claims = await repo.claim_due(three_days_later, COURSE)
    assert [(c.lesson_id, c.local_date, c.resend) for c in claims] == [
        (lost.lesson_id, three_days_later.date(), False)  # one lesson, today's
    ]


async def test_the_lessons_insert_reads_the_same_for_any_batch_on_postgresql(
    repo: Repo, clock: SettableClock
):
    """Its text never depends on the rows (arrays through unnest), so SQLAlchemy compiles
    it once; SQLite's multi-row VALUES is one statement a batch all the same."""
    inserts: list[str] = []

    def keep(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        if sql.lstrip().upper().startswith("INSERT INTO DELIVERY"):
            inserts.append(sql)

    event.listen(repo.engine.sync_engine, "before_cursor_execute", keep)
    try:
        for size, day in ((1, 0), (7, 1)):
            for learner_id in range(100 * size, 100 * size + size):
                await make_learner(repo, clock.now, learner_id=learner_id)
            claims = await repo.claim_due(DUE + timedelta(days=day), COURSE, batch=50)
            assert len([c for c in claims if c.learner_id >= 100 * size]) == size
    finally:
        event.remove(repo.engine.sync_engine, "before_cursor_execute", keep)
    assert len(inserts) == 2
    if repo.engine.dialect.name == "postgresql":
        assert inserts[0] == inserts[1] and "unnest" in inserts[0]
