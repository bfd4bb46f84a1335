"""`bridges doctor`: one line per thing a deployment needs, and exit 1 if any is wrong.

It asks the Bot API at the configured base URL (so a self-hosted server or
the sandbox is checked the same way), the database (without changing it),
the lessons, Telegram's webhook record and the clock. Every answer is one
line an operator can act on; the token never appears in any of them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, TextIO

import aiohttp

from bot.ops.settings import Settings, TokenError, checked_token
from lessons.check import find_problems
from scheduler.clock import Clock, system_clock
from storage.db import create_engine, redact_url
from storage.health import DatabaseUnavailable, HealthProbe, sqlite_file_missing

# Telegram's Date header and our clock may differ by network time, not by this much.
MAX_CLOCK_SKEW_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10
GREEN, RED, RESET = "\033[32m", "\033[31m", "\033[0m"


@dataclass(frozen=True)
class Verdict:
    name: str
    ok: bool
    detail: str


@dataclass
class BotApiAnswer:
    """What one Bot API call told us: its result, or why there is none, and its Date header."""

    result: Any = None
    error: str = ""
    date: datetime | None = None


async def _call(
    session: aiohttp.ClientSession, base_url: str, token: str, method: str
) -> BotApiAnswer:
    url = f"{base_url}{token}/{method}"
    answer = BotApiAnswer()
    try:
        async with session.get(url) as response:
            header = response.headers.get("Date")
            if header:
                try:
                    answer.date = parsedate_to_datetime(header)
                except (TypeError, ValueError):
                    answer.date = None
            if response.status in (401, 404):
                answer.error = f"Telegram refused the token (HTTP {response.status})"
                return answer
            payload = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        # aiohttp's messages can carry the URL, and the URL carries the token: name the type.
        answer.error = f"cannot reach the Bot API at {base_url} ({type(error).__name__})"
        return answer
    if not isinstance(payload, dict) or not payload.get("ok"):
        description = payload.get("description") if isinstance(payload, dict) else None
        answer.error = f"the Bot API said no: {description or 'no description'}"
        return answer
    answer.result = payload.get("result")
    return answer


async def check_all(settings: Settings, clock: Clock = system_clock) -> list[Verdict]:
    """Every check, in the order an operator would fix them."""
    verdicts: list[Verdict] = []
    me = hook = BotApiAnswer(error="skipped: no token to ask with")
    try:
        token = checked_token(settings)
    except TokenError as error:
        verdicts.append(Verdict("token", False, str(error)))
        token = None
    if token is not None:
        timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            me = await _call(session, settings.telegram_base_url, token, "getMe")
            if not me.error:
                hook = await _call(session, settings.telegram_base_url, token, "getWebhookInfo")
            else:
                hook = BotApiAnswer(error="skipped: the token check failed")
        if me.error:
            verdicts.append(Verdict("token", False, me.error))
        else:
            username = me.result.get("username", "?") if isinstance(me.result, dict) else "?"
            verdicts.append(Verdict("token", True, f"@{username} via {settings.telegram_base_url}"))
    verdicts.extend(await _database(settings.database_url))
    verdicts.append(_lessons())
    verdicts.append(_webhook(hook, settings.webhook_url.strip()))
    verdicts.append(_clock(me.date, clock()))
    return verdicts


async def _database(url: str) -> list[Verdict]:
    shown = redact_url(url)
    if sqlite_file_missing(url):
        return [
            Verdict("database", False, f"{shown}: the file does not exist"),
            Verdict("migrations", False, "no schema: run `bridges db upgrade`"),
        ]
    engine = create_engine(url)
    try:
        schema = await HealthProbe(engine).schema()
    except DatabaseUnavailable as error:
        return [
            Verdict("database", False, f"{shown}: {error}"),
            Verdict("migrations", False, "unknown: the database did not answer"),
        ]
    finally:
        await engine.dispose()
    database = Verdict("database", True, f"{shown} answers")
    if schema.at_head:
        return [database, Verdict("migrations", True, f"at head ({schema.head})")]
    if schema.newer_than_code:
        # `bridges db upgrade` would fail here: only a newer Bridges knows this revision.
        return [
            database,
            Verdict(
                "migrations",
                False,
                f"database at {schema.current}, this code knows up to {schema.head}: "
                "this Bridges is older than the database: upgrade Bridges",
            ),
        ]
    current = schema.current or "no schema"
    return [
        database,
        Verdict(
            "migrations", False, f"{current}, code needs {schema.head}: run `bridges db upgrade`"
        ),
    ]


def _lessons() -> Verdict:
    course, problems = find_problems()
    if problems or course is None:
        return Verdict("lessons", False, f"{len(problems)} problem(s): run `bridges lessons check`")
    return Verdict("lessons", True, f"{course.length} lessons in {', '.join(course.lessons)}")


def _webhook(hook: BotApiAnswer, expected: str) -> Verdict:
    if hook.error:
        return Verdict("webhook", False, hook.error)
    info = hook.result if isinstance(hook.result, dict) else {}
    actual = str(info.get("url") or "")
    last_error = info.get("last_error_message")
    note = f" (Telegram's last error: {last_error})" if last_error else ""
    if expected:
        if actual == expected:
            return Verdict("webhook", True, f"Telegram posts to {actual}{note}")
        return Verdict(
            "webhook",
            False,
            f"Telegram posts to {actual or 'nothing'}, BRIDGES_WEBHOOK_URL is {expected}: "
            "start `bridges run --webhook` to set it",
        )
    if actual:
        return Verdict(
            "webhook",
            False,
            f"Telegram posts to {actual} but BRIDGES_WEBHOOK_URL is empty "
            "(polling `bridges run` would remove it)",
        )
    return Verdict("webhook", True, "none set (long polling)")


def _clock(server_date: datetime | None, now: datetime) -> Verdict:
    if now.tzinfo is None or now.utcoffset() is None:
        return Verdict("clock", False, "the system clock is not timezone-aware")
    if server_date is not None:
        skew = (now - server_date).total_seconds()
        if abs(skew) <= MAX_CLOCK_SKEW_SECONDS:
            return Verdict("clock", True, f"{skew:+.0f}s from the Bot API's clock")
        return Verdict(
            "clock",
            False,
            f"{skew:+.0f}s from the Bot API's clock (more than {MAX_CLOCK_SKEW_SECONDS}s): "
            "fix NTP, or lessons arrive at the wrong time",
        )
    if not 2024 <= now.year <= 2100:
        return Verdict("clock", False, f"the system clock says {now.isoformat()}")
    return Verdict(
        "clock", True, f"{now.isoformat(timespec='seconds')} (no Date header to compare)"
    )


def report(verdicts: list[Verdict], out: TextIO, *, color: bool) -> None:
    width = max(len(verdict.name) for verdict in verdicts)
    for verdict in verdicts:
        mark = f"{'ok' if verdict.ok else 'FAIL':<4}"
        if color:
            mark = f"{GREEN if verdict.ok else RED}{mark}{RESET}"
        out.write(f"{mark}  {verdict.name:<{width}}  {verdict.detail}\n")


async def run_doctor(settings: Settings, *, color: bool, out: TextIO | None = None) -> int:
    """`bridges doctor`: print every verdict; 0 when all are ok, else 1."""
    verdicts = await check_all(settings)
    report(verdicts, out or sys.stdout, color=color)
    return 0 if all(verdict.ok for verdict in verdicts) else 1
