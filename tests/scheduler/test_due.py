"""Local time rules across DST gaps and folds and in odd zones, example- and property-based."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.due import (
    InvalidDailyTime,
    UnknownTimeZone,
    format_daily_time,
    local_date,
    next_due_at,
    occurrence_on,
    parse_daily_time,
    resolve_zone,
)

ZONES = [
    "Europe/Amsterdam",
    "America/New_York",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Asia/Kathmandu",  # UTC+5:45
    "Pacific/Apia",  # skipped 2011-12-30 entirely
    "UTC",
]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("07:30", time(7, 30)),
        ("7:05", time(7, 5)),
        ("07.30", time(7, 30)),
        ("7h30", time(7, 30)),
        (" 23:59 ", time(23, 59)),
        ("00:00", time(0, 0)),
        ("٠٧:٣٠", time(7, 30)),
    ],
)
def test_parse_daily_time_accepts_phone_spellings(typed: str, expected: time):
    assert parse_daily_time(typed) == expected
    assert format_daily_time(expected) == f"{expected.hour:02d}:{expected.minute:02d}"


@pytest.mark.parametrize("typed", ["24:00", "12:60", "7", "noon", "", "7:5", "-1:00", "7:30pm"])
def test_parse_daily_time_refuses_impossible_times(typed: str):
    with pytest.raises(InvalidDailyTime):
        parse_daily_time(typed)


def test_resolve_zone_forgives_case_and_spaces():
    assert resolve_zone(" europe/amsterdam ") == "Europe/Amsterdam"
    assert resolve_zone("America/New York") == "America/New_York"
    for bad in (
        "Mars/Olympus",
        "",
        "Europe/",
        "../etc/passwd",
        "Amsterdam",
        "localtime",
        "Factory",
    ):
        with pytest.raises(UnknownTimeZone):
            resolve_zone(bad)


def test_spring_forward_gap_moves_to_the_first_valid_instant():
    # Amsterdam 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist.
    due = occurrence_on(date(2026, 3, 29), time(2, 30), "Europe/Amsterdam")
    assert due == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert due.astimezone(ZoneInfo("Europe/Amsterdam")).time() == time(3, 0)


def test_lord_howe_half_hour_gap():
    # Lord Howe 2026-10-04: 02:00 +10:30 jumps to 02:30 +11:00.
    due = occurrence_on(date(2026, 10, 4), time(2, 15), "Australia/Lord_Howe")
    local = due.astimezone(ZoneInfo("Australia/Lord_Howe"))
    assert (local.hour, local.minute) == (2, 30)


def test_fall_back_fold_takes_the_first_and_never_twice():
    # New York 2026-11-01: 01:30 happens twice; the first is EDT (UTC-4).
    due = occurrence_on(date(2026, 11, 1), time(1, 30), "America/New_York")
    assert due == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    # A tick during the repeated hour (01:30 EST) must not find another lesson today.
    after = next_due_at(time(1, 30), "America/New_York", due, after_day=date(2026, 11, 1))
    assert after == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)


def test_apia_skipped_day_still_gets_a_lesson_once():
    # Samoa skipped 2011-12-30; a lesson due that day moves into the 31st.
    before = datetime(2011, 12, 29, 20, 0, tzinfo=UTC)
    due = next_due_at(time(7, 0), "Pacific/Apia", before, after_day=date(2011, 12, 29))
    assert local_date(due, "Pacific/Apia") == date(2011, 12, 31)


def test_kathmandu_quarter_hour_offset():
    now = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # 05:45 local
    assert next_due_at(time(7, 30), "Asia/Kathmandu", now) == datetime(
        2026, 6, 1, 1, 45, tzinfo=UTC
    )


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        next_due_at(time(7, 0), "UTC", datetime(2026, 1, 1))  # noqa: DTZ001


instants = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(2037, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
daily_times = st.builds(time, st.integers(0, 23), st.integers(0, 59))


@settings(max_examples=300, deadline=None)
@given(now=instants, daily=daily_times, zone=st.sampled_from(ZONES))
def test_next_due_is_strictly_after_now_and_on_a_later_day(now: datetime, daily: time, zone: str):
    last_day = local_date(now, zone)
    due = next_due_at(daily, zone, now, after_day=last_day)
    assert due > now
    assert due.tzinfo is not None and due.utcoffset() == timedelta(0)
    assert local_date(due, zone) > last_day
    # Never more than two local days and a gap away: no lesson is silently skipped.
    assert due - now < timedelta(days=2, hours=3)


@settings(max_examples=300, deadline=None)
@given(now=instants, daily=daily_times, zone=st.sampled_from(ZONES))
def test_due_is_at_the_chosen_wall_time_unless_it_does_not_exist(
    now: datetime, daily: time, zone: str
):
    due = next_due_at(daily, zone, now)
    local = due.astimezone(ZoneInfo(zone))
    if local.time() != daily:
        # Only a DST gap (or Apia's skipped day) moves the lesson: to the first valid instant.
        just_before = (due - timedelta(minutes=1)).astimezone(ZoneInfo(zone))
        assert just_before.utcoffset() != local.utcoffset()


@settings(max_examples=200, deadline=None)
@given(start=instants, daily=daily_times, zone=st.sampled_from(ZONES))
def test_a_month_of_ticks_gives_one_lesson_per_local_day(start: datetime, daily: time, zone: str):
    now, last_day, days = start, None, []
    for _ in range(31):
        now = next_due_at(daily, zone, now, after_day=last_day)
        last_day = local_date(now, zone)
        days.append(last_day)
    assert len(set(days)) == len(days)
    assert days == sorted(days)
