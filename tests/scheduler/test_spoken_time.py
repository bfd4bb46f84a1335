"""Times as people type them: every form the learner might use, in both languages; the
ambiguous ones give both readings; nothing ever raises."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.spoken_time import read_time


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("7pm", ["19:00"]),
        ("7 pm", ["19:00"]),
        ("7:30 p.m.", ["19:30"]),
        ("7am", ["07:00"]),
        ("12 am", ["00:00"]),
        ("12pm", ["12:00"]),
        ("19.30", ["19:30"]),
        ("19u30", ["19:30"]),
        ("7u30", ["07:30"]),
        ("7h30", ["07:30"]),
        ("07:30", ["07:30"]),
        ("21:30", ["21:30"]),
        ("noon", ["12:00"]),
        ("Midnight", ["00:00"]),
        ("middernacht", ["00:00"]),
        ("8 uur 's avonds", ["20:00"]),
        ("half acht 's avonds", ["19:30"]),
        ("seven in the evening", ["19:00"]),
        ("2 uur 's nachts", ["02:00"]),
        # Ambiguous: the morning first, then the evening; the bot asks which.
        ("7", ["07:00", "19:00"]),
        ("7 uur", ["07:00", "19:00"]),
        ("half acht", ["07:30", "19:30"]),
        ("half 8", ["07:30", "19:30"]),
        ("kwart over zeven", ["07:15", "19:15"]),
        ("kwart voor acht", ["07:45", "19:45"]),
        ("half past seven", ["07:30", "19:30"]),
        ("quarter to 8", ["07:45", "19:45"]),
        ("half een", ["12:30", "00:30"]),
        # Not times.
        ("25:00", []),
        ("7:61", []),
        ("19 am", []),
        ("lunchtime", []),
        ("", []),
    ],
)
def test_forms_people_type(typed: str, meant: list[str]):
    assert [value.strftime("%H:%M") for value in read_time(typed)] == meant


@given(st.integers(0, 23), st.integers(0, 59))
def test_every_24_hour_form_means_what_it_says(hour: int, minute: int):
    for typed in (
        f"{hour:02d}:{minute:02d}",
        f"{hour}:{minute:02d}",
        f"{hour}.{minute:02d}",
        f"{hour}u{minute:02d}",
        f"{hour}h{minute:02d}",
    ):
        assert read_time(typed) == (time(hour, minute),), typed


@given(st.integers(1, 12), st.integers(0, 59), st.sampled_from(["am", "pm"]))
def test_every_12_hour_form_round_trips(hour: int, minute: int, half: str):
    expected = time(hour % 12 + (12 if half == "pm" else 0), minute)
    for typed in (f"{hour}:{minute:02d}{half}", f"{hour}:{minute:02d} {half.upper()}"):
        assert read_time(typed) == (expected,), typed


@given(st.integers(1, 12), st.sampled_from(["'s avonds", "in the evening", "pm"]))
def test_an_evening_hour_in_words_or_digits(hour: int, evening: str):
    # 12 pm is noon; 12 in the evening ("12 uur 's avonds") is midnight.
    expected = 0 if hour == 12 and evening != "pm" else hour % 12 + 12
    assert read_time(f"{hour} {evening}") == (time(expected, 0),)


@given(st.text(max_size=60))
def test_nothing_raises_and_every_reading_is_a_wall_time(text: str):
    readings = read_time(text)
    assert len(readings) <= 2
    assert all(isinstance(value, time) for value in readings)


@pytest.mark.parametrize(
    ("typed", "language", "meant"),
    [
        ("half eight", "en", ["08:30", "20:30"]),  # British: half past eight
        ("half 8", "en", ["08:30", "20:30"]),
        ("half 8", "nl", ["07:30", "19:30"]),  # Dutch: half an hour before eight
        ("half seven pm", "en", ["19:30"]),
        ("12 at night", "en", ["00:00"]),
        ("1 at night", "en", ["01:00"]),
        ("11 uur 's nachts", "nl", ["23:00"]),
        ("12 uur 's avonds", "nl", ["00:00"]),
        ("20.00 uur", "nl", ["20:00"]),
        ("om 8 uur", "nl", ["08:00", "20:00"]),
        ("at 7", "en", ["07:00", "19:00"]),
    ],
)
def test_the_learners_language_and_the_night(typed: str, language: str, meant: list[str]):
    assert [value.strftime("%H:%M") for value in read_time(typed, language)] == meant
