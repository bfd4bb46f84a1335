"""Help lines by time zone: the country's own services, for what each is for, and the
neutral lines everywhere; the table the authors keep is complete and checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from lessons.helplines import (
    HELPLINES_FILE,
    REQUIRED,
    Purpose,
    country_for,
    helpline_lines,
    helpline_table,
    read_helplines,
)


@pytest.mark.parametrize(
    ("zone", "country"),
    [
        ("Europe/Amsterdam", "NL"),
        ("Europe/Brussels", "BE"),
        ("Europe/London", "GB"),
        ("Europe/Belfast", "GB"),
        ("Europe/Dublin", "IE"),
        ("America/Paramaribo", "SR"),
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


def test_the_table_covers_the_countries_the_bot_offers_and_every_required_purpose():
    table, problems = read_helplines()
    assert problems == []
    assert set(table.codes) == {"NL", "BE", "GB", "IE", "SR", "US"}
    for country in table.countries:
        given = {purpose for line in country.lines for purpose in line.purposes}
        assert set(REQUIRED) <= given, country.code
        for line in country.lines:
            for language in ("en", "nl"):
                assert line.about[language] and line.contact[language], (country.code, line)


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        (
            "Europe/Amsterdam",
            [
                "Alarmnummer: 112",
                "113 Zelfmoordpreventie",
                "Veilig Thuis: 0800-2000",
                "De Luisterlijn: 088 0767 000",
            ],
        ),
        (
            "Europe/Brussels",
            ["Noodnummer: 112", "Zelfmoordlijn: 1813", "1712: 1712", "Tele-Onthaal: 106"],
        ),
        (
            "Europe/London",
            [
                "999",
                "NHS 111",
                "Samaritans: 116 123",
                "National Domestic Abuse Helpline: 0808 2000 247",
                "Men's Advice Line",
                "Cruse Bereavement Support",
            ],
        ),
        (
            "Europe/Dublin",
            ["112 of 999", "Samaritans", "Pieta", "Women's Aid: 1800 341 900", "Men's Aid"],
        ),
        ("America/Paramaribo", ["115", "114"]),
        ("America/Chicago", ["911", "bel of sms 988", "1-800-799-7233"]),
    ],
)
def test_each_country_names_the_lines_readers_asked_for(zone: str, expected: list[str]):
    shown = "\n".join(helpline_lines(zone, "nl"))
    for words in expected:
        assert words in shown, words


def test_purposes_pick_and_order_the_lines_with_the_neutral_ones_last():
    lines = helpline_lines("Europe/London", "en", (Purpose.EMERGENCY, Purpose.ABUSE))
    assert lines[0].startswith("Emergency: 999")
    assert any("National Domestic Abuse Helpline" in line for line in lines)
    assert not any("Cruse" in line or "NHS 111" in line for line in lines)
    assert lines[-1].startswith("Find A Helpline")


@pytest.mark.parametrize("language", ["en", "nl", "de"])
def test_elsewhere_only_the_neutral_lines(language: str):
    lines = helpline_lines("Asia/Tokyo", language)
    assert len(lines) == 2
    assert "doctor" in lines[0] or "huisarts" in lines[0]
    assert "findahelpline.com" in lines[1]


def test_a_country_by_code_or_alias_in_any_case():
    table = helpline_table()
    assert table.country("uk") is table.country("GB")
    assert table.country(" be ") is not None
    assert table.country("XX") is None


def test_the_checker_names_a_country_without_an_abuse_line_and_a_wrong_zone(tmp_path: Path):
    text = HELPLINES_FILE.read_text(encoding="utf-8")
    broken = (
        text.replace("for: [abuse]", "for: [talk]")
        .replace("zones: [America/Paramaribo]", "zones: [America/Atlantis]")
        .replace("    zones: [Europe/Dublin, Eire]", "    zone: [Europe/Dublin, Eire]")
    )
    path = tmp_path / "helplines.yaml"
    path.write_text(broken, encoding="utf-8")
    _table, problems = read_helplines(path)
    assert any("NL: no line for abuse" in problem for problem in problems)
    assert any("'America/Atlantis' is not an IANA time zone" in p for p in problems)
    assert any("IE: unknown field 'zone'" in p for p in problems)
