"""`bridges bench limit`: how close the send budget runs to Telegram's 30/s without a 429.

A bench PostgreSQL database gets `30 * --seconds` learners, all due; the
bench process serves a sandbox that enforces Telegram's strict shape (at
most 30 sends in ANY sliding second, `flood="strict"`) and notes the instant
each lesson arrives; `--processes` real `bridges worker` child processes
(tick every second, BRIDGES_SEND_PER_SECOND=30) send them. With two
processes they share one budget through the PostgreSQL row
(storage/budget.py `SharedSlots`), as production does.

share_of_limit = lessons per second over the busy interval (first lesson to
last) / 30; `http_429` is the sandbox's count of flood refusals. Afterwards
the database and the sandbox are audited: nobody missed, nobody twice.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.tools.bench.common import Progress, machine, pyplot, save, say
from bot.tools.bench.fanout import BENCH_TOKEN, add_chats
from bot.tools.sandbox import BotMessage, Sandbox, SandboxUser
from scheduler.clock import system_clock
from storage.seed import DEFAULT_POSTGRES_URL, BenchDatabase, bench_database

TELEGRAM_LIMIT = 30  # messages a second per bot
TICK_SECONDS = 1.0  # the workers' tick: a tick that spent its budget is followed at once
STOP_TIMEOUT = 30.0


@dataclass
class LimitRun:
    processes: int
    learners: int
    arrivals: list[float] = field(default_factory=list)  # monotonic seconds, per lesson
    http_429: int = 0
    duplicates: int = 0
    missed: int = 0

    @property
    def busy_seconds(self) -> float:
        return self.arrivals[-1] - self.arrivals[0] if len(self.arrivals) > 1 else 0.0

    @property
    def rate(self) -> float:
        """Lessons a second over the busy interval: n arrivals span n - 1 intervals."""
        return (len(self.arrivals) - 1) / self.busy_seconds if self.busy_seconds else 0.0

    def worst_second(self) -> int:
        """The most lessons inside any one-second window (Telegram's strict measure)."""
        worst = start = 0
        for end, moment in enumerate(self.arrivals):
            while moment - self.arrivals[start] >= 1.0:
                start += 1
            worst = max(worst, end - start + 1)
        return worst

    def result(self) -> dict[str, Any]:
        return {
            "share_of_limit": round(self.rate / TELEGRAM_LIMIT, 4),
            "http_429": self.http_429,
            "learners": self.learners,
            "db": "postgresql",
            "machine": machine(),
            "processes": self.processes,
            "lessons_per_s": round(self.rate, 2),
            "busy_s": round(self.busy_seconds, 2),
            "most_in_one_second": self.worst_second(),
            "sent": len(self.arrivals),
            "duplicates": self.duplicates,
            "missed": self.missed,
        }


def _worker_env(database: BenchDatabase, sandbox: Sandbox) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BRIDGES_")}
    env.update(
        BRIDGES_DATABASE_URL=database.url,
        BRIDGES_TELEGRAM_BASE_URL=sandbox.base_url,
        BRIDGES_TELEGRAM_TOKEN=sandbox.token,
        BRIDGES_TICK_SECONDS=str(TICK_SECONDS),
        BRIDGES_SEND_PER_SECOND=str(TELEGRAM_LIMIT),
        BRIDGES_LOG_LEVEL="WARNING",
    )
    return env


@contextlib.asynccontextmanager
async def _workers(
    count: int, env: dict[str, str], logs: Path
) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """`bridges worker` child processes, logging to files; SIGTERM (then SIGKILL) on the way out."""
    processes: list[asyncio.subprocess.Process] = []
    try:
        for index in range(count):
            with (logs / f"worker-{index}.log").open("wb") as log:
                processes.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        "-m",
                        "bot.ops.cli",
                        "worker",
                        env=env,
                        stdout=asyncio.subprocess.DEVNULL,
                        stderr=log,
                    )
                )
        yield processes
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
        for process in processes:
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                process.kill()
                await process.wait()


async def bench_limit(
    *, processes: int = 1, seconds: int = 25, postgres_url: str = DEFAULT_POSTGRES_URL
) -> LimitRun:
    learners = TELEGRAM_LIMIT * seconds
    run = LimitRun(processes, learners)
    async with bench_database("postgresql", postgres_url=postgres_url) as database:
        ids = await database.seed(learners, system_clock())  # due now: the next tick sends
        async with Sandbox(BENCH_TOKEN, flood="strict", strict_global_limit=TELEGRAM_LIMIT) as box:
            add_chats(box, ids)
            wanted = set(ids)

            def arrived(user: SandboxUser, _message: BotMessage, kind: str) -> None:
                if kind == "new" and user.id in wanted and len(user.inbox) == 1:
                    run.arrivals.append(time.monotonic())

            box.add_listener(arrived)
            progress = Progress(f"limit x{processes}", learners)
            deadline = time.monotonic() + 3 * seconds + 60
            with tempfile.TemporaryDirectory(prefix="bridges_limit_") as logs:
                async with _workers(processes, _worker_env(database, box), Path(logs)) as children:
                    while len(run.arrivals) < learners and time.monotonic() < deadline:
                        if any(child.returncode is not None for child in children):
                            say((Path(logs) / "worker-0.log").read_text()[-2000:])
                            raise RuntimeError("a worker exited before the fan-out ended")
                        await asyncio.sleep(0.2)
                        progress.update(len(run.arrivals), f"429s {box.counters.flood_refusals}")
            progress.finish(f"{run.rate:.2f}/s, 429s {box.counters.flood_refusals}")
            run.http_429 = box.counters.flood_refusals
            counts = box.message_counts()
            audit = await database.audit(ids)
            run.duplicates = audit.duplicates + sum(1 for i in ids if counts.get(i, 0) > 1)
            unseen = {i for i in ids if counts.get(i, 0) == 0}
            run.missed = len(unseen | (wanted - audit.sent_learners))
    return run


def plot(runs: list[LimitRun], path: str) -> None:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(8, 4))
    for run in runs:
        if not run.arrivals:
            continue
        first = run.arrivals[0]
        # Lessons in the sliding second ending at each arrival: Telegram's own measure.
        window: list[float] = []
        start = 0
        for end, moment in enumerate(run.arrivals):
            while moment - run.arrivals[start] >= 1.0:
                start += 1
            window.append(end - start + 1)
        axes.plot(
            [moment - first for moment in run.arrivals],
            window,
            label=f"{run.processes} process(es): {run.rate / TELEGRAM_LIMIT:.1%} of the limit, "
            f"{run.http_429} x 429",
        )
    axes.axhline(TELEGRAM_LIMIT, color="#c44", linestyle="--", label="Telegram's 30/s")
    axes.axhline(0.97 * TELEGRAM_LIMIT, color="#888", linestyle=":", label="target 97 %")
    axes.set_xlabel("seconds after the first lesson")
    axes.set_ylabel("lessons in the last second")
    axes.set_ylim(0, TELEGRAM_LIMIT + 5)
    axes.legend(fontsize=8, loc="lower center")
    axes.set_title("send budget against a strict 30/s sandbox")
    save(figure, path)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    run = await bench_limit(
        processes=args.processes, seconds=args.seconds, postgres_url=args.postgres_url
    )
    if args.plot:
        plot([run], args.plot)
    return run.result()
