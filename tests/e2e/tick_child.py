"""A tick in a process of its own, on a clock the test sets: the kill tests' victim.

    python -m tests.e2e.tick_child --database URL --base-url URL --token T --now ISO

`bridges worker` reads the system clock, and a lease is 60 s of it; this
driver builds the same Application (bot.app.build_application), initialises
it and runs `scheduler.tick.run_tick` once at `--now`, through the public API
only. With BRIDGES_TEST_CRASH_AT=<point>:<n> in its environment it dies by
SIGKILL at that point (scheduler/crash.py). `--concurrency 1` makes each kill
land between two whole sends, so what a kill may leave behind is exact.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime

from bot.app import build_application
from bot.services import SERVICES_KEY, Services
from lessons.loader import load_course
from scheduler.tick import run_tick
from storage.db import create_engine
from storage.repo import Repo


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
        send_per_second=1000,
    )
    try:
        async with app:  # initialise the bot; the job queue and updates never start
            services = app.bot_data[SERVICES_KEY]
            assert isinstance(services, Services)
            await run_tick(
                services.clock, services.lessons, batch=args.batch, concurrency=args.concurrency
            )
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.tick_child")
    parser.add_argument("--database", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--now", required=True, help="the injected clock, ISO 8601 with offset")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=1)
    asyncio.run(tick_once(parser.parse_args()))


if __name__ == "__main__":
    main()
