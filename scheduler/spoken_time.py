"""Clock times as people type them, in English and Dutch: "7pm", "19.30", "19u30",
"7h30", "half acht", "kwart over zeven", "8 uur 's avonds", "noon", "middernacht".

Pure, no I/O. `read_time` gives every wall time a text can mean: one when it is
clear, two when a learner could mean the morning or the evening ("7", "half
acht", "half past seven") so the bot can ask "did you mean 07:00 or 19:00?",
none when it is not a time. Both languages' forms are read whatever the
learner's language, since people mix them.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import time

__all__ = ["read_time"]

NUMBERS = {
    word: number
    for number, words in enumerate(
        (
            ("zero", "nul"),
            ("one", "een", "één"),
            ("two", "twee"),
            ("three", "drie"),
            ("four", "vier"),
            ("five", "vijf"),
            ("six", "zes"),
            ("seven", "zeven"),
            ("eight", "acht"),
            ("nine", "negen"),
            ("ten", "tien"),
            ("eleven", "elf"),
            ("twelve", "twaalf"),
        )
    )
    for word in words
}
# Words for the part of the day: they settle whether "7" is the morning or the evening.
MORNING = ("am", "a m", "in the morning", "s ochtends", "s morgens", "ochtend", "morgens")
# After noon: "12 pm" and "12 uur 's middags" are noon.
AFTERNOON = ("pm", "p m", "in the afternoon", "s middags", "middags")
# The evening: "12 tonight" and "12 uur 's avonds" are midnight.
EVENING = ("in the evening", "tonight", "s avonds", "avond", "avonds", "vanavond")
# "2 uur 's nachts" is the small hours, "11 at night" the late evening, "12 at night" midnight.
NIGHT = ("s nachts", "nachts", "at night", "in the night")
ENGLISH_NUMBERS = frozenset(
    {
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
    }
)
NAMED = {"noon": time(12), "midday": time(12), "midnight": time(0), "middernacht": time(0)}
_NUMBER = r"(\d{1,2}|[a-z]+)"
_CLOCK = re.compile(r"^(\d{1,2})(?:\s*[:.hu]\s*(\d{2}))?$")  # 19:30 19.30 19h30 19u30 7u 19
_HOUR_WORD = re.compile(r"^(\d{1,2})\s*(?:uur|u|h|o clock|oclock)$")  # "7 uur", "7 o'clock"
_HALF = re.compile(rf"^half\s+{_NUMBER}$")  # Dutch "half acht" 7:30; British "half eight" 8:30
_HALF_PAST = re.compile(rf"^half\s+past\s+{_NUMBER}$")  # English: "half past seven" is 7:30
_QUARTER = re.compile(rf"^(?:kwart|quarter|a quarter)\s+(over|past|voor|to)\s+{_NUMBER}$")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    bare = re.sub(r"['’‘`´]", "", bare)
    bare = re.sub(r"(?<![a-z])([ap])\.\s?m\b\.?", r"\1m", bare)  # p.m. -> pm
    bare = re.sub(r"[^a-z0-9:.]+", " ", bare)
    return " ".join(bare.split()).strip(" .")


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return NUMBERS.get(word)


def _part_of_day(text: str) -> tuple[str, str | None]:
    """The text without its part-of-day words, and which part they named."""
    parts = (("night", NIGHT), ("evening", EVENING), ("afternoon", AFTERNOON), ("morning", MORNING))
    for part, words in parts:
        for phrase in sorted(words, key=len, reverse=True):
            for pattern in (rf"(?<=\d)\s*{phrase}$", rf"\s+{phrase}$", rf"^{phrase}\s+"):
                stripped = re.sub(pattern, "", text)
                if stripped != text:
                    return stripped.strip(), part
    return text, None


def _clock(text: str, language: str) -> tuple[int, int, bool] | None:
    """Hour, minute, and whether it was written as a 24-hour clock with minutes
    ("19:30", "07u30", "7.30": meant as written) rather than a bare or spoken hour.

    "half 8" is 7:30 to a Dutch speaker and 8:30 to a British one: `language` decides
    for digits; a number word says its own language ("half acht", "half eight")."""
    text = re.sub(r"^(?:om|at|rond|around)\s+", "", text)  # "om 8 uur", "at 7"
    if re.search(r"\d[:.]\d", text):
        text = re.sub(r"\s*(?:uur|u|h)$", "", text)  # "20.00 uur"
    if (match := _CLOCK.match(text)) is not None:
        return int(match.group(1)), int(match.group(2) or 0), match.group(2) is not None
    if (match := _HOUR_WORD.match(text)) is not None:
        return int(match.group(1)), 0, False
    if (hour := _number(text.removesuffix(" uur").removesuffix(" o clock"))) is not None:
        return hour, 0, False
    if (match := _HALF.match(text)) is not None and (hour := _number(match.group(1))):
        word = match.group(1)
        british = word in ENGLISH_NUMBERS or (word.isdigit() and language == "en")
        return (hour if british else (hour - 1) or 12), 30, False  # "half een": 12:30
    if (match := _HALF_PAST.match(text)) is not None:
        hour = _number(match.group(1))
        return None if hour is None else (hour, 30, False)
    if (match := _QUARTER.match(text)) is not None and (hour := _number(match.group(2))):
        if match.group(1) in ("over", "past"):
            return hour, 15, False
        return (hour - 1) or 12, 45, False
    return None


def read_time(text: str, language: str = "nl") -> tuple[time, ...]:
    """Every wall time `text` can mean: one (clear), two (morning or evening), or none.

    `language` (the learner's) only decides "half 8" (see `_clock`)."""
    folded = _fold(text)
    if folded in NAMED:
        return (NAMED[folded],)
    rest, part = _part_of_day(folded)
    found = _clock(rest, language)
    if found is None:
        return ()
    hour, minute, exact = found
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return ()
    if part is not None:
        if hour > 12:  # "19 uur 's avonds" says it twice; "19 am" is no time at all
            return (time(hour, minute),) if part in ("evening", "afternoon") else ()
        if hour == 0:
            return (time(0, minute),) if part in ("morning", "night") else ()
        if part == "afternoon":
            return (time(hour % 12 + 12, minute),)
        if part == "evening":  # "12 uur 's avonds", "12 tonight": midnight
            return (time(0 if hour == 12 else hour + 12, minute),)
        if part == "night":  # 12 at night is midnight, 1-5 the small hours, 6-11 the evening
            return (time(0 if hour == 12 else hour + (12 if hour >= 6 else 0), minute),)
        return (time(hour % 12, minute),)  # morning: 12 am is midnight
    if exact or hour == 0 or hour > 12:
        return (time(hour, minute),)
    if hour == 12:
        return (time(12, minute), time(0, minute))
    return (time(hour, minute), time(hour + 12, minute))
