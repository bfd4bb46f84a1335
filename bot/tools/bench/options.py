"""The bench sub-commands' options, apart from the benches themselves.

`bridges` builds its whole parser on every run; keeping these here means
`bridges run` never imports the benches (nor what they import) just to know
their flags.
"""

from __future__ import annotations

import argparse


def learner_counts(text: str) -> list[int]:
    try:
        counts = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"learner counts like 0,100000,1000000: {text!r}"
        ) from error
    if not counts or min(counts) < 0:
        raise argparse.ArgumentTypeError("learner counts must be 0 or more")
    return counts


def claim(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--learners", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--batch", type=int, default=100, help="learners per claim_due call")
    parser.add_argument(
        "--claims", type=int, default=20_000, help="how many to claim (0: every learner)"
    )


def fanout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="sqlite")
    parser.add_argument("--batch", type=int, default=100, help="run_tick's claim batch")
    parser.add_argument("--concurrency", type=int, default=16, help="run_tick's parallel sends")
    parser.add_argument(
        "--telegram-pace",
        action="store_true",
        help="keep the bot's overall 30 messages/s pace (Telegram's limit)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the tick; top functions on stderr"
    )


def memory(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--learners",
        type=learner_counts,
        default=[0, 100_000, 1_000_000],
        help="e.g. 0,100000,1000000",
    )
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="sqlite")


def checkin(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--answers", type=int, default=100, help="answers timed per phase")
    parser.add_argument(
        "--fanout-learners", type=int, default=3000, help="learners in the background fan-out"
    )
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="sqlite")


def positive(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"a whole number like 1000: {text!r}") from error
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def lateness(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--learners", type=positive, default=100_000)
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="sqlite")
    parser.add_argument(
        "--early-minutes",
        type=float,
        default=60.0,
        help="the send window's limit (BRIDGES_SEND_EARLY_MINUTES) for the second run",
    )
    parser.add_argument("--per-second", type=float, default=30.0, help="the send budget")
    parser.add_argument("--batch", type=positive, default=100, help="run_tick's claim batch")


def limit(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--processes", type=int, choices=(1, 2), default=1, help="`bridges worker` processes"
    )
    parser.add_argument(
        "--seconds", type=positive, default=25, help="about how long the due learners take at 30/s"
    )


def kill(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=positive, default=20)
    parser.add_argument("--learners", type=positive, default=12, help="due learners per round")
