"""Button data: short, versioned strings that stay valid across processes and restarts.

Telegram allows 64 bytes. Everything is packed and parsed here; `parse`
returns None for anything it does not recognise (stale versions, forged data),
and handlers answer that kindly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lessons.telegram_html import MAX_CALLBACK_DATA_BYTES

VERSION = "v1"
_DELIVERY_ID = re.compile(r"[0-9]{1,12}")

# Actions
ANSWER = "a"  # a check-in answer: a:<delivery id>:<value>
LANGUAGE = "l"  # l:<en|nl>
ZONE = "z"  # z:<IANA zone>
ZONE_OTHER = "zo"  # "another zone…": ask to type it
TIME = "t"  # t:<HHMM>
FIRST_NOW = "fn"  # onboarding's "send the first lesson now"
FIRST_LATER = "fl"
DELETE_YES = "dy"
DELETE_NO = "dn"
SNOOZE = "s"  # "later" on a lesson: s:<delivery id>:<h|e>
CHECKIN_TIME = "r"  # the evening check-in's time: r:<HHMM|off>
PAIR_LINK = "pl"  # "Link with Sam" under an invite: pl:<code> (checked again on the tap)
PAIR_NOT_NOW = "pn"
PAIR_KEEP = "pk"  # "Keep this from Sam" after an answer: pk:<delivery id>
PAIR_ALIGN = "pa"  # where a pair goes on from: pa:<ahead|start|stay> (checked on the tap)


@dataclass(frozen=True)
class Callback:
    action: str
    args: tuple[str, ...] = ()


def pack(action: str, *args: str) -> str:
    data = ":".join((VERSION, action, *args))
    if len(data.encode()) > MAX_CALLBACK_DATA_BYTES:
        raise ValueError(f"button data over {MAX_CALLBACK_DATA_BYTES} bytes: {data!r}")
    return data


def pattern(*actions: str) -> re.Pattern[str]:
    """The CallbackQueryHandler pattern for one flow's actions (arguments checked by `parse`)."""
    return re.compile(rf"^{VERSION}:(?:{'|'.join(map(re.escape, actions))})(?::|$)")


def answer_data(delivery_id: int, value: str) -> str:
    return pack(ANSWER, str(delivery_id), value)


def snooze_data(delivery_id: int, choice: str) -> str:
    return pack(SNOOZE, str(delivery_id), choice)


def parse(data: str | None) -> Callback | None:
    """The callback in `data`, or None if it is not one we could have sent."""
    if not data or len(data.encode()) > MAX_CALLBACK_DATA_BYTES:
        return None
    parts = data.split(":")
    if len(parts) < 2 or parts[0] != VERSION:
        return None
    action, args = parts[1], tuple(parts[2:])
    expected = {
        ANSWER: 2,
        LANGUAGE: 1,
        ZONE: 1,
        ZONE_OTHER: 0,
        TIME: 1,
        FIRST_NOW: 0,
        FIRST_LATER: 0,
        DELETE_YES: 0,
        DELETE_NO: 0,
        SNOOZE: 2,
        CHECKIN_TIME: 1,
        PAIR_LINK: 1,
        PAIR_NOT_NOW: 0,
        PAIR_KEEP: 1,
        PAIR_ALIGN: 1,
    }.get(action)
    if expected is None or len(args) != expected:
        return None
    if action in (ANSWER, SNOOZE, PAIR_KEEP) and not _DELIVERY_ID.fullmatch(args[0]):
        return None
    if action == PAIR_ALIGN and args[0] not in ("ahead", "start", "stay"):
        return None
    return Callback(action, args)
