"""Time zones as people say them: city and country names in English and Dutch, typos with one
suggestion, and a shared location resolved offline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.due import _zone_names
from scheduler.places import FIXED_NAMES, Place, city_for_offset, find_place, offset_label, zone_at


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("amsterdam", "Europe/Amsterdam"),
        ("Den Haag", "Europe/Amsterdam"),
        ("'s-Gravenhage", "Europe/Amsterdam"),
        ("brussel", "Europe/Brussels"),
        ("België", "Europe/Brussels"),
        ("new york", "America/New_York"),
        ("New-York", "America/New_York"),
        ("são paulo", "America/Sao_Paulo"),
        ("Kathmandu", "Asia/Kathmandu"),
        ("Lord Howe", "Australia/Lord_Howe"),
        ("samoa", "Pacific/Apia"),
        ("Europe/Amsterdam", "Europe/Amsterdam"),
        ("america/new york", "America/New_York"),
    ],
)
def test_names_in_both_languages(typed: str, zone: str):
    assert find_place(typed) == Place(zone, sure=True)


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("amsterdm", "Europe/Amsterdam"),
        ("brussl", "Europe/Brussels"),
        ("new yrok", "America/New_York"),
    ],
)
def test_a_typo_gets_one_suggestion(typed: str, zone: str):
    assert find_place(typed) == Place(zone, sure=False)


@pytest.mark.parametrize("typed", ["", "   ", "qqqqzzzz", "<b>&"])
def test_nonsense_is_nobody(typed: str):
    assert find_place(typed) is None


def test_a_shared_location_is_resolved_offline():
    assert zone_at(52.37, 4.89) == "Europe/Amsterdam"
    assert zone_at(27.7, 85.32) == "Asia/Kathmandu"
    assert zone_at(-31.55, 159.08) == "Australia/Lord_Howe"
    assert zone_at(91, 0) is None


@given(
    st.sampled_from(sorted(set(_zone_names().values()) - {"localtime", "posixrules", "Factory"}))
)
def test_every_zone_name_is_sure_of_itself(zone: str):
    place = find_place(zone)
    assert place is not None and place.zone == zone and place.sure
    # A name that never moves for summer time (UTC, GMT, Etc/GMT-1) is said to be fixed.
    assert place.fixed == (zone.startswith("Etc/") or zone in FIXED_NAMES)


@given(st.text(max_size=40))
def test_any_text_gives_a_known_zone_or_nothing(text: str):
    place = find_place(text)
    assert place is None or place.zone in _zone_names().values()


@pytest.mark.parametrize(
    ("typed", "zone", "label"),
    [
        ("UTC+1", "Etc/GMT-1", "UTC+1"),
        ("gmt-5", "Etc/GMT+5", "UTC-5"),
        ("+02:00", "Etc/GMT-2", "UTC+2"),
        ("UTC +14", "Etc/GMT-14", "UTC+14"),
        ("utc+0", "Etc/UTC", "UTC"),
    ],
)
def test_a_utc_offset_is_a_fixed_zone_with_a_city_that_follows_summer_time(
    typed: str, zone: str, label: str
):
    place = find_place(typed)
    assert place is not None and place.sure and place.fixed
    assert place.zone == zone and offset_label(place.zone) == label


def test_an_offset_with_minutes_suggests_the_city_that_keeps_it():
    assert find_place("UTC+5:30") == Place("Asia/Kolkata", sure=False)
    assert find_place("UTC+15") is None and find_place("GMT-13") is None


@given(st.integers(-12, 14))
def test_every_whole_offset_round_trips(hours: int):
    typed = f"UTC{'+' if hours >= 0 else '-'}{abs(hours)}"
    place = find_place(typed)
    assert place is not None and place.fixed
    offset = datetime(2026, 7, 1, tzinfo=ZoneInfo(place.zone)).utcoffset()
    assert offset == timedelta(hours=hours)
    assert offset_label(place.zone) == ("UTC" if hours == 0 else typed)


@pytest.mark.parametrize("typed", ["hague", "The Hague", "'s-Gravenhage", "Den Haag", "haag"])
def test_the_hague_however_it_is_written(typed: str):
    assert find_place(typed) == Place("Europe/Amsterdam", sure=True)


def test_the_city_suggested_for_an_offset_has_that_offset_today():
    july, january = datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    assert city_for_offset(2, july) == "Europe/Amsterdam"
    assert city_for_offset(2, january) == "Europe/Athens"
    assert city_for_offset(-4, july) == "America/New_York"
    assert find_place("UTC\u22125") is not None  # a typographic minus


def test_gmt_typed_by_a_british_learner_is_said_not_to_follow_summer_time():
    place = find_place("GMT")
    assert place is not None and place.fixed and place.city == "Europe/London"
