"""`bridges`: run the bot, the offline demo, migrations, and the lesson tools."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot.bench import add_bench_commands, run_bench
from bot.logs import configure_logging
from bot.settings import Settings, TokenError, checked_token
from lessons.check import check_course, preview
from lessons.loader import CourseError, load_course
from scheduler.clock import system_clock
from storage.db import create_engine, redact_url, upgrade_schema
from storage.repo import Repo

log = logging.getLogger("bridges")


def main(argv: Sequence[str] | None = None) -> int:
    # python-telegram-bot 22 opts in to timedelta durations with this (and warns without it).
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    parser = argparse.ArgumentParser(prog="bridges", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot (long polling); needs BRIDGES_TELEGRAM_TOKEN")
    demo = commands.add_parser("demo", help="chat with Bridges offline, in this terminal")
    demo.add_argument("--database", help="SQLite file to use (default: a fresh temporary one)")
    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="migrate the schema to the newest version")
    lessons = commands.add_parser("lessons", help="tools for lesson authors")
    lesson_commands = lessons.add_subparsers(dest="lessons_command", required=True)
    lesson_commands.add_parser("check", help="validate every lesson file")
    show = lesson_commands.add_parser("preview", help="print a lesson as a learner sees it")
    show.add_argument("--day", type=int, required=True)
    show.add_argument("--lang", choices=("en", "nl"), default="en")
    bench = commands.add_parser("bench", help="benchmarks (docs/performance.md)")
    add_bench_commands(bench)
    args = parser.parse_args(argv)
    if args.command == "bench":
        return run_bench(args)

    try:
        settings = Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = "BRIDGES_" + str(first["loc"][0]).upper() if first["loc"] else "a setting"
        print(f"bridges: {name}: {first['msg']}", file=sys.stderr)  # noqa: T201
        return 2

    if args.command == "lessons":
        if args.lessons_command == "check":
            return check_course()
        return preview(args.day, args.lang)
    if args.command == "db":
        configure_logging(settings.log_level)
        asyncio.run(_upgrade(settings.database_url))
        return 0
    if args.command == "demo":
        from bot.demo import run_demo

        return asyncio.run(run_demo(database=args.database))
    try:
        token = checked_token(settings)
    except TokenError as error:
        print(f"bridges: {error}", file=sys.stderr)  # noqa: T201
        return 2
    configure_logging(settings.log_level, secrets=[token])
    try:
        return asyncio.run(_run(settings, token))
    except CourseError as error:
        print(f"bridges: {error}", file=sys.stderr)  # noqa: T201
        return 2


async def _upgrade(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade_schema(engine)
        log.info("database %s is up to date", redact_url(url))
    finally:
        await engine.dispose()


async def _run(settings: Settings, token: str) -> int:
    """`bridges run`: migrate, then poll Telegram until SIGINT or SIGTERM."""
    from telegram.error import InvalidToken, NetworkError

    from bot.app import build_application
    from bot.runner import running

    course = load_course()
    engine = create_engine(settings.database_url)
    await upgrade_schema(engine)
    app = build_application(
        token=token,
        base_url=settings.telegram_base_url,
        repo=Repo(engine),
        course=course,
        clock=system_clock,
        tick_seconds=settings.tick_seconds,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        async with running(app):
            log.info(
                "Bridges is running: %d lessons, database %s, tick every %ss",
                course.length,
                redact_url(settings.database_url),
                settings.tick_seconds,
            )
            await stop.wait()
    except InvalidToken:
        print("bridges: Telegram refused the token (BRIDGES_TELEGRAM_TOKEN).", file=sys.stderr)  # noqa: T201
        return 2
    except NetworkError as error:
        print(f"bridges: cannot reach the Bot API: {type(error).__name__}", file=sys.stderr)  # noqa: T201
        return 1
    finally:
        await engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
