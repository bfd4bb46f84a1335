"""Time zones as people say them: "amsterdam", "Den Haag", "brussel", "new york", "UTC+1",
a location.

Pure lookups, no I/O beyond the zone database and timezonefinder's bundled
data. A typed name is tried as an IANA zone, then as a city or country we
know in English or Dutch, then as the city part of any zone in the database
("kolkata", "sao paulo"). Failing those, difflib offers the one closest name
as a "did you mean" suggestion, never as an answer.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.clock import system_clock
from scheduler.due import UnknownTimeZone, _zone_names, resolve_zone

# How alike a typo must be to be offered (difflib's ratio, 0-1).
SUGGEST_CUTOFF = 0.75

# Old alias areas of the zone database; their canonical twins stand for them.
LEGACY_AREAS = ("Etc/", "SystemV/", "US/", "Canada/", "Brazil/", "Mexico/", "Chile/")

# Cities and countries in English and Dutch whose zone is not spelled out by the
# database's own city names. Countries with several zones are left out on purpose.
PLACES: dict[str, str] = {
    # Nederland / the Netherlands and the Caribbean parts of the kingdom
    "nederland": "Europe/Amsterdam",
    "netherlands": "Europe/Amsterdam",
    "the netherlands": "Europe/Amsterdam",
    "holland": "Europe/Amsterdam",
    "den haag": "Europe/Amsterdam",
    "the hague": "Europe/Amsterdam",
    "hague": "Europe/Amsterdam",
    "haag": "Europe/Amsterdam",
    "s gravenhage": "Europe/Amsterdam",
    "rotterdam": "Europe/Amsterdam",
    "utrecht": "Europe/Amsterdam",
    "eindhoven": "Europe/Amsterdam",
    "groningen": "Europe/Amsterdam",
    "leiden": "Europe/Amsterdam",
    "haarlem": "Europe/Amsterdam",
    "nijmegen": "Europe/Amsterdam",
    "maastricht": "Europe/Amsterdam",
    "zwolle": "Europe/Amsterdam",
    "arnhem": "Europe/Amsterdam",
    "tilburg": "Europe/Amsterdam",
    "breda": "Europe/Amsterdam",
    "curacao": "America/Curacao",
    "willemstad": "America/Curacao",
    "bonaire": "America/Kralendijk",
    "sint maarten": "America/Lower_Princes",
    "suriname": "America/Paramaribo",
    # België / Belgium
    "belgie": "Europe/Brussels",
    "belgium": "Europe/Brussels",
    "brussel": "Europe/Brussels",
    "bruxelles": "Europe/Brussels",
    "antwerpen": "Europe/Brussels",
    "antwerp": "Europe/Brussels",
    "gent": "Europe/Brussels",
    "namen": "Europe/Brussels",
    "namur": "Europe/Brussels",
    "charleroi": "Europe/Brussels",
    "hasselt": "Europe/Brussels",
    "mechelen": "Europe/Brussels",
    "vlaanderen": "Europe/Brussels",
    "flanders": "Europe/Brussels",
    "wallonie": "Europe/Brussels",
    "wallonia": "Europe/Brussels",
    "ghent": "Europe/Brussels",
    "brugge": "Europe/Brussels",
    "bruges": "Europe/Brussels",
    "leuven": "Europe/Brussels",
    "luik": "Europe/Brussels",
    "liege": "Europe/Brussels",
    # Elsewhere in Europe
    "londen": "Europe/London",
    "england": "Europe/London",
    "engeland": "Europe/London",
    "united kingdom": "Europe/London",
    "verenigd koninkrijk": "Europe/London",
    "uk": "Europe/London",
    "scotland": "Europe/London",
    "schotland": "Europe/London",
    "edinburgh": "Europe/London",
    "manchester": "Europe/London",
    "ireland": "Europe/Dublin",
    "ierland": "Europe/Dublin",
    "parijs": "Europe/Paris",
    "france": "Europe/Paris",
    "frankrijk": "Europe/Paris",
    "germany": "Europe/Berlin",
    "duitsland": "Europe/Berlin",
    "berlijn": "Europe/Berlin",
    "keulen": "Europe/Berlin",
    "cologne": "Europe/Berlin",
    "munchen": "Europe/Berlin",
    "munich": "Europe/Berlin",
    "hamburg": "Europe/Berlin",
    "luxembourg": "Europe/Luxembourg",
    "luxemburg": "Europe/Luxembourg",
    "spain": "Europe/Madrid",
    "spanje": "Europe/Madrid",
    "barcelona": "Europe/Madrid",
    "portugal": "Europe/Lisbon",
    "lissabon": "Europe/Lisbon",
    "italy": "Europe/Rome",
    "italie": "Europe/Rome",
    "milaan": "Europe/Rome",
    "milan": "Europe/Rome",
    "switzerland": "Europe/Zurich",
    "zwitserland": "Europe/Zurich",
    "austria": "Europe/Vienna",
    "oostenrijk": "Europe/Vienna",
    "wenen": "Europe/Vienna",
    "poland": "Europe/Warsaw",
    "polen": "Europe/Warsaw",
    "warschau": "Europe/Warsaw",
    "denmark": "Europe/Copenhagen",
    "denemarken": "Europe/Copenhagen",
    "kopenhagen": "Europe/Copenhagen",
    "sweden": "Europe/Stockholm",
    "zweden": "Europe/Stockholm",
    "norway": "Europe/Oslo",
    "noorwegen": "Europe/Oslo",
    "finland": "Europe/Helsinki",
    "greece": "Europe/Athens",
    "griekenland": "Europe/Athens",
    "athene": "Europe/Athens",
    "turkey": "Europe/Istanbul",
    "turkije": "Europe/Istanbul",
    "morocco": "Africa/Casablanca",
    "marokko": "Africa/Casablanca",
    # The United Kingdom and Ireland, beyond the zone database's London, Belfast, Dublin
    "leeds": "Europe/London",
    "birmingham": "Europe/London",
    "liverpool": "Europe/London",
    "bristol": "Europe/London",
    "sheffield": "Europe/London",
    "newcastle": "Europe/London",
    "nottingham": "Europe/London",
    "glasgow": "Europe/London",
    "aberdeen": "Europe/London",
    "cardiff": "Europe/London",
    "swansea": "Europe/London",
    "derry": "Europe/London",
    "cork": "Europe/Dublin",
    "galway": "Europe/Dublin",
    "limerick": "Europe/Dublin",
    "waterford": "Europe/Dublin",
    "nickerie": "America/Paramaribo",
    # Further away (single-zone countries and big cities)
    "india": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "nepal": "Asia/Kathmandu",
    "japan": "Asia/Tokyo",
    "tokio": "Asia/Tokyo",
    "china": "Asia/Shanghai",
    "beijing": "Asia/Shanghai",
    "peking": "Asia/Shanghai",
    "south korea": "Asia/Seoul",
    "zuid korea": "Asia/Seoul",
    "singapore": "Asia/Singapore",
    "philippines": "Asia/Manila",
    "filipijnen": "Asia/Manila",
    "thailand": "Asia/Bangkok",
    "vietnam": "Asia/Ho_Chi_Minh",
    "israel": "Asia/Jerusalem",
    "egypt": "Africa/Cairo",
    "egypte": "Africa/Cairo",
    "south africa": "Africa/Johannesburg",
    "zuid afrika": "Africa/Johannesburg",
    "kaapstad": "Africa/Johannesburg",
    "cape town": "Africa/Johannesburg",
    "nigeria": "Africa/Lagos",
    "kenya": "Africa/Nairobi",
    "samoa": "Pacific/Apia",
    "new zealand": "Pacific/Auckland",
    "nieuw zeeland": "Pacific/Auckland",
    "washington": "America/New_York",
    "boston": "America/New_York",
    "miami": "America/New_York",
    "san francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "montreal": "America/Toronto",
    "rio de janeiro": "America/Sao_Paulo",
    "colombia": "America/Bogota",
    "peru": "America/Lima",
}


@dataclass(frozen=True)
class Place:
    """What a typed place name came to: a zone, and whether it is sure or only a suggestion.

    `fixed`: a UTC offset ("UTC+1", "GMT-5"), which never moves for summer time; the
    bot says so and suggests a city (`city`, a zone that does move) where it knows one."""

    zone: str
    sure: bool
    fixed: bool = False
    city: str | None = None


_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?:[:.]?(\d{2}))?$")
# Cities to suggest for a typed offset: the one whose offset is that one *today* (in
# July UTC+2 is Amsterdam, in January Athens), so the suggestion keeps the learner's
# times now and follows summer time from here on.
OFFSET_CITIES = (
    "Europe/London",
    "Europe/Amsterdam",
    "Europe/Athens",
    "America/Paramaribo",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Asia/Shanghai",
    "Asia/Tokyo",
)
# Zones that never move for summer time although they are names, not offsets.
FIXED_NAMES = frozenset({"UTC", "GMT", "GMT+0", "GMT-0", "GMT0", "UCT", "Zulu", "Universal"})
# Offsets with minutes have no fixed zone in the database: the city that keeps them.
HALF_OFFSETS = {
    (5, 30): "Asia/Kolkata",
    (5, 45): "Asia/Kathmandu",
    (3, 30): "Asia/Tehran",
    (9, 30): "Australia/Darwin",
    (-3, -30): "America/St_Johns",
}


def fixed_offset(text: str) -> Place | None:
    """ "UTC+1", "GMT -5", "+02:00", "utc+5:30": a fixed-offset zone (Etc/GMT-1 is UTC+1,
    the database's signs are reversed), or a city's zone for an offset with minutes."""
    typed = text.lower().replace("\u2212", "-").replace("\u2013", "-")  # − and – as -
    match = _OFFSET.match(" ".join(typed.split()))
    if match is None:
        return None
    sign = -1 if match.group(1) == "-" else 1
    hours, minutes = int(match.group(2)), int(match.group(3) or 0)
    if minutes:
        city = HALF_OFFSETS.get((sign * hours, sign * minutes))
        return Place(city, sure=False) if city else None
    if hours > 14 or (sign < 0 and hours > 12):
        return None
    if hours == 0:
        return Place("Etc/UTC", sure=True, fixed=True, city=city_for_offset(0))
    zone = f"Etc/GMT{'-' if sign > 0 else '+'}{hours}"
    return Place(zone, sure=True, fixed=True, city=city_for_offset(sign * hours))


def city_for_offset(hours: int, now: datetime | None = None) -> str | None:
    """A city whose clock is `hours` ahead of UTC today (behind when negative), or None."""
    moment = now or system_clock()  # the one place that reads the time (scheduler/clock.py)
    for city in OFFSET_CITIES:
        if moment.astimezone(ZoneInfo(city)).utcoffset() == timedelta(hours=hours):
            return city
    return None


def offset_label(zone: str) -> str:
    """How a person reads a fixed-offset zone: Etc/GMT-1 is "UTC+1"; any other zone as is."""
    match = re.fullmatch(r"Etc/GMT([+-])(\d{1,2})", zone)
    if match is None:
        return "UTC" if zone in ("Etc/UTC", "Etc/GMT", "UTC") else zone
    return f"UTC{'-' if match.group(1) == '+' else '+'}{match.group(2)}"


def _key(text: str) -> str:
    """Lower case, no accents, apostrophes, hyphens, dots or underscores: `'s-Gravenhage` ->
    `s gravenhage`, `België` -> `belgie`, `São_Paulo` -> `sao paulo`."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    for mark in "'’`-_./,":
        plain = plain.replace(mark, " ")
    return " ".join(plain.lower().split())


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """Every name we know -> its zone: zone city parts first, our own places on top."""
    names: dict[str, str] = {}
    for canonical in sorted(_zone_names().values()):
        if "/" not in canonical or canonical.startswith(LEGACY_AREAS):
            continue
        names.setdefault(_key(canonical.rsplit("/", 1)[1]), canonical)
    names.update({_key(name): zone for name, zone in PLACES.items()})
    return names


def find_place(text: str) -> Place | None:
    """The zone a learner meant by `text`: sure, a "did you mean" suggestion, or None."""
    try:
        zone = resolve_zone(text)  # an IANA name, "GMT+0" and "Etc/GMT-1" included
    except UnknownTimeZone:
        pass
    else:
        if zone in FIXED_NAMES or zone.startswith("Etc/"):  # never moves for summer time
            shift = datetime(2026, 1, 1, tzinfo=ZoneInfo(zone)).utcoffset() or timedelta(0)
            hours = int(shift.total_seconds() // 3600)
            return Place(zone, sure=True, fixed=True, city=city_for_offset(hours))
        return Place(zone, sure=True)
    if (typed_offset := fixed_offset(text)) is not None:
        return typed_offset
    key = _key(text)
    if not key:
        return None
    names = _names()
    if key in names:
        return Place(names[key], sure=True)
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=SUGGEST_CUTOFF)
    return Place(names[close[0]], sure=False) if close else None


@lru_cache(maxsize=1)
def _finder() -> Any:
    from timezonefinder import TimezoneFinder  # its data loads once, on first use

    return TimezoneFinder(in_memory=True)  # no file handles left open


def zone_at(latitude: float, longitude: float) -> str | None:
    """The IANA zone of a shared location, offline; None at sea or for a zone we cannot use."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    found = _finder().timezone_at(lng=longitude, lat=latitude)
    if not isinstance(found, str):
        return None
    try:
        return resolve_zone(found)
    except UnknownTimeZone:
        return None
