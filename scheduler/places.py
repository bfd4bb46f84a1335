"""Time zones as people say them: "amsterdam", "Den Haag", "brussel", "new york", a location.

Pure lookups, no I/O beyond the zone database and timezonefinder's bundled
data. A typed name is tried as an IANA zone, then as a city or country we
know in English or Dutch, then as the city part of any zone in the database
("kolkata", "sao paulo"). Failing those, difflib offers the one closest name
as a "did you mean" suggestion, never as an answer.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

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
    """What a typed place name came to: a zone, and whether it is sure or only a suggestion."""

    zone: str
    sure: bool


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
        return Place(resolve_zone(text), sure=True)
    except UnknownTimeZone:
        pass
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
