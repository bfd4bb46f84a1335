"""Dates and times as a learner reads them, in their language and zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
}
MONTHS = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "nl": (
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ),
}


def local_when(instant: datetime, zone: str, language: str) -> str:
    """`Tuesday 3 March, 08:00` / `dinsdag 3 maart, 08:00` in the learner's zone."""
    local = instant.astimezone(ZoneInfo(zone))
    lang = language if language in WEEKDAYS else "en"
    weekday = WEEKDAYS[lang][local.weekday()]
    month = MONTHS[lang][local.month - 1]
    return f"{weekday} {local.day} {month}, {local:%H:%M}"


def local_day(instant: datetime, zone: str, language: str) -> str:
    """`Tuesday 3 March` / `dinsdag 3 maart`."""
    return local_when(instant, zone, language).rsplit(",", 1)[0]
