"""`bridges stats`: what course authors learn from learners, as tables in the terminal.

storage/stats.py counts (lesson ids, raw answer values, languages); this
module joins those counts to the course (labels per language, keys) and lays
them out as plain text tables that fit 80 columns. `--html FILE` hands the
same tables and counts to bot/stats_page.py, which adds the charts. No SQL
here, and no Telegram: the command only reads the database.
"""

from __future__ import annotations

import asyncio
import sys
import textwrap
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from lessons.loader import LANGUAGES, Course, load_course
from storage.db import create_engine, redact_url
from storage.health import DatabaseUnavailable, sqlite_file_missing
from storage.stats import QUIET_AFTER, CourseStats, read_stats

WIDTH = 80
GAP = "  "
SCALE = ("1", "2", "3", "4", "5")
BEFORE = "(before)"  # the row of learners who left before their first lesson or answer
EMPTY = "No learners yet: nothing to report."


@dataclass(frozen=True)
class Table:
    """One table of the report; `numeric` columns align right, the others left."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    note: str = ""


@dataclass(frozen=True)
class DayCount:
    """The funnel: learners a course day reached, and how many answered its check-in."""

    day: int
    lesson: str  # the lesson id (several joined by "/" if the course was edited)
    kind: str
    learners: int
    answered: int

    @property
    def rate(self) -> float:
        return self.answered / self.learners if self.learners else 0.0


@dataclass(frozen=True)
class ScaleMean:
    """Mean of the 1-5 answers to one lesson or one key; `counts` per value 1..5."""

    name: str
    counts: tuple[int, ...]

    @property
    def answers(self) -> int:
        return sum(self.counts)

    @property
    def mean(self) -> float:
        total = sum(int(value) * n for value, n in zip(SCALE, self.counts, strict=True))
        return total / self.answers if self.answers else 0.0


@dataclass(frozen=True)
class ChoiceCount:
    """How many learners of one language chose one option of one lesson, by its label."""

    lesson: str
    day: int
    language: str
    value: str
    label: str
    count: int


def funnel(stats: CourseStats) -> list[DayCount]:
    """Learners reached and answers, per course day (an edited course may have two ids a day)."""
    days: dict[int, list[tuple[str, str, int, int]]] = defaultdict(list)
    for lesson in stats.lessons:
        days[lesson.lesson_day].append(
            (lesson.lesson_id, lesson.checkin_kind, lesson.learners, lesson.answered)
        )
    return [
        DayCount(
            day=day,
            lesson="/".join(dict.fromkeys(entry[0] for entry in entries)),
            kind="/".join(dict.fromkeys(entry[1] for entry in entries)),
            learners=sum(entry[2] for entry in entries),
            answered=sum(entry[3] for entry in entries),
        )
        for day, entries in sorted(days.items())
    ]


def scale_means(stats: CourseStats, course: Course) -> tuple[list[ScaleMean], list[ScaleMean]]:
    """Mean scale per lesson (by day) and per key (in course order), over every language."""
    by_lesson: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_key: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in stats.values:
        if row.checkin_kind != "scale" or row.value not in SCALE:
            continue
        by_lesson[row.lesson_id][row.value] += row.count
        by_key[_key_of(course, row.lesson_id)][row.value] += row.count
    keys = list(dict.fromkeys(lesson.key for lesson in course.lessons[LANGUAGES[0]]))
    lessons = [
        ScaleMean(lesson_id, tuple(counts[value] for value in SCALE))
        for lesson_id, counts in by_lesson.items()
    ]
    ordered_keys = sorted(by_key, key=lambda key: keys.index(key) if key in keys else len(keys))
    return lessons, [
        ScaleMean(key, tuple(by_key[key][value] for value in SCALE)) for key in ordered_keys
    ]


def choices(stats: CourseStats, course: Course) -> list[ChoiceCount]:
    """Choice answers with the label the learner saw, in the learner's language.

    In the order the buttons were shown (day, language, option), not by value.
    """
    result = []
    for row in stats.values:
        if row.checkin_kind != "choice":
            continue
        lesson = course.by_id(row.language, row.lesson_id)
        label = lesson.checkin.label_for(row.value) if lesson is not None else row.value
        result.append(
            ChoiceCount(row.lesson_id, row.lesson_day, row.language, row.value, label, row.count)
        )

    def order(choice: ChoiceCount) -> tuple[int, str, int]:
        lesson = course.by_id(choice.language, choice.lesson)
        values = lesson.checkin.values() if lesson is not None else ()
        place = values.index(choice.value) if choice.value in values else len(values)
        return choice.day, choice.language, place

    return sorted(result, key=order)


def _key_of(course: Course, lesson_id: str) -> str:
    lesson = course.by_id(LANGUAGES[0], lesson_id)
    return lesson.key if lesson is not None else lesson_id.rsplit("-", 1)[0]


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def build_tables(stats: CourseStats, course: Course) -> list[Table]:
    """The whole report, table by table, in the order an author reads it."""
    totals = stats.totals
    tables = [
        Table(
            "Learners",
            ("", "count"),
            (
                ("enrolled", str(totals.learners)),
                ("finished onboarding", str(totals.onboarded)),
                ("active", str(totals.active)),
                ("paused now", str(totals.paused)),
                ("stopped", str(totals.stopped)),
                ("blocked the bot", str(totals.blocked)),
                ("lessons sent", str(totals.lessons_sent)),
                ("answers", str(totals.answers)),
            ),
            (False, True),
        )
    ]
    days = funnel(stats)
    first = max((d.learners for d in days if d.day == 1), default=0) or max(
        (d.learners for d in days), default=0
    )
    tables.append(
        Table(
            "Funnel and answer rate per lesson",
            ("day", "lesson", "check-in", "learners", "of day 1", "answered", "rate"),
            tuple(
                (
                    str(d.day),
                    d.lesson,
                    d.kind,
                    str(d.learners),
                    _percent(d.learners, first),
                    str(d.answered),
                    _percent(d.answered, d.learners),
                )
                for d in days
            ),
            (True, False, False, True, True, True, True),
            note="learners: how many were sent the lesson; rate: how many of them answered.",
        )
    )
    picked = choices(stats, course)
    group_totals: dict[tuple[str, str], int] = defaultdict(int)
    for choice in picked:
        group_totals[(choice.lesson, choice.language)] += choice.count
    tables.append(
        Table(
            "Choice answers",
            ("day", "lesson", "lang", "answer", "n", "share"),
            tuple(
                (
                    str(c.day),
                    c.lesson,
                    c.language,
                    c.label,
                    str(c.count),
                    _percent(c.count, group_totals[(c.lesson, c.language)]),
                )
                for c in picked
            ),
            (True, False, False, False, True, True),
            note="share: of that lesson's answers in that language.",
        )
    )
    per_lesson, per_key = scale_means(stats, course)
    tables.append(
        Table(
            "Scale answers per lesson (1-5)",
            ("lesson", "n", "mean", *SCALE),
            tuple(
                (m.name, str(m.answers), f"{m.mean:.2f}", *(str(n) for n in m.counts))
                for m in per_lesson
            ),
            (False, True, True, *(True for _ in SCALE)),
        )
    )
    tables.append(
        Table(
            "Scale mean per key",
            ("key", "n", "mean"),
            tuple((m.name, str(m.answers), f"{m.mean:.2f}") for m in per_key),
            (False, True, True),
        )
    )
    tables.append(
        Table(
            "Where learners pause, stop or go quiet",
            ("day", "lesson", "paused", "stopped", "blocked", "quiet"),
            tuple(
                (
                    "" if place.lesson_day is None else str(place.lesson_day),
                    place.lesson_id or BEFORE,
                    str(place.paused),
                    str(place.stopped),
                    str(place.blocked),
                    str(place.quiet),
                )
                for place in stats.leaving
            ),
            (True, False, True, True, True, True),
            note=(
                "paused, stopped, blocked: the last lesson sent before they did; quiet: "
                f"their last answered lesson, with {QUIET_AFTER} or more unanswered after it. "
                f"{BEFORE}: before their first lesson or, for quiet, without any answer. "
                "Snoozes are not recorded yet, so they are not counted."
            ),
        )
    )
    return tables


def render_text(tables: Sequence[Table], width: int = WIDTH) -> str:
    """Plain aligned tables: numbers right, words left, the widest word column cut to fit."""
    blocks = []
    for table in tables:
        lines = [table.title, "=" * len(table.title)]
        if not table.rows:
            lines.append("(no data yet)")
        else:
            widths = _fit(table, width)
            cells = [table.headers, *table.rows]
            for index, row in enumerate(cells):
                lines.append(_line(row, widths, table.numeric))
                if index == 0:
                    lines.append(GAP.join("-" * w for w in widths))
        if table.note:
            lines.extend(textwrap.wrap(table.note, width))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _fit(table: Table, width: int) -> list[int]:
    widths = [
        max(len(row[column]) for row in (table.headers, *table.rows))
        for column in range(len(table.headers))
    ]
    excess = sum(widths) + len(GAP) * (len(widths) - 1) - width
    words = [column for column, numeric in enumerate(table.numeric) if not numeric]
    if excess > 0 and words:
        widest = max(words, key=lambda column: widths[column])
        widths[widest] = max(len(table.headers[widest]), 8, widths[widest] - excess)
    return widths


def _line(row: Sequence[str], widths: Sequence[int], numeric: Sequence[bool]) -> str:
    cells = []
    for cell, w, right in zip(row, widths, numeric, strict=True):
        if len(cell) > w:
            cell = cell[: w - 1] + "…"
        cells.append(cell.rjust(w) if right else cell.ljust(w))
    return GAP.join(cells).rstrip()


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
    from bot import stats_page

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
