"""`bridges`: run the bot, the offline demo, migrations, and the lesson tools."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError

from bot.ops.logs import configure_logging
from bot.ops.settings import WEBHOOK_SECRET_SHAPE, SettingError, Settings, checked_token
from bot.tools.bench import add_bench_commands, run_bench
from lessons.check import check_course, preview
from lessons.loader import CourseError, load_course
from scheduler.clock import system_clock
from storage.db import create_engine, redact_url, upgrade_schema
from storage.health import start_failure
from storage.pairs import invite_key
from storage.repo import Repo

log = logging.getLogger("bridges")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; tests/test_deploy.py parses deploy/'s commands with it."""
    parser = argparse.ArgumentParser(prog="bridges", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run the bot: updates (long polling, or --webhook) and the tick"
    )
    run.add_argument(
        "--webhook",
        action="store_true",
        help="take updates on BRIDGES_WEBHOOK_URL instead of polling (any number of processes)",
    )
    run.add_argument("--metrics-port", type=_port, help="serve /healthz and /metrics on this port")
    worker = commands.add_parser("worker", help="run the tick only (more sending capacity)")
    worker.add_argument(
        "--metrics-port", type=_port, help="serve /healthz and /metrics on this port"
    )
    commands.add_parser("doctor", help="check the token, database, lessons, webhook and clock")
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
    stats = commands.add_parser(
        "stats", help="for course authors: funnel, answers, where learners pause or fall silent"
    )
    stats.add_argument(
        "--html", type=Path, metavar="FILE", help="also write one page with charts (matplotlib)"
    )
    bench = commands.add_parser("bench", help="benchmarks (docs/performance.md)")
    add_bench_commands(bench)
    return parser


def _port(value: str) -> int:
    port = int(value)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (1-65535)")
    return port


def main(argv: Sequence[str] | None = None) -> int:
    # python-telegram-bot 22 opts in to timedelta durations with this (and warns without it).
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    parser = build_parser()
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
    if args.command == "stats":
        from bot.tools.stats import run_stats

        return run_stats(settings.database_url, system_clock(), html=args.html)
    if args.command == "demo":
        from bot.tools.demo import run_demo

        return asyncio.run(run_demo(database=args.database))
    if args.command == "db":
        configure_logging(
            settings.log_level, _secrets(settings), fmt=settings.log_format, migrations=True
        )
        return _guarded("db upgrade", lambda: asyncio.run(_upgrade(settings.database_url)))
    if args.command == "doctor":
        from bot.ops.doctor import run_doctor

        configure_logging(settings.log_level, _secrets(settings), fmt=settings.log_format)
        return _guarded(
            "doctor", lambda: asyncio.run(run_doctor(settings, color=sys.stdout.isatty()))
        )
    try:
        token = checked_token(settings)
        role = _role(args, settings)
    except SettingError as error:
        print(f"bridges: {error}", file=sys.stderr)  # noqa: T201
        return 2
    configure_logging(settings.log_level, _secrets(settings), fmt=settings.log_format)
    try:
        metrics_port = args.metrics_port or settings.metrics_port
        return _guarded(
            args.command, lambda: asyncio.run(_run(settings, token, role, metrics_port))
        )
    except CourseError as error:
        print(f"bridges: {error}", file=sys.stderr)  # noqa: T201
        return 2


def _secrets(settings: Settings) -> list[str]:
    """What the log filter must never let through: token, webhook secret, database password."""
    secrets: list[str] = []
    if settings.telegram_token is not None:
        secrets.append(settings.telegram_token.get_secret_value().strip())
    if settings.webhook_secret is not None:
        secrets.append(settings.webhook_secret.get_secret_value())
    with contextlib.suppress(ValueError):
        password = urlsplit(settings.database_url).password
        if password:
            secrets.append(password)
    return [secret for secret in secrets if secret]


def _guarded(name: str, work: Callable[[], int]) -> int:
    """Run a command; a failure nobody handled becomes one logged line and exit 1.

    A traceback of a hundred lines hides its one useful line and bypasses JSON logs;
    it is logged (redacted, as configured) only at DEBUG.
    """
    try:
        return work()
    except CourseError:
        raise
    except Exception as error:
        reason = start_failure(error)
        if reason is None:
            detail = str(error).strip().splitlines()
            reason = f"{type(error).__name__}: {detail[0]}" if detail else type(error).__name__
        debug = log.isEnabledFor(logging.DEBUG)
        log.error("bridges %s failed: %s", name, reason, exc_info=error if debug else None)
        return 1


async def _upgrade(url: str) -> int:
    engine = create_engine(url)
    try:
        await upgrade_schema(engine)
        log.info("database %s is up to date", redact_url(url))
    finally:
        await engine.dispose()
    return 0


def _role(args: argparse.Namespace, settings: Settings) -> str:
    """`poll`, `webhook` or `worker`; a webhook needs its URL and secret, said plainly.

    A worker only makes sense beside another process on one shared database; on SQLite
    (bridges-worker.service has its own state directory) it would tick quietly on an
    empty file of its own, so it refuses.
    """
    if args.command == "worker":
        if settings.database_url.partition(":")[0].startswith("sqlite"):
            raise SettingError(
                "`bridges worker` needs PostgreSQL (BRIDGES_DATABASE_URL is SQLite): it adds "
                "sending capacity beside `bridges run` on one shared database; on SQLite, "
                "`bridges run` alone ticks."
            )
        return "worker"
    if not args.webhook:
        return "poll"
    if not settings.webhook_url.strip():
        raise SettingError(
            "BRIDGES_WEBHOOK_URL is not set: `run --webhook` needs the public HTTPS URL "
            "Telegram posts updates to."
        )
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if not WEBHOOK_SECRET_SHAPE.match(secret):
        raise SettingError(
            "BRIDGES_WEBHOOK_SECRET must be 1-256 letters, digits, _ or - "
            "(Telegram sends it back with every update)."
        )
    return "webhook"


async def _run(settings: Settings, token: str, role: str, metrics_port: int | None) -> int:
    """`bridges run` / `bridges worker`: migrate, then serve in `role` until SIGINT or SIGTERM."""
    from telegram.error import InvalidToken, NetworkError

    from bot.chat.app import build_application
    from bot.ops import web
    from bot.ops.metrics import METRICS
    from bot.ops.runner import running, running_webhook, running_worker
    from storage.budget import SharedSlots
    from storage.health import HealthProbe

    course = load_course()
    engine = create_engine(settings.database_url)
    try:
        await upgrade_schema(engine)
    except BaseException:
        await engine.dispose()
        raise
    app = build_application(
        token=token,
        base_url=settings.telegram_base_url,
        # Invite codes are hashed under a secret only the bot holds, derived from its token.
        repo=Repo(engine, invite_key=invite_key(token)),
        course=course,
        clock=system_clock,
        tick_seconds=settings.tick_seconds,
        send_per_second=settings.send_per_second,
        # Telegram's limits are per bot: on PostgreSQL every process draws from one budget.
        slots=SharedSlots(engine) if engine.dialect.name == "postgresql" else None,
        send_early=timedelta(minutes=settings.send_early_minutes),
        auto_pause_after=settings.auto_pause_after,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    health = web.Health(HealthProbe(engine), METRICS, tick_seconds=settings.tick_seconds)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    webhook = None
    if role == "webhook":
        webhook = web.Webhook(web.webhook_path(settings.webhook_url), secret, app)
    web_app = web.build_web_app(health, METRICS, system_clock, webhook)
    try:
        async with contextlib.AsyncExitStack() as stack:
            if role == "webhook":
                await stack.enter_async_context(
                    running_webhook(
                        app,
                        web_app,
                        url=settings.webhook_url,
                        secret=secret,
                        host=settings.listen_host,
                        port=settings.listen_port,
                    )
                )
            elif role == "worker":
                await stack.enter_async_context(running_worker(app))
            else:
                await stack.enter_async_context(running(app))
            # A webhook process already serves both paths on its listen port.
            if metrics_port is not None and not (
                role == "webhook" and metrics_port == settings.listen_port
            ):
                ops = web.build_web_app(health, METRICS, system_clock)
                await stack.enter_async_context(
                    web.serving(ops, settings.listen_host, metrics_port)
                )
            log.info(
                "Bridges is running (%s): %d lessons, database %s, tick every %ss",
                role,
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
