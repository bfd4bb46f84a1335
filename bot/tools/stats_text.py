"""The stats report as plain text tables that fit 80 columns."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from bot.tools.stats_report import Table

WIDTH = 80
GAP = "  "


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
