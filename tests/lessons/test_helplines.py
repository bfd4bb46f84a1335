"""Help lines by time zone: the country's own services, the neutral line everywhere."""

from __future__ import annotations

import pytest

from lessons.helplines import country_for, helpline_lines


@pytest.mark.parametrize(
    ("zone", "country"),
    [
        ("Europe/Amsterdam", "NL"),
        ("Europe/Brussels", "BE"),
        ("Europe/London", "GB"),
        ("America/New_York", "US"),
        ("America/Chicago", "US"),
        ("America/Denver", "US"),
        ("America/Los_Angeles", "US"),
        ("America/Phoenix", "US"),
        ("America/Anchorage", "US"),
        ("Pacific/Honolulu", "US"),
        ("America/Indiana/Knox", "US"),
        ("America/Toronto", None),
        ("America/Sao_Paulo", None),
        ("Asia/Tokyo", None),
        ("Not/A_Zone", None),
        (None, None),
        ("", None),
    ],
)
def test_country_from_zone(zone: str | None, country: str | None):
    assert country_for(zone) == country


def test_the_netherlands_gets_113_and_veilig_thuis_then_the_neutral_line():
    lines = helpline_lines("Europe/Amsterdam", "nl")
    assert lines[0].startswith("113 Zelfmoordpreventie: 113 of 0800-0113")
    assert lines[1].startswith("Veilig Thuis: 0800-2000")
    assert "alarmnummer" in lines[-1]


def test_belgium_uk_and_us_lines():
    assert [line.split(":")[0] for line in helpline_lines("Europe/Brussels", "en")[:2]] == [
        "Zelfmoordlijn",
        "Tele-Onthaal",
    ]
    assert "116 123" in helpline_lines("Europe/London", "en")[0]
    assert "988" in helpline_lines("America/Chicago", "nl")[0]


@pytest.mark.parametrize("language", ["en", "nl", "de"])
def test_elsewhere_only_the_neutral_line(language: str):
    lines = helpline_lines("Asia/Tokyo", language)
    assert len(lines) == 1
    assert "doctor" in lines[0] or "huisarts" in lines[0]
