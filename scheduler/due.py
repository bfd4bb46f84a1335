"""Local time rules: when is a learner's next lesson due, and which local day is it.

Pure functions, no I/O. Everything that goes in or comes out is an aware UTC
datetime; the learner's IANA zone turns it into a local date or time. The
server's own zone never matters.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# Names zoneinfo knows that are not places: `localtime` is the server's own zone.
_NOT_LOCATIONS = frozenset({"localtime", "posixrules", "Factory"})
_HHMM = re.compile(r"^\s*(\d{1,2})[:.h](\d{2})\s*$")


class InvalidDailyTime(ValueError):
    """A daily time that is not a clock time (``25:00``, ``7``, ``noon``)."""


class UnknownTimeZone(ValueError):
    """A name that is not an IANA time zone."""


def parse_daily_time(text: str) -> time:
    """Read ``HH:MM`` (also ``7:30``, ``07.30``, ``7h30``) as a wall-clock time.

    Learners type times on a phone keyboard, so a few common separators are
    accepted; anything outside 00:00-23:59 is refused rather than wrapped.
    """
    match = _HHMM.match(text)
    if match is None:
        raise InvalidDailyTime(text)
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise InvalidDailyTime(text)
    return time(hour, minute)


def format_daily_time(value: time) -> str:
    """The one spelling of a daily time in storage and messages: ``07:30``."""
    return f"{value.hour:02d}:{value.minute:02d}"


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    """Lower-case name -> canonical IANA name, so ``europe/amsterdam`` works."""
    return {name.lower(): name for name in available_timezones()}


def resolve_zone(text: str) -> str:
    """Return the canonical IANA name for what a learner typed, or raise.

    Case and surrounding spaces are forgiven, and a space may stand for ``_``
    (``America/New York``); abbreviations such as ``CET`` that are not
    locations are accepted only if zoneinfo knows them.
    """
    cleaned = text.strip().replace(" ", "_")
    canonical = _zone_names().get(cleaned.lower())
    if canonical is None or canonical in _NOT_LOCATIONS:
        raise UnknownTimeZone(text)
    try:
        ZoneInfo(canonical)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise UnknownTimeZone(text) from error
    return canonical


def local_date(instant: datetime, zone: str) -> date:
    """The learner's calendar date at ``instant``."""
    return _require_aware(instant).astimezone(ZoneInfo(zone)).date()


def occurrence_on(day: date, daily_time: time, zone: str) -> datetime:
    """The UTC instant of ``daily_time`` on local ``day``.

    A wall time that does not exist that day (spring forward) moves to the
    first valid instant after the gap; an ambiguous one (fall back) takes the
    first of the two, so the repeated hour never brings a second lesson.
    """
    tz = ZoneInfo(zone)
    naive = datetime.combine(day, daily_time)
    first = naive.replace(tzinfo=tz, fold=0)
    utc = first.astimezone(UTC)
    # A wall time in a gap does not survive the round trip to UTC and back.
    if utc.astimezone(tz).replace(tzinfo=None) != naive:
        # fold=0 maps a gap time with the offset from before the gap, which lands
        # after the gap; the first valid local instant is the gap's end.
        utc = _gap_end(naive, tz)
    return utc


def _gap_end(naive: datetime, tz: ZoneInfo) -> datetime:
    """First UTC instant whose local wall time is at or after ``naive`` (inside a gap)."""
    before = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    after = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = min(before, after), max(before, after)
    # The transition lies between the two readings; walk minute by minute (gaps
    # are at most a few hours, and Lord Howe's is thirty minutes).
    candidate = low
    while candidate <= high:
        if candidate.astimezone(tz).replace(tzinfo=None) >= naive:
            return candidate
        candidate += timedelta(minutes=1)
    return high


def next_due_at(
    daily_time: time,
    zone: str,
    now: datetime,
    *,
    after_day: date | None = None,
) -> datetime:
    """The next instant a lesson is due: strictly after ``now``, on a later local day.

    ``after_day`` is the local date of the learner's newest delivery (if any):
    one lesson per local day, so the next one is on a later date even when
    today's chosen time has not yet come.
    """
    now = _require_aware(now)
    today = local_date(now, zone)
    day = today if after_day is None else max(today, after_day + timedelta(days=1))
    # Three days always suffice: at most one occurrence per local day, and a
    # day can't be skipped entirely by a zone change (Apia's 2011 jump aside,
    # which the loop still covers).
    for offset in range(4):
        candidate = occurrence_on(day + timedelta(days=offset), daily_time, zone)
        if candidate > now:
            return candidate
    raise AssertionError("no occurrence within four days")  # pragma: no cover


def _require_aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("naive datetime: Bridges only works with aware UTC instants")
    return instant
