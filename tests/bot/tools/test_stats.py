"""`bridges stats`' report: labels through the course, 80-column tables, the page, the exits."""

from __future__ import annotations

import asyncio
import io
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ops.cli import build_parser
from bot.tools.stats import EMPTY, run_stats
from bot.tools.stats_page import INSTALL_HINT, render_page
from bot.tools.stats_report import Table, build_tables
from bot.tools.stats_text import render_text
from lessons.loader import Course, load_course
from storage.stats import (
    CourseStats,
    Leaving,
    LessonCount,
    TogetherCount,
    Totals,
    ValueCount,
    Ways,
)

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course()


def _stats() -> CourseStats:
    return CourseStats(
        totals=Totals(3, 3, 3, 0, 0, 0, 5, 5),
        lessons=[
            LessonCount("opening-1", 1, "choice", learners=3, answered=3),
            LessonCount("empathy-1", 2, "scale", learners=2, answered=2),
        ],
        values=[
            ValueCount("opening-1", 1, "choice", "en", "sent", 2),
            ValueCount("opening-1", 1, "choice", "nl", "sent", 1),
            ValueCount("empathy-1", 2, "scale", "en", "1", 1),
            ValueCount("empathy-1", 2, "scale", "nl", "4", 1),
            # A lesson since removed from the course: its raw value stands in for a label.
            ValueCount("gone-1", 9, "choice", "en", "<b>maybe</b>", 1),
        ],
        leaving=[Leaving(None, None, silent=1), Leaving("empathy-1", 2, paused=1)],
        ways=Ways(tap=2, typed=1, text=1, voice=1, early=2, notes=4, edited=1),
        together=TogetherCount(4, 2, 1, 1, 2, 1, 10, 8, 20, 10),
    )


def _rows(tables: list[Table], title: str) -> tuple[tuple[str, ...], ...]:
    return next(table.rows for table in tables if table.title == title)


def test_choice_answers_read_as_the_label_in_the_learners_language(course: Course):
    rows = _rows(build_tables(_stats(), course), "Choice answers")
    assert rows == (
        ("1", "opening-1", "en", "Yes, I sent it", "2", "100%"),
        ("1", "opening-1", "nl", "Ja, verstuurd", "1", "100%"),
        ("9", "gone-1", "en", "<b>maybe</b>", "1", "100%"),
    )


def test_scale_means_per_lesson_and_per_key_pool_every_language(course: Course):
    tables = build_tables(_stats(), course)
    assert _rows(tables, "Scale answers per lesson (1-5)") == (
        ("empathy-1", "2", "2.50", "1", "0", "0", "1", "0"),
    )
    assert _rows(tables, "Scale mean per key") == (("empathy", "2", "2.50"),)


def test_how_answers_came_shows_each_way_with_its_share(course: Course):
    rows = _rows(build_tables(_stats(), course), "How answers came")
    assert rows[:4] == (
        ("tapped a button", "2", "40%"),
        ("typed words for a button", "1", "20%"),
        ("wrote free text", "1", "20%"),
        ("sent a voice note", "1", "20%"),
    )
    assert ("early, before the evening check-in", "2", "40%") in rows
    assert ("notes kept (words that answered nothing)", "4", "-") in rows


def test_together_shows_invites_links_and_answer_rates(course: Course):
    rows = _rows(build_tables(_stats(), course), "Together (pair mode)")
    assert ("accepted", "2", "50%") in rows
    assert ("links ended", "1", "50%") in rows
    assert ("answer rate, learners ever linked", "8/10", "80%") in rows
    assert ("answer rate, learners never linked", "10/20", "50%") in rows


def test_leaving_before_the_first_lesson_has_its_own_row(course: Course):
    rows = _rows(build_tables(_stats(), course), "Where learners pause, stop or fall silent")
    assert rows == (
        ("", "(before)", "0", "0", "0", "1"),
        ("2", "empathy-1", "1", "0", "0", "0"),
    )


def test_text_tables_fit_80_columns_cutting_the_widest_words():
    table = Table(
        "Choice answers",
        ("day", "lesson", "answer", "n"),
        (("1", "opening-1", "a label far too long " * 5, "12"), ("10", "x", "short", "3")),
        (True, False, False, True),
        note="a note " * 30,
    )
    text = render_text([table])
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(line.endswith("…  12") for line in lines)
    assert " 10  x" in text  # numbers align right, words left


def test_a_table_without_rows_says_so():
    text = render_text([Table("Scale mean per key", ("key", "n"), (), (False, True))])
    assert "(no data yet)" in text


def test_the_page_embeds_png_charts_and_escapes_every_text(course: Course):
    stats = _stats()
    page = render_page(stats, course, build_tables(stats, course), generated=NOW)
    assert page.startswith("<!DOCTYPE html>")
    assert len(re.findall(r'<img alt="[^"]+" src="data:image/png;base64,iVBORw0KGgo', page)) >= 5
    assert "&lt;b&gt;maybe&lt;/b&gt;" in page
    assert "<b>maybe" not in page
    assert "<td>Ja, verstuurd</td>" in page


def test_the_command_line_knows_stats():
    args = build_parser().parse_args(["stats", "--html", "report.html"])
    assert args.command == "stats" and args.html == Path("report.html")
    assert build_parser().parse_args(["stats"]).html is None


async def test_an_empty_database_prints_a_friendly_line(db: AsyncEngine, tmp_path: Path):
    url = db.url.render_as_string(hide_password=False)
    out = io.StringIO()
    page = tmp_path / "report.html"
    assert await asyncio.to_thread(run_stats, url, NOW, html=page, out=out) == 0
    assert out.getvalue() == f"{EMPTY}\nNo page written.\n"
    assert not page.exists()


def test_a_missing_sqlite_file_is_named_and_not_created(tmp_path: Path):
    database = tmp_path / "typo.db"
    out = io.StringIO()
    assert run_stats(f"sqlite:///{database}", NOW, out=out) == 0
    assert EMPTY in out.getvalue() and "typo.db does not exist" in out.getvalue()
    assert not database.exists()


def test_an_unmigrated_database_exits_1_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    database = tmp_path / "blank.db"
    database.touch()
    assert run_stats(f"sqlite:///{database}", NOW, out=io.StringIO()) == 1
    error = capsys.readouterr().err
    assert "cannot read" in error and "no such table" in error
    assert "SELECT" not in error


def test_html_without_matplotlib_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    code = run_stats(f"sqlite:///{tmp_path / 'x.db'}", NOW, html=tmp_path / "r.html")
    assert code == 2
    assert INSTALL_HINT in capsys.readouterr().err


async def test_an_unwritable_page_exits_2(db: AsyncEngine, tmp_path: Path):
    from storage.repo import Repo
    from tests.helpers import make_learner

    await make_learner(Repo(db), NOW)
    url = db.url.render_as_string(hide_password=False)
    page = tmp_path / "no-such-dir" / "report.html"
    assert await asyncio.to_thread(run_stats, url, NOW, html=page, out=io.StringIO()) == 2
