"""The common design, for comparison: one APScheduler job per learner.

`python -m bot.tools.bench.jobs_baseline N` schedules N daily cron jobs (one per
learner, at spread-out local times, as a `run_daily` per chat would), starts
the scheduler, prints "ready <seconds>" and idles until killed, so
`bridges bench memory` can read its RSS beside Bridges' own. Bridges keeps
the schedule in the database instead (docs/design.md).
"""

from __future__ import annotations

import asyncio
import sys
import time

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

MINUTES_A_DAY = 24 * 60


async def _lesson(learner_id: int) -> None:
    """What a per-learner job would do; never runs during the measurement."""


async def schedule(count: int) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.start()
    for index in range(count):
        # In time order, so the job store appends instead of inserting in the middle.
        minute = index * MINUTES_A_DAY // max(count, 1)
        scheduler.add_job(
            _lesson,
            CronTrigger(hour=minute // 60, minute=minute % 60, timezone="UTC"),
            args=(index,),
            id=f"learner-{index:09d}",
        )
    return scheduler


async def _main(count: int) -> None:
    began = time.perf_counter()
    await schedule(count)
    sys.stdout.write(f"ready {time.perf_counter() - began:.3f}\n")
    sys.stdout.flush()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_main(int(sys.argv[1])))
