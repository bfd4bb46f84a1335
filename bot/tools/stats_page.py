"""`bridges stats --html FILE`: one self-contained page an author opens in a browser.

The charts are PNGs drawn by matplotlib and embedded as base64 data URIs, so
the page is one file that can be mailed or archived without a folder beside
it. matplotlib is an optional extra (`pip install 'bridges[stats]'`): the bot
never needs it, so it is imported only here, only when a page is asked for.
Figures are built with the object API (`matplotlib.figure.Figure`), never
pyplot, so no GUI backend or global state is touched. Every text that reaches
the page is escaped; labels are authors' words but the page is HTML.
"""

from __future__ import annotations

import base64
import html
import io
import warnings
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from bot.tools.stats_report import Table, choices, funnel, scale_means
from lessons.loader import LANGUAGES, Course
from storage.stats import CourseStats

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

INSTALL_HINT = (
    "--html needs matplotlib to draw its charts: "
    "pip install 'bridges[stats]' (or pip install matplotlib)"
)
COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3")

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #ddd; }
th { text-align: left; background: #f4f4f4; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; display: block; margin: 0.5rem 0 1.5rem; }
p.note { color: #555; font-size: 0.9rem; }
"""


class ChartsUnavailable(Exception):
    """matplotlib is not installed; the message says how to install it."""


def require_matplotlib() -> None:
    """Fail before any work when the page could not be drawn at the end."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise ChartsUnavailable(INSTALL_HINT) from error


def render_page(
    stats: CourseStats, course: Course, tables: Sequence[Table], *, generated: datetime
) -> str:
    """The whole page: a chart per question, then every table of the terminal report."""
    require_matplotlib()
    import matplotlib

    # Authors' labels are text, never TeX; a "$" in one must not start math mode.
    with matplotlib.rc_context({"text.parse_math": False}), warnings.catch_warnings():
        # A label with a glyph the default font lacks (an emoji) still draws, as a box.
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        charts = _charts(stats, course)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Bridges: what learners tell us</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Bridges: what learners tell us</h1>",
        f"<p class=note>Generated {html.escape(generated.strftime('%Y-%m-%d %H:%M UTC'))}.</p>",
    ]
    for title, png in charts:
        parts.append(f"<h2>{html.escape(title)}</h2>")
        parts.append(
            f'<img alt="{html.escape(title)}" '
            f'src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'
        )
    parts.append("<h2>Tables</h2>")
    parts.extend(_table(table) for table in tables)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _table(table: Table) -> str:
    rows = [f"<h3>{html.escape(table.title)}</h3>"]
    if not table.rows:
        rows.append("<p class=note>(no data yet)</p>")
    else:
        rows.append("<table><thead><tr>")
        rows.extend(f"<th>{html.escape(header)}</th>" for header in table.headers)
        rows.append("</tr></thead><tbody>")
        for row in table.rows:
            cells = "".join(
                f"<td{' class=n' if numeric else ''}>{html.escape(cell)}</td>"
                for cell, numeric in zip(row, table.numeric, strict=True)
            )
            rows.append(f"<tr>{cells}</tr>")
        rows.append("</tbody></table>")
    if table.note:
        rows.append(f"<p class=note>{html.escape(table.note)}</p>")
    return "\n".join(rows)


def _charts(stats: CourseStats, course: Course) -> list[tuple[str, bytes]]:
    charts: list[tuple[str, bytes]] = []
    days = funnel(stats)
    if days:
        fig, ax = _figure()
        ax.bar([d.day for d in days], [d.learners for d in days], color=COLOURS[0])
        ax.set_xlabel("day of the course")
        ax.set_ylabel("learners sent the lesson")
        charts.append(("Funnel: learners per day of the course", _png(fig)))
        fig, ax = _figure()
        ax.bar([d.day for d in days], [100 * d.rate for d in days], color=COLOURS[2])
        ax.set_ylim(0, 100)
        ax.set_xlabel("day of the course")
        ax.set_ylabel("% who answered")
        charts.append(("Answer rate per lesson", _png(fig)))
    per_lesson, per_key = scale_means(stats, course)
    if per_lesson:
        for title, means in (
            ("Mean scale per lesson", per_lesson),
            ("Mean scale per key", per_key),
        ):
            fig, ax = _figure(height=0.4 * len(means) + 1.2)
            ax.barh([m.name for m in means], [m.mean for m in means], color=COLOURS[1])
            ax.set_xlim(1, 5)
            ax.invert_yaxis()
            ax.set_xlabel("mean answer (1-5)")
            charts.append((title, _png(fig)))
    charts.extend(_choice_charts(stats, course))
    if stats.leaving:
        charts.append(("Where learners pause, stop or fall silent", _leaving_chart(stats)))
    return charts


def _choice_charts(stats: CourseStats, course: Course) -> list[tuple[str, bytes]]:
    """One chart per choice lesson, every language together, labelled in the course's first."""
    counts: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for choice in choices(stats, course):
        counts[(choice.day, choice.lesson)][choice.value] += choice.count
    charts = []
    for (day, lesson_id), by_value in sorted(counts.items()):
        lesson = course.by_id(LANGUAGES[0], lesson_id)
        values = list(lesson.checkin.values()) if lesson is not None else []
        values += [value for value in by_value if value not in values]
        labels = [lesson.checkin.label_for(v) if lesson is not None else v for v in values]
        fig, ax = _figure(height=0.4 * len(values) + 1.0)
        ax.barh(labels, [by_value.get(value, 0) for value in values], color=COLOURS[4])
        ax.invert_yaxis()
        ax.set_xlabel("answers")
        _whole_numbers(ax)
        charts.append((f"Choice answers, day {day}: {lesson_id}", _png(fig)))
    return charts


def _leaving_chart(stats: CourseStats) -> bytes:
    names = [
        "(before)" if place.lesson_id is None else f"{place.lesson_day} {place.lesson_id}"
        for place in stats.leaving
    ]
    fig, ax = _figure(height=0.4 * len(names) + 1.2)
    left = [0] * len(names)
    for colour, (what, counts) in zip(
        COLOURS,
        (
            ("paused", [p.paused for p in stats.leaving]),
            ("stopped", [p.stopped for p in stats.leaving]),
            ("blocked", [p.blocked for p in stats.leaving]),
            ("silent", [p.silent for p in stats.leaving]),
        ),
        strict=False,
    ):
        ax.barh(names, counts, left=left, label=what, color=colour)
        left = [a + b for a, b in zip(left, counts, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("learners")
    _whole_numbers(ax)
    fig.legend(loc="outside right upper")
    return _png(fig)


def _figure(height: float = 3.0) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, min(max(height, 2.0), 14.0)), layout="constrained")
    return fig, fig.add_subplot()


def _whole_numbers(ax: Axes) -> None:
    """Counts of learners: no tick at 0.5 of a learner."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()
