"""`bridges bench fanout`: everyone due in one minute, sent the way production sends.

Seeds `--learners` learners due in the last minute and gives each a sandbox
chat; builds the Application with `bot.chat.app.build_application` and runs
`scheduler.tick.run_tick` once, as the tick job would: claim, render, send over
HTTP through python-telegram-bot, record. Then it checks from both sides, the
database and the sandbox, that nobody got the lesson twice (duplicates) and
that every due learner got it (missed).

The tick runs without its 20 s time budget (which only splits a long
fan-out across ticks the JobQueue would run back to back), so one tick sends
everyone and the bench times the whole fan-out.

Flood limits are off on both sides: the sandbox gets huge rates, and the
bot's send budget (BRIDGES_SEND_PER_SECOND) is set far above what the machine
can send (Telegram's 30/s limit, not Bridges' capacity, would otherwise be all
this measures; pass `--telegram-pace` to keep it).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import math
import pstats
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.chat.app import TICK_JOB, BridgesApp, build_application
from bot.chat.services import Services
from bot.ops.runner import running
from bot.tools.bench.common import Progress, machine, pyplot, save, say
from bot.tools.sandbox import BotMessage, Sandbox, SandboxUser
from lessons.loader import load_course
from scheduler.clock import Clock, system_clock
from scheduler.tick import run_tick
from storage.seed import DEFAULT_POSTGRES_URL, BenchDatabase, bench_database

# The JobQueue's own tick is removed (the bench runs it); this only keeps it far off.
IDLE_TICK_SECONDS = 3600
# A send budget no machine reaches: the bot never waits for a slot (limiter "off").
UNPACED_PER_SECOND = 1_000_000.0
# A token shaped like a real one, valid only in the sandbox.
BENCH_TOKEN = "123456:" + "B" * 35
UNLIMITED = 10**9


@dataclass
class FanoutRun:
    learners: int
    db: str
    telegram_pace: bool
    sent: int = 0
    seconds: float = 0.0
    duplicates: int = 0
    missed: int = 0
    seed_seconds: float = 0.0
    lesson_times: list[float] = field(default_factory=list)  # seconds since the tick began
    profile: str = ""

    def result(self) -> dict[str, Any]:
        return {
            "lessons_per_s": round(self.sent / self.seconds, 1) if self.seconds else 0.0,
            "duplicates": self.duplicates,
            "missed": self.missed,
            "learners": self.learners,
            "db": self.db,
            "machine": machine(),
            "sent": self.sent,
            "seconds": round(self.seconds, 2),
            "seed_s": round(self.seed_seconds, 2),
            "bot_global_pace": "30/s" if self.telegram_pace else "off",
        }


def unlimited_sandbox() -> Sandbox:
    """A sandbox whose flood limits never bite."""
    return Sandbox(
        BENCH_TOKEN,
        global_rate=UNLIMITED,
        global_burst=UNLIMITED,
        chat_rate=UNLIMITED,
        chat_burst=UNLIMITED,
    )


def add_chats(sandbox: Sandbox, ids: range) -> None:
    """A sandbox chat for each seeded learner (Telegram knows them; they pressed /start once)."""
    for index, learner_id in enumerate(ids):
        sandbox.user(learner_id, f"Learner {learner_id}", language_code=("en", "nl")[index % 2])


@asynccontextmanager
async def running_bridges(
    sandbox: Sandbox, database: BenchDatabase, clock: Clock, *, telegram_pace: bool = True
) -> AsyncIterator[BridgesApp]:
    """The production Application against the sandbox, started as `bridges run` starts it."""
    app = build_application(
        token=sandbox.token,
        base_url=sandbox.base_url,
        repo=database.repo,
        course=load_course(),
        clock=clock,
        tick_seconds=IDLE_TICK_SECONDS,
        # Without Telegram's pace the bot's own budget is set far above what the
        # machine can send, so it never waits: the bench measures Bridges alone.
        send_per_second=30.0 if telegram_pace else UNPACED_PER_SECOND,
    )
    assert app.job_queue is not None
    for job in app.job_queue.get_jobs_by_name(TICK_JOB):
        job.schedule_removal()  # the bench runs the tick itself, at the moment it measures
    async with running(app, poll_timeout=1):
        yield app


def services_of(app: BridgesApp) -> Services:
    return app.bot_data.services


async def bench_fanout(
    *,
    learners: int,
    db: str,
    postgres_url: str = DEFAULT_POSTGRES_URL,
    batch: int = 100,
    concurrency: int = 16,
    telegram_pace: bool = False,
    profile: bool = False,
) -> FanoutRun:
    """Seed, send everyone's lesson in one tick, then count duplicates and misses."""
    run = FanoutRun(learners=learners, db=db, telegram_pace=telegram_pace)
    async with bench_database(db, postgres_url=postgres_url) as database:
        say(f"seeding {learners:,} learners into {db} ...")
        began = time.perf_counter()
        ids = await database.seed(
            learners, system_clock() - timedelta(minutes=1), spread=timedelta(seconds=59)
        )
        run.seed_seconds = time.perf_counter() - began
        async with unlimited_sandbox() as sandbox:
            add_chats(sandbox, ids)
            tick_began = 0.0

            def on_message(user: SandboxUser, _message: BotMessage, kind: str) -> None:
                if kind == "new" and len(user.inbox) == 1:  # the lesson, with its check-in
                    run.lesson_times.append(time.perf_counter() - tick_began)

            sandbox.add_listener(on_message)
            async with running_bridges(
                sandbox, database, system_clock, telegram_pace=telegram_pace
            ) as app:
                lessons = services_of(app).delivery
                progress = Progress("fanout", learners)
                tick_began = time.perf_counter()
                profiler = cProfile.Profile() if profile else None
                if profiler is not None:
                    profiler.enable()
                tick = asyncio.create_task(
                    run_tick(
                        system_clock,
                        lessons,
                        batch=batch,
                        concurrency=concurrency,
                        budget_s=math.inf,  # one tick for all: the bench times the whole fan-out
                    )
                )
                while not tick.done():
                    await asyncio.wait({tick}, timeout=0.2)
                    progress.update(len(run.lesson_times), "lessons")
                report = tick.result()
                run.seconds = time.perf_counter() - tick_began
                if profiler is not None:
                    profiler.disable()
                    run.profile = _top(profiler)
                progress.finish(f"{report.sent:,} sent in {run.seconds:.1f}s")
                run.sent = report.sent
            audit = await database.audit(ids)
            users = sandbox.users
            doubled = sum(1 for i in ids if len(users[i].inbox) > 1)  # one message a lesson
            unseen = {i for i in ids if not users[i].inbox}
            run.duplicates = audit.duplicates + doubled
            run.missed = len(unseen | (set(ids) - audit.sent_learners))
    return run


def _top(profiler: cProfile.Profile) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(40)
    return out.getvalue()


def plot(run: FanoutRun, path: str) -> None:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(8, 4))
    per_second: dict[int, int] = {}
    for moment in run.lesson_times:
        per_second[int(moment)] = per_second.get(int(moment), 0) + 1
    seconds = sorted(per_second)
    axes.plot(seconds, [per_second[s] for s in seconds], color="#3b75af", label="lessons/s")
    axes.axhline(2000, color="#c44", linestyle="--", label="target 2,000/s")
    axes.set_xlabel("seconds into the tick")
    axes.set_ylabel("lessons sent per second")
    axes.set_ylim(bottom=0)
    axes.legend()
    axes.set_title(f"fan-out of {run.learners:,} lessons on {run.db}")
    save(figure, path)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    run = await bench_fanout(
        learners=args.learners,
        db=args.db,
        postgres_url=args.postgres_url,
        batch=args.batch,
        concurrency=args.concurrency,
        telegram_pace=args.telegram_pace,
        profile=args.profile,
    )
    if run.profile:
        say(run.profile)
    if args.plot:
        plot(run, args.plot)
    return run.result()
