"""`bridges bench memory`: what an idle Bridges costs at 0, 100k and a million learners.

For each learner count: a seeded database (nobody due), a sandbox Bot API in
its own process, and a real `bridges run` subprocess against both. Start-up
is the time until it logs that it is running (commands registered, polling
and the tick job started); RSS is read after its first ticks. Beside it, the
common design: a small script with one APScheduler job per learner
(`bot.tools.bench.jobs_baseline`), whose RSS grows with every learner.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import timedelta
from typing import Any

from bot.tools.bench.common import Progress, machine, pyplot, rss_mb, save
from bot.tools.bench.fanout import BENCH_TOKEN
from scheduler.clock import system_clock
from storage.seed import DEFAULT_POSTGRES_URL, bench_database

RUNNING_LINE = "Bridges is running"
# The tick runs every second here; RSS is read after a few have run.
TICK_SECONDS = 1
SETTLE_SECONDS = 3.0
START_TIMEOUT = 600.0


async def _line_with(stream: asyncio.StreamReader, needle: str, timeout: float) -> str:  # noqa: ASYNC109
    async def scan() -> str:
        while True:
            raw = await stream.readline()
            if not raw:
                raise RuntimeError(f"the process ended before printing {needle!r}")
            line = raw.decode(errors="replace")
            if needle in line:
                return line

    return await asyncio.wait_for(scan(), timeout)


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _drain(stream: asyncio.StreamReader | None) -> None:
    """Keep reading a child's pipe so a chatty child never blocks on a full one."""
    if stream is not None:
        while await stream.readline():
            pass


async def start_sandbox() -> tuple[asyncio.subprocess.Process, str]:
    """`python -m bot.tools.sandbox` on a free port; its base URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.tools.sandbox",
        "--port",
        "0",
        "--token",
        BENCH_TOKEN,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    line = await _line_with(process.stdout, "base_url=", 60)
    return process, line.strip().split("base_url=", 1)[1]


async def measure_bridges(
    database_url: str, base_url: str, *, settle: float = SETTLE_SECONDS
) -> tuple[float, float]:
    """Start-up seconds and settled RSS (MB) of an idle `bridges run`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGES_")}
    env.update(
        BRIDGES_TELEGRAM_TOKEN=BENCH_TOKEN,
        BRIDGES_TELEGRAM_BASE_URL=base_url,
        BRIDGES_DATABASE_URL=database_url,
        BRIDGES_TICK_SECONDS=str(TICK_SECONDS),
        BRIDGES_LOG_LEVEL="INFO",
    )
    began = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.ops.cli",
        "run",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        await _line_with(process.stderr, RUNNING_LINE, START_TIMEOUT)
        startup = time.perf_counter() - began
        drain = asyncio.create_task(_drain(process.stderr))
        await asyncio.sleep(settle)  # a bench, not a test: let a few ticks run
        rss = rss_mb(process.pid)
        drain.cancel()
        return startup, rss
    finally:
        await _stop(process)


async def measure_jobs(count: int) -> tuple[float, float]:
    """Scheduling seconds and RSS (MB) of one APScheduler job per learner."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.tools.bench.jobs_baseline",
        str(count),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = await _line_with(process.stdout, "ready", START_TIMEOUT)
        return float(line.split()[1]), rss_mb(process.pid)
    finally:
        await _stop(process)


async def bench_memory(
    counts: list[int],
    *,
    db: str = "sqlite",
    postgres_url: str = DEFAULT_POSTGRES_URL,
    settle: float = SETTLE_SECONDS,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "rss_mb": {},
        "jobs_rss_mb": {},
        "startup_s": {},
        "jobs_startup_s": {},
        "machine": machine(),
        "db": db,
    }
    progress = Progress("memory", len(counts) * 2)
    done = 0
    sandbox, base_url = await start_sandbox()
    try:
        for count in counts:
            key = str(count)
            async with bench_database(db, postgres_url=postgres_url) as database:
                # Due tomorrow: the process is idle, as between two busy minutes.
                await database.seed(count, system_clock() + timedelta(days=1))
                startup, rss = await measure_bridges(database.url, base_url, settle=settle)
            result["startup_s"][key] = round(startup, 2)
            result["rss_mb"][key] = round(rss, 1)
            done += 1
            progress.update(done, f"bridges at {count:,}: {rss:.0f} MB, {startup:.2f}s")
            scheduling, jobs_rss = await measure_jobs(count)
            result["jobs_startup_s"][key] = round(scheduling, 2)
            result["jobs_rss_mb"][key] = round(jobs_rss, 1)
            done += 1
            progress.update(done, f"jobs at {count:,}: {jobs_rss:.0f} MB")
    finally:
        await _stop(sandbox)
    progress.finish()
    return result


def plot(result: dict[str, Any], path: str) -> None:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(8, 4.5))
    counts = [int(key) for key in result["rss_mb"]]
    axes.plot(counts, list(result["rss_mb"].values()), "o-", label="Bridges (database schedule)")
    axes.plot(
        counts, list(result["jobs_rss_mb"].values()), "s--", label="one APScheduler job/learner"
    )
    axes.axhline(200, color="#c44", linestyle=":", label="target 200 MB")
    axes.set_xlabel("learners")
    axes.set_ylabel("RSS, MB (idle)")
    axes.ticklabel_format(axis="x", style="plain")
    axes.legend()
    axes.set_title("memory of an idle process vs learners")
    save(figure, path)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    result = await bench_memory(args.learners, db=args.db, postgres_url=args.postgres_url)
    if args.plot:
        plot(result, args.plot)
    return result
