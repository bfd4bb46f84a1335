"""SIGKILL a tick at every point of a fan-out; a clean worker afterwards leaves nothing lost.

Each round seeds 12 due learners on PostgreSQL and runs the tick in a child
process (bot/tools/bench/victim.py, shared with `bridges bench kill`: the real
Application and `run_tick`, on a clock the test sets) that kills itself with
SIGKILL the n-th time it passes a crash point. Then a clean worker (the same
public API, in the test process) ticks 61 s of the injected clock later, past
the 60 s lease, as a restarted `bridges worker` would once the lease ran out.
Moving the injected clock, not editing `claimed_at`, keeps the database exactly
as the killed process left it.

The victim sends one lesson at a time (`--concurrency 1`), so every kill lands
between whole sends and what it may cost is exact: a kill at `send:after`
(Telegram answered, the record never happened) is the one instant that sends a
lesson twice, and it does so exactly once; every other point sends nothing twice.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.chat.app import build_application
from bot.tools.sandbox import Sandbox
from lessons.loader import Course
from scheduler.claims import DEFAULT_LEASE
from scheduler.tick import run_tick
from storage.repo import Repo
from tests.e2e.fleet import TOKEN, child_env, seed_learners, tally
from tests.helpers import SettableClock

LEARNERS = 12
BATCH = 4  # three claims of four, then an empty one
FIRST_ID = 5000
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# (point, pass): 20 rounds, each crash point at its first pass, mid-fan-out and at the end.
ROUNDS = [
    *(("claim:before", n) for n in (1, 2, 3, 4)),  # 4: before the last, empty claim
    *(("claim:after", n) for n in (1, 2, 3, 4)),  # 4: after it, all work recorded
    *(("send:before", n) for n in (1, 5, 8, 12)),
    *(("send:after", n) for n in (1, 4, 8, 12)),
    *(("record:after", n) for n in (1, 5, 8, 12)),
]


async def _killed_tick(sandbox: Sandbox, database: str, crash_at: str, log: Path) -> int:
    """Run the victim until it dies; its exit code (-9 for SIGKILL)."""
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.tools.bench.victim",
            "--database",
            database,
            "--base-url",
            sandbox.base_url,
            "--token",
            TOKEN,
            "--now",
            START.isoformat(),
            "--batch",
            str(BATCH),
            env=child_env(BRIDGES_TEST_CRASH_AT=crash_at),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
        )
    return await asyncio.wait_for(process.wait(), 60)


async def _clean_tick(sandbox: Sandbox, engine: AsyncEngine, course: Course, clock: SettableClock):
    app = build_application(
        token=TOKEN,
        base_url=sandbox.base_url,
        repo=Repo(engine),
        course=course,
        clock=clock,
        tick_seconds=3600,
        send_per_second=1000,
    )
    async with app:
        services = app.bot_data.services
        return await run_tick(clock, services.delivery)


@pytest.mark.parametrize(("point", "passes"), ROUNDS, ids=[f"{p}:{n}" for p, n in ROUNDS])
async def test_sigkill_at_a_crash_point_loses_nothing_and_doubles_only_after_the_reply(
    pg: AsyncEngine,
    postgres_database: str,
    course: Course,
    tmp_path: Path,
    point: str,
    passes: int,
):
    await seed_learners(pg, FIRST_ID, LEARNERS, due_at=START - timedelta(minutes=1))
    async with Sandbox(TOKEN, flood="off", auto_users=True) as sandbox:
        log = tmp_path / "victim.log"
        code = await _killed_tick(sandbox, postgres_database, f"{point}:{passes}", log)
        assert code == -signal.SIGKILL, log.read_text()[-3000:]
        left = await tally(pg, FIRST_ID, LEARNERS)

        clock = SettableClock(START + DEFAULT_LEASE + timedelta(seconds=1))
        report = await _clean_tick(sandbox, pg, course, clock)
        counts = sandbox.message_counts()

    after = await tally(pg, FIRST_ID, LEARNERS)
    # Nothing lost: every learner has exactly one sent delivery, nothing in flight or failed.
    assert after.sent == LEARNERS and after.learners_sent == LEARNERS
    assert after.sending == 0 and after.failed == 0
    assert after.max_sent_per_lesson == 1
    # Whatever the killed tick left `sending`, the clean one sent once more.
    assert report.resent == left.sending == after.resends
    assert sorted(counts) == list(range(FIRST_ID, FIRST_ID + LEARNERS))
    duplicates = sum(n - 1 for n in counts.values())
    expected = 1 if point == "send:after" else 0
    print(
        f"kill {point}:{passes}: left {left.sent} sent, {left.sending} sending; "
        f"clean tick resent {report.resent}, sent {report.sent}; duplicates {duplicates}"
    )
    assert duplicates == expected, counts
