"""`bridges bench ...`: benchmarks an operator and a reviewer rerun with one command each.

Each bench draws a progress bar on standard error and prints one JSON object
as the last line of standard output; `--plot FILE.png` draws its figure.
One module per bench; `common` holds what they share. Results and how to
read them: docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from importlib import import_module
from typing import Any

from bot.tools.bench import options
from bot.tools.bench.common import PlotUnavailable, check_plot, emit, say
from storage.seed import DEFAULT_POSTGRES_URL

_HELP = {  # the benches, in the order `bridges bench --help` lists them
    "claim": "claims/s and per-batch latency of Repo.claim_due on a seeded database",
    "fanout": "lessons/s when everyone is due at once, through the real client and a sandbox",
    "memory": "RSS and start-up of an idle `bridges run` vs one APScheduler job per learner",
    "checkin": "check-in answer latency, idle and during a fan-out at Telegram's limit",
    "limit": "achieved send rate against a sandbox enforcing Telegram's 30/s; 429s",
    "lateness": "how late a busy minute's learners get their lesson at 30/s: FIFO vs send window",
    "kill": "SIGKILL a tick at each crash point, recover, count lost and duplicated lessons",
}


_OPTIONS = {
    "claim": options.claim,
    "fanout": options.fanout,
    "memory": options.memory,
    "checkin": options.checkin,
    "limit": options.limit,
    "lateness": options.lateness,
    "kill": options.kill,
}


def add_bench_commands(bench: argparse.ArgumentParser) -> None:
    """The `bench` sub-commands, each with --plot and --postgres-url."""
    commands = bench.add_subparsers(dest="bench_command", required=True)
    for name, add_options in _OPTIONS.items():
        parser = commands.add_parser(name, help=_HELP[name], description=_HELP[name])
        add_options(parser)
        parser.add_argument("--plot", metavar="FILE.png", help="draw the figure (matplotlib)")
        parser.add_argument(
            "--postgres-url",
            default=DEFAULT_POSTGRES_URL,
            help="server on which PostgreSQL benches create (and drop) their own database",
        )


async def _stoppable(work: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """SIGTERM cancels the bench like Ctrl-C does, so its finally blocks drop what it made."""
    task = asyncio.current_task()
    assert task is not None
    with contextlib.suppress(NotImplementedError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await work


def run_bench(args: argparse.Namespace) -> int:
    """Run the chosen bench; print its JSON line. 2 when --plot cannot work, 130 on Ctrl-C."""
    module = import_module(f"bot.tools.bench.{args.bench_command}")  # only the bench that runs
    try:
        check_plot(args.plot)
    except PlotUnavailable as error:
        say(str(error))
        return 2
    entry: Callable[[argparse.Namespace], Awaitable[dict[str, Any]]] = module.main
    try:
        result = asyncio.run(_stoppable(entry(args)))
    except (KeyboardInterrupt, asyncio.CancelledError):
        say("bridges bench: interrupted; what it made was dropped")
        return 130
    emit(result)
    return 0
