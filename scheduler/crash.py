"""Named points in the hot path where the kill tests make the process die on purpose.

A process started with ``BRIDGES_TEST_CRASH_AT=<point>:<n>`` kills itself with
SIGKILL the n-th time it passes <point>; without the variable this is one
dictionary lookup. It exists so tests/e2e/test_kill.py can stop a real
`bridges worker` at each instant that matters (before a claim, after it,
mid-send, between Telegram's reply and the record) and prove what survives.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "BRIDGES_TEST_CRASH_AT"
POINTS = ("claim:before", "claim:after", "send:before", "send:after", "record:after")

_passed: dict[str, int] = {}


def crash_point(name: str) -> None:
    """Die here (SIGKILL, no cleanup) if the environment asks for this point and pass."""
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    point, _, count = wanted.rpartition(":")
    if point != name:
        return
    _passed[name] = _passed.get(name, 0) + 1
    if _passed[name] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
