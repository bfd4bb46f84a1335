"""PostgreSQL connections killed under the running bot: it reconnects, keeps delivering, and
acknowledges an answer only once it is stored.

Connections are killed with `pg_terminate_backend`, only those of this test's
own database. The server itself is not restarted: it is shared with other
sessions on this machine, and a restart would break them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.tools.sandbox import BotMessage, Sandbox, SandboxUser
from lessons.loader import Course
from scheduler.claims import DEFAULT_LEASE
from tests.e2e.fleet import seed_learners, tally
from tests.e2e.harness import Bridges
from tests.helpers import SettableClock

LEARNERS = 60
FIRST_ID = 70_000
KILL = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


async def kill_connections(url: str) -> int:
    """Terminate every other connection to this database; how many there were."""
    admin = await asyncpg.connect(url)
    try:
        return int(await admin.fetchval(KILL))
    finally:
        await admin.close()


@pytest.fixture
async def pg_bridges(
    pg: AsyncEngine,
    postgres_database: str,
    sandbox: Sandbox,
    tmp_path: Path,
    course: Course,
    clock: SettableClock,
    flood_clock: Callable[[], float],
) -> AsyncIterator[Bridges]:
    bot = Bridges(
        sandbox,
        tmp_path / "unused.db",
        course,
        clock,
        pace_clock=flood_clock,
        database_url=postgres_database,
    )
    await bot.start()
    yield bot
    await bot.stop()


async def test_killed_connections_are_replaced_and_every_lesson_goes_out_once(
    pg_bridges: Bridges,
    sandbox: Sandbox,
    postgres_database: str,
    pg: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
):
    bridges = pg_bridges
    sandbox.auto_users = True
    await seed_learners(pg, FIRST_ID, LEARNERS, due_at=bridges.clock.now - timedelta(minutes=1))
    assert bridges.repo is not None
    assert await bridges.repo.count_learners() == LEARNERS  # the bot's pool holds a connection
    assert await kill_connections(postgres_database) >= 1

    # Twice more in the middle of the fan-out, while sends are being recorded.
    kills: list[asyncio.Task[int]] = []

    def on_message(_user: SandboxUser, _message: BotMessage, kind: str) -> None:
        if kind == "new" and sum(sandbox.message_counts().values()) in (15, 40):
            kills.append(asyncio.create_task(kill_connections(postgres_database)))

    sandbox.add_listener(on_message)
    sent = 0
    for _ in range(6):  # the JobQueue's next ticks; a tick whose claim lost its connection fails
        try:
            report = await bridges.tick()
        except DBAPIError:
            continue
        sent += report.sent
        if report.claimed == 0:
            break
    killed = [await task for task in kills]
    assert len(killed) == 2 and all(n >= 1 for n in killed), killed
    # A record that failed for good left its row `sending`: the lease sends it once more.
    bridges.clock.advance(DEFAULT_LEASE + timedelta(seconds=1))
    await bridges.tick()

    result = await tally(pg, FIRST_ID, LEARNERS)
    assert result.sent == LEARNERS and result.learners_sent == LEARNERS
    assert result.sending == 0 and result.failed == 0 and result.max_sent_per_lesson == 1
    counts = sandbox.message_counts()
    assert sorted(counts) == list(range(FIRST_ID, FIRST_ID + LEARNERS))
    unrecorded = sum("not recorded" in record.getMessage() for record in caplog.records)
    assert sum(n - 1 for n in counts.values()) <= unrecorded


async def _answers(pg: AsyncEngine, learner_id: int) -> int:
    async with pg.connect() as connection:
        found = await connection.execute(
            text("SELECT count(*) FROM answer WHERE learner_id = :id"), {"id": learner_id}
        )
        return int(found.scalar_one())


async def test_an_answer_is_acknowledged_only_once_it_is_stored(
    pg_bridges: Bridges, sandbox: Sandbox, postgres_database: str, pg: AsyncEngine
):
    bridges = pg_bridges
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex)  # day 1's lesson with its check-in buttons
    shown = len(alex.inbox)

    # Hold the answer table so the tap's transaction waits inside PostgreSQL, then cut it.
    admin = await asyncpg.connect(postgres_database)
    try:
        holding = admin.transaction()
        await holding.start()
        await admin.execute("LOCK TABLE answer IN ACCESS EXCLUSIVE MODE")
        alex.press("Not yet")
        async with asyncio.timeout(10):
            while not await admin.fetchval(  # noqa: ASYNC110 - PostgreSQL has no event for it
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            ):
                await asyncio.sleep(0.02)
        assert int(await admin.fetchval(KILL)) >= 1
        await holding.rollback()
    finally:
        await admin.close()
    await bridges.settle()

    replies = [message.text for message in alex.inbox[shown:]]
    assert not any("Your answer" in reply for reply in replies), replies
    assert any("something went wrong" in reply for reply in replies), replies
    assert await _answers(pg, 1001) == 0

    # The learner tries again: the bot has reconnected, stores it, then says so.
    await bridges.press(alex, "Not yet")
    assert "Your answer: Not yet" in alex.last.text
    assert await _answers(pg, 1001) == 1


@pytest.fixture(autouse=True)
def _quiet_expected_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
