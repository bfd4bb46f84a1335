"""`bridges stats`: what course authors learn from learners, as tables in the terminal.

The command reads the counts (storage/stats.py), builds the report
(bot/tools/stats_report.py) and writes it as text (bot/tools/stats_text.py);
`--html FILE` also writes the page with charts (bot/tools/stats_page.py).
No SQL here, and no Telegram: the command only reads the database.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.tools import stats_page
from bot.tools.stats_report import build_tables
from bot.tools.stats_text import render_text
from lessons.loader import load_course
from storage.db import create_engine, redact_url
from storage.health import DatabaseUnavailable, sqlite_file_missing
from storage.stats import CourseStats, read_stats

EMPTY = "No learners yet: nothing to report."


async def gather(database_url: str, now: datetime) -> CourseStats | None:
    """The counts from the database at `database_url`; None if its SQLite file is not there.

    A missing SQLite file is not created: asking for statistics must not
    leave an empty database behind where a typo pointed.
    """
    if sqlite_file_missing(database_url):
        return None
    engine = create_engine(database_url)
    try:
        return await read_stats(engine, now)
    finally:
        await engine.dispose()


def run_stats(
    database_url: str, now: datetime, *, html: Path | None = None, out: TextIO | None = None
) -> int:
    """`bridges stats [--html FILE]`: print the tables; with `html`, also write the page.

    Only the reading is async (its own short event loop); drawing and writing
    the page is plain blocking work, done after the loop is gone.
    Exit codes: 0 done (an empty database too), 1 the database could not be
    read, 2 the page cannot be made (no matplotlib, or the file cannot be written).
    """
    out = out or sys.stdout
    if html is not None:
        try:
            stats_page.require_matplotlib()
        except stats_page.ChartsUnavailable as error:
            sys.stderr.write(f"bridges: {error}\n")
            return 2
    try:
        stats = asyncio.run(gather(database_url, now))
    except DatabaseUnavailable as error:
        sys.stderr.write(f"bridges: cannot read {redact_url(database_url)}: {error}\n")
        return 1
    if stats is None or stats.totals.learners == 0:
        where = "" if stats is not None else f" ({redact_url(database_url)} does not exist)"
        out.write(f"{EMPTY}{where}\n")
        if html is not None:
            out.write("No page written.\n")
        return 0
    course = load_course()
    tables = build_tables(stats, course)
    out.write(render_text(tables))
    if html is not None:
        page = stats_page.render_page(stats, course, tables, generated=now)
        try:
            html.write_text(page, encoding="utf-8")
        except OSError as error:
            sys.stderr.write(f"bridges: cannot write {html}: {error.strerror or error}\n")
            return 2
        out.write(f"\nWrote {html}\n")
    return 0
