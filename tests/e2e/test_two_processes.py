"""Two `bridges worker` processes, one PostgreSQL, one sandbox: every due learner gets one lesson.

The processes share the claim (FOR UPDATE SKIP LOCKED) and the send budget
(one PostgreSQL row). The sandbox runs in its own process in Telegram's strict
shape, at the same global limit as BRIDGES_SEND_PER_SECOND, so a budget the
two processes together overspent would show up as 429s.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from scheduler.clock import system_clock
from tests.e2e.fleet import (
    sandbox_child,
    seed_learners,
    start_worker,
    stop_process,
    tally,
    wait_until,
)

# 1,000 due learners in `make test`: enough for both workers to claim and send many
# batches at the shared 500/s (a few seconds). The full size, 10,000 (about 150 s
# on 2 cores), is a bench-sized run kept behind this variable:
#   BRIDGES_TEST_FLEET_LEARNERS=10000 .venv/bin/pytest tests/e2e/test_two_processes.py
# (tests/README.md, docs/performance.md). The assertions are the same at either size.
LEARNERS = int(os.environ.get("BRIDGES_TEST_FLEET_LEARNERS", "1000"))
PER_SECOND = 500
FIRST_ID = 100_000
CLAIMED = re.compile(r"tick: (\d+) claimed")


async def test_two_workers_send_every_lesson_once_within_one_budget(
    pg: AsyncEngine, postgres_database: str, tmp_path: Path
):
    await seed_learners(pg, FIRST_ID, LEARNERS, due_at=system_clock() - timedelta(minutes=1))
    async with sandbox_child(
        "--flood", "strict", "--global-limit", str(PER_SECOND), "--auto-users"
    ) as sandbox:
        env = {
            "BRIDGES_TELEGRAM_BASE_URL": sandbox.base_url,
            "BRIDGES_DATABASE_URL": postgres_database,
            "BRIDGES_SEND_PER_SECOND": str(PER_SECOND),
            "BRIDGES_TICK_SECONDS": "1",
        }
        logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
        workers = [await start_worker(log, **env) for log in logs]
        try:

            async def all_sent() -> bool:
                return (await tally(pg, FIRST_ID, LEARNERS)).sent >= LEARNERS

            await wait_until(
                all_sent, timeout=400, what="every lesson sent", alive=workers, every=1
            )
        finally:
            codes = [await stop_process(worker) for worker in workers]
        stats = await sandbox.stats()

    assert codes == [0, 0], [log.read_text()[-2000:] for log in logs]
    result = await tally(pg, FIRST_ID, LEARNERS)
    # Nothing lost: every due learner has exactly one sent delivery and nothing else.
    assert result.sent == LEARNERS and result.learners_sent == LEARNERS
    assert result.sending == 0 and result.failed == 0 and result.resends == 0
    # Nothing twice: no learner has two deliveries of a lesson, no chat two messages.
    assert result.max_sent_per_lesson == 1
    assert stats["messages"] == LEARNERS
    assert stats["chats_with_messages"] == LEARNERS
    assert stats["max_messages_per_chat"] == 1
    # One budget for both: Telegram's strict limit was never breached.
    assert stats["flood_refusals"] == 0, stats["statuses"]
    assert "429" not in stats["statuses"]
    # Both processes did part of the work.
    shares = [sum(int(n) for n in CLAIMED.findall(log.read_text())) for log in logs]
    assert sum(shares) == LEARNERS and all(share > 0 for share in shares), shares
