"""A picture of progress: the learner's scale answers over the course, one line per key.

Drawn with matplotlib's object API on the Agg canvas (no display, no pyplot
state), so it is safe to run in a worker thread while the bot goes on serving
others. Returns PNG bytes; the caller words the title and labels.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# One colour per key, the same in every chart.
COLOURS = ("#e4572e", "#2e86ab", "#76b041", "#a23b72", "#f3a712", "#5c415d")


def progress_chart(
    lines: Mapping[str, Sequence[tuple[int, int]]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    total_days: int,
) -> bytes:
    """A PNG of (course day, answer 1-5) points, one labelled line per key, in `lines` order."""
    figure = Figure(figsize=(7, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for index, (label, points) in enumerate(lines.items()):
        if not points:
            continue
        days, values = zip(*sorted(points), strict=True)
        axes.plot(
            days, values, marker="o", label=label, color=COLOURS[index % len(COLOURS)], linewidth=2
        )
    axes.set_title(title)
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    axes.set_xlim(0.5, max(total_days, 1) + 0.5)
    axes.set_ylim(0.5, 5.5)
    axes.set_yticks([1, 2, 3, 4, 5])
    axes.grid(alpha=0.3)
    if any(lines.values()):
        axes.legend(loc="lower right", fontsize="small")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
