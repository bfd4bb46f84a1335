"""Where to turn: help lines by country, found from the learner's IANA time zone.

Bridges is not therapy. On the first day, the last day, the forgiveness days
that touch on harm, and in /help, the learner sees whom to call where they
live. The time zone is the only hint we have of that place; it is a guess, so
every list ends with the neutral line, which is also all a learner with an
unknown zone gets. Pure data and one lookup: no I/O, no Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Helpline", "country_for", "helpline_lines", "helplines_for"]


@dataclass(frozen=True)
class Helpline:
    """One service: its name, how to reach it, and what it is for in each language."""

    name: str
    contact: dict[str, str]
    about: dict[str, str]

    def line(self, language: str) -> str:
        contact = self.contact.get(language) or self.contact["en"]
        about = self.about.get(language) or self.about["en"]
        return f"{self.name}: {contact} ({about})"


NEUTRAL = {
    "en": "Anywhere: your local emergency number, or a doctor you trust.",
    "nl": "Overal: het alarmnummer waar je bent, of een huisarts die je vertrouwt.",
}

LINES: dict[str, tuple[Helpline, ...]] = {
    "NL": (
        Helpline(
            "113 Zelfmoordpreventie",
            {"en": "113 or 0800-0113", "nl": "113 of 0800-0113"},
            {
                "en": "if you think about suicide, day and night",
                "nl": "als je aan zelfdoding denkt, dag en nacht",
            },
        ),
        Helpline(
            "Veilig Thuis",
            {"en": "0800-2000"},
            {"en": "domestic violence or abuse", "nl": "bij huiselijk geweld of mishandeling"},
        ),
    ),
    "BE": (
        Helpline(
            "Zelfmoordlijn",
            {"en": "1813"},
            {"en": "if you think about suicide", "nl": "als je aan zelfdoding denkt"},
        ),
        Helpline(
            "Tele-Onthaal",
            {"en": "106"},
            {
                "en": "someone to talk to, day and night",
                "nl": "om met iemand te praten, dag en nacht",
            },
        ),
    ),
    "GB": (
        Helpline(
            "Samaritans",
            {"en": "116 123"},
            {"en": "free, day and night", "nl": "gratis, dag en nacht"},
        ),
    ),
    "US": (
        Helpline(
            "988 Suicide & Crisis Lifeline",
            {"en": "call or text 988", "nl": "bel of sms 988"},
            {"en": "day and night", "nl": "dag en nacht"},
        ),
    ),
}

_US_ZONES = frozenset(
    {
        "America/New_York",
        "America/Detroit",
        "America/Chicago",
        "America/Denver",
        "America/Boise",
        "America/Phoenix",
        "America/Los_Angeles",
        "America/Anchorage",
        "America/Juneau",
        "America/Sitka",
        "America/Metlakatla",
        "America/Yakutat",
        "America/Nome",
        "America/Adak",
        "America/Menominee",
        "America/Indianapolis",
        "America/Louisville",
        "America/Fort_Wayne",
        "America/Knox_IN",
        "America/Shiprock",
        "Pacific/Honolulu",
        "Pacific/Johnston",
        "Navajo",
        "US/Eastern",
        "US/Central",
        "US/Mountain",
        "US/Pacific",
        "US/Arizona",
        "US/Alaska",
        "US/Hawaii",
        "US/Aleutian",
        "US/Michigan",
        "US/East-Indiana",
        "US/Indiana-Starke",
    }
)
# Whole families of US zones: America/Indiana/Knox, America/Kentucky/Monticello, …
_US_PREFIXES = ("America/Indiana/", "America/Kentucky/", "America/North_Dakota/")

_ZONES = {
    "Europe/Amsterdam": "NL",
    "Europe/Brussels": "BE",
    "Europe/London": "GB",
    "Europe/Belfast": "GB",
    "GB": "GB",
    "GB-Eire": "GB",
}


def country_for(timezone: str | None) -> str | None:
    """The country (ISO 3166 code) we have help lines for in this zone, or None."""
    if not timezone:
        return None
    if timezone in _ZONES:
        return _ZONES[timezone]
    if timezone in _US_ZONES or timezone.startswith(_US_PREFIXES):
        return "US"
    return None


def helplines_for(timezone: str | None) -> tuple[Helpline, ...]:
    """The services for the learner's country; empty where we know none (the neutral line)."""
    country = country_for(timezone)
    return LINES.get(country, ()) if country else ()


def helpline_lines(timezone: str | None, language: str) -> tuple[str, ...]:
    """Plain-text lines to show (escaped by whoever renders them), the neutral one last."""
    lines = [helpline.line(language) for helpline in helplines_for(timezone)]
    lines.append(NEUTRAL.get(language) or NEUTRAL["en"])
    return tuple(lines)
