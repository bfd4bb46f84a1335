"""How many sendMessage calls a second the sandbox takes from the real PTB client.

Benchmarks push thousands of sends a second through python-telegram-bot; this measures the
sandbox's own ceiling so a benchmark knows when the sandbox, not Bridges, is the limit:

    python -m bot.tools.sandbox.bench --sends 5000 --concurrency 64

By default it starts ``python -m bot.tools.sandbox --quiet --flood off --auto-users`` in a child
process (so the client and the server do not share one core), or measures a running one
given ``--base-url`` and ``--token``. It reports the rate and the sandbox's own CPU time per
send (read from ``GET /sandbox/stats``), which shows whether the client or the sandbox is the
bottleneck. It asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from telegram import Bot
from telegram.error import TelegramError
from telegram.request import HTTPXRequest

from bot.tools.sandbox.server import SANDBOX_TOKEN

_BASE_URL = re.compile(r"base_url=(\S+)")


@dataclass(frozen=True)
class SendRate:
    """One measurement: sends that succeeded, sends that raised, and the wall time."""

    sent: int
    failed: int
    seconds: float
    concurrency: int

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


async def measure_send_rate(
    base_url: str,
    token: str = SANDBOX_TOKEN,
    *,
    sends: int = 5000,
    concurrency: int = 64,
    first_chat: int = 1,
    chats: int = 1000,
) -> SendRate:
    """Send ``sends`` messages to ``chats`` chats from ``concurrency`` concurrent PTB workers.

    The sandbox must have the limiter off and auto users on (or those chats must exist).
    One ``Bot`` with a connection pool as large as the concurrency, as a production bot
    with AIORateLimiter would use.
    """
    request = HTTPXRequest(connection_pool_size=concurrency, pool_timeout=30, read_timeout=30)
    counter = iter(range(sends))
    sent = failed = 0

    async def worker(bot: Bot) -> None:
        nonlocal sent, failed
        for index in counter:
            try:
                await bot.send_message(first_chat + index % chats, f"message {index}")
            except TelegramError:
                failed += 1
            else:
                sent += 1

    async with Bot(token, base_url=base_url, request=request) as bot:
        started = time.perf_counter()
        await asyncio.gather(*(worker(bot) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return SendRate(sent=sent, failed=failed, seconds=seconds, concurrency=concurrency)


@contextlib.asynccontextmanager
async def sandbox_process(*extra: str) -> AsyncIterator[str]:
    """Run ``python -m bot.tools.sandbox`` on a free port for benchmarks; yields its base URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.tools.sandbox",
        "--port",
        "0",
        "--quiet",
        *extra,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        found = _BASE_URL.search(line.decode())
        if found is None:
            raise RuntimeError(f"the sandbox did not print its base URL: {line!r}")
        yield found.group(1)
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


async def server_cpu_seconds(base_url: str) -> float:
    """The sandbox process's CPU time so far, from ``GET /sandbox/stats``."""
    stats_url = base_url.removesuffix("/bot") + "/sandbox/stats?per_chat=0"
    async with httpx.AsyncClient() as http:
        response = await http.get(stats_url)
    return float(json.loads(response.text)["result"]["process_cpu_seconds"])


async def _measure(url: str, args: argparse.Namespace) -> tuple[SendRate, float]:
    before = await server_cpu_seconds(url)
    rate = await measure_send_rate(url, args.token, sends=args.sends, concurrency=args.concurrency)
    return rate, await server_cpu_seconds(url) - before


async def _run(args: argparse.Namespace) -> tuple[SendRate, float]:
    if args.base_url:
        return await _measure(args.base_url, args)
    async with sandbox_process("--flood", "off", "--auto-users", "--record-limit", "1000") as url:
        await measure_send_rate(url, args.token, sends=min(500, args.sends), concurrency=8)
        return await _measure(url, args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.tools.sandbox.bench", description=__doc__)
    parser.add_argument("--sends", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--base-url", default="", help="a running sandbox (else one is started)")
    parser.add_argument("--token", default=SANDBOX_TOKEN)
    args = parser.parse_args(argv)
    rate, server_cpu = asyncio.run(_run(args))
    per_send = server_cpu / max(1, rate.sent + rate.failed)
    print(  # noqa: T201
        f"sendMessage: {rate.sent} sent, {rate.failed} failed in {rate.seconds:.2f}s = "
        f"{rate.per_second:.0f}/s with {rate.concurrency} concurrent PTB sends; "
        f"sandbox CPU {per_send * 1000:.3f} ms/send (its ceiling ~{1 / per_send:.0f}/s a core)"
    )


if __name__ == "__main__":
    main()
