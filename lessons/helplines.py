"""Where to turn: help lines by country, found from the learner's IANA time zone.

Bridges is not therapy. In /sos and /help, under the lessons that touch on
harm, and with the answer to a message that speaks of crisis or abuse, the
learner sees whom to call where they live. The table is kept by the authors in
lessons/safety/helplines.yaml, with what each line is for (`Purpose`), so an
answer to "he hit me" can show the abuse lines and the emergency number first.
The time zone is the only hint of the country; it is a guess, so every list
ends with the neutral lines, which are all a learner in another zone gets.
Pure data and lookups after loading: no Telegram.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

import yaml

from lessons.screen import fold

__all__ = [
    "HelplineTable",
    "Helpline",
    "Purpose",
    "country_for",
    "helpline_lines",
    "helpline_table",
    "read_helplines",
]

HELPLINES_FILE = Path(str(files("lessons"))) / "safety" / "helplines.yaml"
LANGUAGES = ("en", "nl")


class Purpose(StrEnum):
    """What a line is for; the checker wants the first three in every country."""

    EMERGENCY = "emergency"  # in danger right now
    SUICIDE = "suicide"  # thoughts of suicide or self-harm
    ABUSE = "abuse"  # being hurt, threatened or controlled
    TALK = "talk"  # someone to talk to
    GRIEF = "grief"  # after a death
    HEALTH = "health"  # urgent, not an emergency


REQUIRED = (Purpose.EMERGENCY, Purpose.SUICIDE, Purpose.ABUSE)
COUNTRY_FIELDS = frozenset({"called", "aliases", "short", "zones", "zone_prefixes", "lines"})


@dataclass(frozen=True)
class Helpline:
    """One service: its name, how to reach it, and what it is for, in each language."""

    name: dict[str, str]
    contact: dict[str, str]
    about: dict[str, str]
    purposes: frozenset[Purpose]

    def line(self, language: str) -> str:
        def pick(words: dict[str, str]) -> str:
            return words.get(language) or words["en"]

        return f"{pick(self.name)}: {pick(self.contact)} — {pick(self.about)}"


@dataclass(frozen=True)
class Country:
    code: str
    called: dict[str, str]  # its name in a sentence, per language: "the Netherlands"
    short: str  # how /sos writes it: its code, or "UK" for GB
    aliases: tuple[str, ...]
    zones: frozenset[str]
    zone_prefixes: tuple[str, ...]
    lines: tuple[Helpline, ...]


@dataclass(frozen=True)
class HelplineTable:
    countries: tuple[Country, ...]
    neutral: tuple[Helpline, ...]

    def country_for(self, timezone: str | None) -> str | None:
        """The country (ISO 3166 code) we have help lines for in this zone, or None."""
        if not timezone:
            return None
        for country in self.countries:
            if timezone in country.zones or timezone.startswith(country.zone_prefixes):
                return country.code
        return None

    def country(self, name: str) -> Country | None:
        """A country by its code, an alias or its name in either language, as people write
        it: "be", "UK", "Nederland", "the Netherlands", "belgie", "Verenigde Staten"."""
        wanted = _bare(name)
        for country in self.countries:
            names = (country.code, *country.aliases, *country.called.values())
            if wanted in {_bare(known) for known in names}:
                return country
        return None

    def lines(
        self,
        code: str | None,
        language: str,
        purposes: Iterable[Purpose] | None = None,
    ) -> tuple[str, ...]:
        """Plain-text lines (escaped by whoever renders them): the country's, then the neutral.

        With `purposes`, only the lines for those, in the order asked (emergency first
        when it is asked first), then the neutral lines for them."""
        country = self.country(code) if code else None
        own = country.lines if country else ()
        # Where the country is known, its own emergency number says it better than
        # "112 in most of Europe" (wrong in the US or Suriname); the rest stays.
        neutral = tuple(
            line for line in self.neutral if not (country and Purpose.EMERGENCY in line.purposes)
        )
        return tuple(
            helpline.line(language)
            for helpline in (*_select(own, purposes), *_select(neutral, purposes))
        )

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(country.code for country in self.countries)


def _bare(name: str) -> str:
    """A country's name folded for comparison, without a leading article."""
    words = fold(name).split()
    if len(words) > 1 and words[0] in ("the", "de", "het"):
        words = words[1:]
    return "".join(words)


def _select(lines: tuple[Helpline, ...], purposes: Iterable[Purpose] | None) -> list[Helpline]:
    if purposes is None:
        return list(lines)
    chosen: list[Helpline] = []
    for purpose in purposes:
        chosen.extend(h for h in lines if purpose in h.purposes and h not in chosen)
    return chosen


def read_helplines(path: Path = HELPLINES_FILE) -> tuple[HelplineTable, list[str]]:
    """The table, and every problem an author must fix (shown by `bridges lessons check`)."""
    problems: list[str] = []
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        return HelplineTable((), ()), [f"{path}: cannot read: {error}"]
    if not isinstance(data, dict) or not isinstance(data.get("countries"), dict):
        return HelplineTable((), ()), [f"{path}: needs `countries` and `neutral`"]
    zones = available_timezones()
    countries = []
    for code, raw in data["countries"].items():
        where = f"{path}: {code}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: needs zones and lines")
            continue
        for field in sorted(set(raw) - COUNTRY_FIELDS):
            problems.append(f"{where}: unknown field {field!r}")
        country_zones = raw.get("zones") or []
        for zone in country_zones:
            if zone not in zones:
                problems.append(f"{where}: {zone!r} is not an IANA time zone")
        lines = _read_lines(where, raw.get("lines"), problems)
        given = {purpose for line in lines for purpose in line.purposes}
        for purpose in REQUIRED:
            if purpose not in given:
                problems.append(f"{where}: no line for {purpose.value}")
        countries.append(
            Country(
                str(code),
                _words(where, "called", raw.get("called"), problems),
                str(raw.get("short") or code),
                tuple(str(alias) for alias in raw.get("aliases") or ()),
                frozenset(country_zones),
                tuple(raw.get("zone_prefixes") or ()),
                tuple(lines),
            )
        )
    neutral = _read_lines(f"{path}: neutral", data.get("neutral"), problems)
    if Purpose.EMERGENCY not in {p for line in neutral for p in line.purposes}:
        problems.append(f"{path}: neutral: needs a line for emergency")
    return HelplineTable(tuple(countries), tuple(neutral)), problems


def _read_lines(where: str, raw: object, problems: list[str]) -> list[Helpline]:
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}: lines: a list of help lines")
        return []
    lines = []
    for number, item in enumerate(raw, start=1):
        here = f"{where} line {number}"
        if not isinstance(item, dict) or set(item) != {"name", "contact", "about", "for"}:
            problems.append(f"{here}: needs exactly name, contact, about and for")
            continue
        words = {
            field: _words(here, field, item[field], problems)
            for field in ("name", "contact", "about")
        }
        raw_purposes = item["for"] if isinstance(item["for"], list) else [item["for"]]
        purposes = set()
        for value in raw_purposes:
            try:
                purposes.add(Purpose(value))
            except ValueError:
                problems.append(
                    f"{here}: for {value!r}: one of {', '.join(p.value for p in Purpose)}"
                )
        lines.append(Helpline(words["name"], words["contact"], words["about"], frozenset(purposes)))
    return lines


def _words(where: str, field: str, raw: object, problems: list[str]) -> dict[str, str]:
    """One text for every language, or one per language (each language given)."""
    if isinstance(raw, (str, int)) and str(raw).strip():
        return {language: str(raw).strip() for language in LANGUAGES}
    if (
        isinstance(raw, dict)
        and set(raw) == set(LANGUAGES)
        and all(isinstance(v, str) and v.strip() for v in raw.values())
    ):
        return {language: str(raw[language]).strip() for language in LANGUAGES}
    problems.append(f"{where}: {field}: one text, or one for each of {', '.join(LANGUAGES)}")
    return {language: "?" for language in LANGUAGES}


@cache
def helpline_table() -> HelplineTable:
    """The table the bot shows; refuses one with problems, as the course loader does."""
    table, problems = read_helplines()
    if problems:
        raise ValueError("problems in the help lines:\n" + "\n".join(problems[:20]))
    return table


def country_for(timezone: str | None) -> str | None:
    """The country (ISO 3166 code) we have help lines for in this zone, or None."""
    return helpline_table().country_for(timezone)


def helpline_lines(
    timezone: str | None, language: str, purposes: Iterable[Purpose] | None = None
) -> tuple[str, ...]:
    """The lines for the learner's zone, the neutral ones last (see `HelplineTable.lines`)."""
    table = helpline_table()
    return table.lines(table.country_for(timezone), language, purposes)
