"""Helpers (not fixtures) shared by the sandbox tests."""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import RetryAfter


class FakeClock:
    """A monotonic clock the test moves by hand, for the flood buckets and limits."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def retry_seconds(error: RetryAfter) -> float:
    """A RetryAfter's wait in seconds, whether PTB gives it as a timedelta or a number."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    """One row of inline buttons whose callback data is ``v1:<label>``."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"v1:{label}") for label in labels]]
    )
