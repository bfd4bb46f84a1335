"""`bridges bench kill`: the SIGKILL test as a figure: rounds, lost lessons, duplicates.

Each round seeds `--learners` due learners on a bench PostgreSQL database and
runs one tick in a child process (`python -m bot.tools.bench.victim`: the real
Application and `run_tick`, on a clock the bench sets) that kills itself with
SIGKILL the n-th time it passes a crash point (scheduler/crash.py). Then a
clean tick in the bench process (the same public API) runs past the lease, as
a restarted `bridges worker` would, and the round is counted from both sides:
the database (a learner without a sent delivery, or a row still `sending` or
`failed`, is lost) and the sandbox (a chat with the lesson twice is a
duplicate). Rounds cycle through the crash points, each at its first pass,
mid-fan-out and at the end, like tests/e2e/test_kill.py.

The one instant that may send a lesson twice is `send:after` (Telegram
answered, the record never happened); a duplicate anywhere else is a bug,
and the JSON counts it apart (`duplicates_elsewhere`).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.chat.app import build_application
from bot.tools.bench.common import Progress, machine, pyplot, save, say
from bot.tools.bench.fanout import BENCH_TOKEN
from bot.tools.sandbox import Sandbox
from lessons.loader import Course, load_course
from scheduler.claims import DEFAULT_LEASE
from scheduler.crash import CRASH_ENV, POINTS
from scheduler.tick import run_tick
from storage.seed import DEFAULT_POSTGRES_URL, BenchDatabase, bench_database

BATCH = 4  # the victim's claim batch: a few claims per round, so claim points fall between them
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the victim's clock; recovery runs past the lease
VICTIM_TIMEOUT = 120.0
# The instant between Telegram's reply and the record: the only one allowed to send twice.
REPLY_TO_RECORD = "send:after"


def plan(rounds: int, learners: int) -> list[tuple[str, int]]:
    """(crash point, pass) for each round: the points in turn, at spread-out passes.

    Claim points are passed once per claim (ceil(learners / BATCH) claims and
    the last, empty one), send and record points once per learner.
    """
    claims = math.ceil(learners / BATCH) + 1
    per_point = math.ceil(rounds / len(POINTS))
    chosen: list[tuple[str, int]] = []
    for index in range(per_point):
        for point in POINTS:
            passes = claims if point.startswith("claim") else learners
            # 1, then evenly on to the last pass.
            share = index / (per_point - 1) if per_point > 1 else 0.0
            chosen.append((point, 1 + round(share * (passes - 1))))
    chosen.sort(key=lambda item: (POINTS.index(item[0]), item[1]))
    # Fewer rounds than points x passes: every k-th, so each point still comes up.
    return [chosen[index * len(chosen) // rounds] for index in range(rounds)]


@dataclass
class Round:
    point: str
    passes: int
    exit_code: int
    left_sending: int  # what the killed tick left in flight
    resent: int  # what the clean tick sent once more
    lost: int
    duplicates: int


@dataclass
class KillRun:
    learners: int
    rounds: list[Round] = field(default_factory=list)

    def result(self) -> dict[str, Any]:
        per_point: dict[str, dict[str, int]] = {}
        for one in self.rounds:
            entry = per_point.setdefault(one.point, {"rounds": 0, "lost": 0, "duplicates": 0})
            entry["rounds"] += 1
            entry["lost"] += one.lost
            entry["duplicates"] += one.duplicates
        return {
            "rounds": len(self.rounds),
            "lost": sum(one.lost for one in self.rounds),
            "duplicates": sum(one.duplicates for one in self.rounds),
            "learners": self.learners * len(self.rounds),
            "db": "postgresql",
            "machine": machine(),
            "duplicates_elsewhere": sum(
                one.duplicates for one in self.rounds if one.point != REPLY_TO_RECORD
            ),
            "not_killed": sum(one.exit_code != -signal.SIGKILL for one in self.rounds),
            "resent": sum(one.resent for one in self.rounds),
            "per_point": per_point,
        }


def _victim_env(crash_at: str) -> dict[str, str]:
    """Our environment without Bridges settings (the victim gets its own), plus the crash point."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("BRIDGES_")}
    env[CRASH_ENV] = crash_at
    return env


async def _killed_tick(sandbox: Sandbox, database: BenchDatabase, crash_at: str, log: Path) -> int:
    """Run the victim until it dies; its exit code (-9 for SIGKILL)."""
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.tools.bench.victim",
            "--database",
            database.url,
            "--base-url",
            sandbox.base_url,
            "--token",
            sandbox.token,
            "--now",
            START.isoformat(),
            "--batch",
            str(BATCH),
            env=_victim_env(crash_at),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        return await asyncio.wait_for(process.wait(), VICTIM_TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _clean_tick(sandbox: Sandbox, database: BenchDatabase, course: Course) -> int:
    """A restarted worker once the lease ran out: one tick; how many it sent once more."""
    later = START + DEFAULT_LEASE + timedelta(seconds=1)
    app = build_application(
        token=sandbox.token,
        base_url=sandbox.base_url,
        repo=database.repo,
        course=course,
        clock=lambda: later,
        tick_seconds=3600,
        send_per_second=1000,
    )
    async with app:
        services = app.bot_data.services
        report = await run_tick(services.clock, services.delivery)
    return report.resent


async def bench_kill(
    *, rounds: int = 20, learners: int = 12, postgres_url: str = DEFAULT_POSTGRES_URL
) -> KillRun:
    run = KillRun(learners)
    course = load_course()
    progress = Progress("kill", rounds)
    async with (
        bench_database("postgresql", postgres_url=postgres_url) as database,
        Sandbox(BENCH_TOKEN, flood="off", auto_users=True) as sandbox,
    ):
        with tempfile.TemporaryDirectory(prefix="bridges_kill_") as logs:
            for index, (point, passes) in enumerate(plan(rounds, learners)):
                ids = await database.seed(
                    learners, START - timedelta(minutes=1), first_id=index * learners
                )
                log = Path(logs) / f"victim-{index}.log"
                code = await _killed_tick(sandbox, database, f"{point}:{passes}", log)
                if code != -signal.SIGKILL:
                    say(f"round {index + 1} ({point}:{passes}) was not killed: exit {code}")
                left = await database.tally(ids)
                resent = await _clean_tick(sandbox, database, course)
                after = await database.tally(ids)
                counts = sandbox.message_counts()
                unseen = sum(1 for i in ids if counts.get(i, 0) == 0)
                lost = max(learners - after.learners_sent, unseen) + after.sending + after.failed
                duplicates = sum(max(0, counts.get(i, 0) - 1) for i in ids)
                run.rounds.append(
                    Round(point, passes, code, left.sending, resent, lost, duplicates)
                )
                progress.update(index + 1, f"{point}:{passes} lost {lost} dup {duplicates}")
    progress.finish()
    return run


def plot(run: KillRun, path: str) -> None:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(9, 4.5))
    labels = [f"{one.point}:{one.passes}" for one in run.rounds]
    places = range(len(run.rounds))
    width = 0.4
    axes.bar(
        [x - width / 2 for x in places],
        [one.lost for one in run.rounds],
        width,
        color="#c44",
        label="lost",
    )
    axes.bar(
        [x + width / 2 for x in places],
        [one.duplicates for one in run.rounds],
        width,
        color="#e9a23b",
        label="duplicates",
    )
    axes.plot(
        list(places),
        [one.left_sending for one in run.rounds],
        "o",
        color="#3b75af",
        label="left `sending` by the kill (sent again after the lease)",
    )
    axes.set_xticks(list(places))
    axes.set_xticklabels(labels, rotation=60, ha="right", fontsize=8)
    axes.set_ylabel(f"learners (of {run.learners} per round)")
    axes.set_ylim(bottom=0, top=max(2, *(one.left_sending for one in run.rounds)) + 1)
    axes.legend(fontsize=8)
    result = run.result()
    axes.set_title(
        f"SIGKILL at each crash point: {result['rounds']} rounds, {result['lost']} lost, "
        f"{result['duplicates']} duplicates"
    )
    save(figure, path)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    run = await bench_kill(
        rounds=args.rounds, learners=args.learners, postgres_url=args.postgres_url
    )
    if args.plot:
        plot(run, args.plot)
    return run.result()
