"""Helpers for the fault tests: a sandbox and bots in child processes, learners seeded in bulk.

The scale-out and kill tests run Bridges the way production does, as separate
processes on one PostgreSQL: the sandbox (`python -m bot.tools.sandbox`) in one,
`bridges worker` or the tick driver (bot/tools/bench/victim.py) in others. The
test process only seeds the database with plain SQL, steers the sandbox over
its control endpoint, and reads back what happened: the rows in the database
and the sandbox's own counters.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.tools.sandbox.bench import sandbox_process

# The sandbox's fixed token is too short for `bridges`' token check; the fault tests use this.
TOKEN = "123456:" + "F" * 35  # noqa: S105 - a fake token, valid only against the sandbox


async def seed_learners(
    engine: AsyncEngine,
    first: int,
    count: int,
    *,
    due_at: datetime,
    zone: str = "UTC",
    daily_time: str = "08:00",
) -> list[int]:
    """`count` onboarded, active learners with ids from `first`, all due at `due_at`.

    One INSERT ... SELECT over generate_series: 10,000 learners in a fraction
    of a second, without going through the bot.
    """
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO learner (id, first_name, language, timezone, daily_time, "
                "onboarding_step, status, next_lesson, next_due_at, created_at) "
                "SELECT g, 'Learner ' || g, 'en', :zone, :daily, 'done', 'active', 1, :due, :due "
                "FROM generate_series(CAST(:first AS BIGINT), CAST(:last AS BIGINT)) AS g"
            ),
            {
                "zone": zone,
                "daily": daily_time,
                "due": due_at,
                "first": first,
                "last": first + count - 1,
            },
        )
    return list(range(first, first + count))


@dataclass(frozen=True)
class Tally:
    """The deliveries of a set of learners, counted by state, and how many learners have each."""

    sent: int
    sending: int
    failed: int
    learners_sent: int  # distinct learners with at least one sent delivery
    max_sent_per_lesson: int  # > 1 would be two deliveries of one lesson to one learner
    resends: int  # sum of the rows' resend counters


async def tally(engine: AsyncEngine, first: int, count: int) -> Tally:
    """Count the deliveries of learners `first` .. `first + count - 1`."""
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT "
                    "count(*) FILTER (WHERE state = 'sent'), "
                    "count(*) FILTER (WHERE state = 'sending'), "
                    "count(*) FILTER (WHERE state = 'failed'), "
                    "count(DISTINCT learner_id) FILTER (WHERE state = 'sent'), "
                    "coalesce(sum(resends), 0) "
                    "FROM delivery WHERE learner_id BETWEEN :first AND :last"
                ),
                {"first": first, "last": first + count - 1},
            )
        ).one()
        most = (
            await connection.execute(
                text(
                    "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM delivery "
                    "WHERE learner_id BETWEEN :first AND :last AND state = 'sent' "
                    "GROUP BY learner_id, lesson_id) AS per_lesson"
                ),
                {"first": first, "last": first + count - 1},
            )
        ).scalar_one()
    return Tally(
        sent=int(row[0]),
        sending=int(row[1]),
        failed=int(row[2]),
        learners_sent=int(row[3]),
        max_sent_per_lesson=int(most),
        resends=int(row[4]),
    )


class SandboxClient:
    """The sandbox in another process, steered over /sandbox/control and read at /sandbox/stats."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._root = base_url.removesuffix("/bot")
        self._http = httpx.AsyncClient(timeout=30)

    async def close(self) -> None:
        await self._http.aclose()

    async def control(self, action: str, **args: Any) -> Any:
        response = await self._http.post(
            f"{self._root}/sandbox/control", json={"action": action, **args}
        )
        payload = response.json()
        assert payload["ok"], payload
        return payload["result"]

    async def stats(self) -> dict[str, Any]:
        response = await self._http.get(f"{self._root}/sandbox/stats")
        result: dict[str, Any] = response.json()["result"]
        return result


@asynccontextmanager
async def sandbox_child(*flags: str) -> AsyncIterator[SandboxClient]:
    """`python -m bot.tools.sandbox --token TOKEN <flags>` in a child process, with its client."""
    async with sandbox_process("--token", TOKEN, "--record-limit", "1000", *flags) as base_url:
        client = SandboxClient(base_url)
        try:
            yield client
        finally:
            await client.close()


def child_env(**values: str) -> dict[str, str]:
    """The environment of a child process: ours, plus `values`, minus any crash point."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("BRIDGES_")}
    env["PTB_TIMEDELTA"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH", "")])
    )
    env.update(values)
    return env


async def start_worker(log_file: Path, **env: str) -> asyncio.subprocess.Process:
    """`bridges worker` as a child process, logging to `log_file` (a pipe could fill and block)."""
    with log_file.open("wb") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.ops.cli",
            "worker",
            env=child_env(BRIDGES_TELEGRAM_TOKEN=TOKEN, **env),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log,
        )


async def stop_process(process: asyncio.subprocess.Process, timeout: float = 30) -> int:  # noqa: ASYNC109
    """SIGTERM a child we started and wait for it; its exit code."""
    if process.returncode is None:
        process.terminate()
    return await asyncio.wait_for(process.wait(), timeout)


async def wait_until(
    condition: Callable[[], Any],
    *,
    timeout: float,  # noqa: ASYNC109 - a deadline for polling
    what: str,
    every: float = 0.2,
    alive: Iterable[asyncio.subprocess.Process] = (),
) -> None:
    """Poll the async `condition` until it holds; fail naming `what` after `timeout` seconds.

    A child in `alive` that exits meanwhile fails the wait at once, not at the deadline.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    watched = list(alive)
    while not await condition():
        for process in watched:
            assert process.returncode is None, f"a child exited ({process.returncode}): {what}"
        if loop.time() > deadline:
            raise TimeoutError(f"not reached within {timeout}s: {what}")
        await asyncio.sleep(every)
