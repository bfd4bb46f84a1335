"""The kill bench's victim: one tick in a process of its own, on a clock the bench sets.

    python -m bot.tools.bench.victim --database URL --base-url URL --token T --now ISO

`bridges worker` reads the system clock, and a lease is 60 s of it; this
builds the production Application (bot.chat.app.build_application) and runs
`scheduler.tick.run_tick` once at `--now`. With BRIDGES_TEST_CRASH_AT=<point>:<n>
in its environment it dies by SIGKILL at that point (scheduler/crash.py). One
send at a time (`--concurrency 1`), so each kill lands between whole sends
and what it may cost is exact. tests/e2e/test_kill.py drives this same victim.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime

from bot.chat.app import build_application
from lessons.loader import load_course
from scheduler.tick import run_tick
from storage.db import create_engine
from storage.repo import Repo

UNPACED_PER_SECOND = 1000.0  # the sandbox's flood limits are off; pacing is not measured here


async def tick_once(args: argparse.Namespace) -> None:
    engine = create_engine(args.database)
    now = datetime.fromisoformat(args.now)
    app = build_application(
        token=args.token,
        base_url=args.base_url,
        repo=Repo(engine),
        course=load_course(),
        clock=lambda: now,
        tick_seconds=3600,
        send_per_second=UNPACED_PER_SECOND,
    )
    try:
        async with app:  # initialise the bot; the job queue and updates never start
            services = app.bot_data.services
            await run_tick(
                services.clock, services.delivery, batch=args.batch, concurrency=args.concurrency
            )
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.tools.bench.victim")
    parser.add_argument("--database", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--now", required=True, help="the injected clock, ISO 8601 with offset")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=1)
    asyncio.run(tick_once(parser.parse_args()))


if __name__ == "__main__":
    main()
