"""What every benchmark shares: the progress bar, the JSON line, percentiles, the machine, plots.

A bench talks to two readers at once: a person watching standard error (a
plain ``\\r`` progress bar, no dependency) and a script reading standard
output, where the last line is one JSON object and nothing else is printed.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

PLOT_EXTRA_HINT = (
    "bridges bench: --plot needs matplotlib; install the extra: pip install -e '.[bench]'"
)


class PlotUnavailable(RuntimeError):
    """--plot was asked for but matplotlib is missing."""


class Progress:
    """A one-line progress bar on standard error, redrawn at most ten times a second."""

    def __init__(self, label: str, total: int, *, stream: IO[str] | None = None) -> None:
        self.label = label
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self._started = time.perf_counter()
        self._drawn = 0.0

    def update(self, done: int, note: str = "") -> None:
        self.done = done
        now = time.perf_counter()
        if now - self._drawn >= 0.1 or done >= self.total:
            self._drawn = now
            self._draw(note)

    def _draw(self, note: str) -> None:
        width = 30
        share = min(self.done / self.total, 1.0)
        bar = "#" * int(share * width)
        elapsed = time.perf_counter() - self._started
        self.stream.write(
            f"\r{self.label:<10} [{bar:<{width}}] {self.done:>9,}/{self.total:,} "
            f"{elapsed:6.1f}s {note}"[:160]
        )
        self.stream.flush()

    def finish(self, note: str = "") -> None:
        self._draw(note)
        self.stream.write("\n")
        self.stream.flush()


def say(message: str) -> None:
    """A line for the person watching (standard error; standard output is for the JSON)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def emit(result: dict[str, Any], stream: IO[str] | None = None) -> None:
    """The bench's result: one JSON object, the last line on standard output."""
    out = stream if stream is not None else sys.stdout
    out.write(json.dumps(result, sort_keys=False) + "\n")
    out.flush()


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def machine() -> str:
    """e.g. "vm, 2 cores, AMD EPYC": host name, core count and CPU model."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node() or 'unknown host'}, {os.cpu_count() or 0} cores, {model}"


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process in MB (VmRSS from /proc; psutil where /proc is missing)."""
    target = pid if pid is not None else os.getpid()
    try:
        for line in Path(f"/proc/{target}/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import psutil  # only off Linux; in the `bench` extra

    return float(psutil.Process(target).memory_info().rss) / (1024 * 1024)


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (no display needed), or PlotUnavailable."""
    try:
        import matplotlib
    except ImportError as error:
        raise PlotUnavailable(PLOT_EXTRA_HINT) from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def check_plot(path: str | None) -> None:
    """Fail before a long run, not after it, when --plot cannot be honoured."""
    if path is not None:
        pyplot()


def save(figure: Any, path: str) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    say(f"plot written to {path}")
