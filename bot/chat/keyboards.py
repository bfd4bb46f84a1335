"""Inline keyboards, built from localized labels and packed button data."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.chat import callbacks
from bot.chat.texts import texts
from lessons.render import RenderedLesson
from scheduler.checkin_time import EVENING, HOUR
from scheduler.places import offset_label

# Offered as buttons during onboarding; any other IANA zone can be typed.
COMMON_ZONES = (
    ("Amsterdam", "Europe/Amsterdam"),
    ("Brussels", "Europe/Brussels"),
    ("London", "Europe/London"),
    ("New York", "America/New_York"),
    ("Los Angeles", "America/Los_Angeles"),
    ("São Paulo", "America/Sao_Paulo"),
    ("Kolkata", "Asia/Kolkata"),
    ("Tokyo", "Asia/Tokyo"),
    ("Sydney", "Australia/Sydney"),
)
# Where a city has its own name in Dutch, the Dutch buttons use it.
DUTCH_CITY_NAMES = {"Brussels": "Brussel", "London": "Londen"}
COMMON_TIMES = ("07:00", "08:00", "09:00", "12:30", "18:00", "20:00", "21:30")
# Evening check-in times offered at the end of onboarding and by a bare /reflect.
CHECKIN_TIMES = ("19:00", "20:00", "21:00", "22:00")


def _rows(buttons: list[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def languages(preferred: str | None = None) -> InlineKeyboardMarkup:
    """Dutch and English; the learner's Telegram language first, so one tap confirms it."""
    buttons = {
        "nl": InlineKeyboardButton("🇳🇱 Nederlands", callback_data=callbacks.pack("l", "nl")),
        "en": InlineKeyboardButton("🇬🇧 English", callback_data=callbacks.pack("l", "en")),
    }
    order = ["nl", "en"]
    if preferred in buttons:
        order.sort(key=lambda language: language != preferred)
    return InlineKeyboardMarkup([[buttons[language] for language in order]])


def zone_suggestion(language: str, zone: str) -> InlineKeyboardMarkup:
    """ "Did you mean …?": one button that takes the suggested zone."""
    label = texts().get(language, "button-zone-yes", zone=offset_label(zone))
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=callbacks.pack(callbacks.ZONE, zone))]]
    )


def zones(language: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            DUTCH_CITY_NAMES.get(label, label) if language == "nl" else label,
            callback_data=callbacks.pack(callbacks.ZONE, zone),
        )
        for label, zone in COMMON_ZONES
    ]
    rows = _rows(buttons, 3)
    rows.append(
        [
            InlineKeyboardButton(
                texts().get(language, "button-other-zone"),
                callback_data=callbacks.pack(callbacks.ZONE_OTHER),
            )
        ]
    )
    return InlineKeyboardMarkup(rows)


def times() -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            value, callback_data=callbacks.pack(callbacks.TIME, value.replace(":", ""))
        )
        for value in COMMON_TIMES
    ]
    return InlineKeyboardMarkup(_rows(buttons, 4))


def time_guesses(action: str, values: list[str]) -> InlineKeyboardMarkup:
    """ "Did you mean 07:00 or 19:00?": one button per time, carrying `action`'s data."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    value, callback_data=callbacks.pack(action, value.replace(":", ""))
                )
                for value in values
            ]
        ]
    )


def _choices(language: str, *choices: tuple[str, str]) -> InlineKeyboardMarkup:
    """One button per row, each a (text id, callback action) pair."""
    get = texts().get
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(get(language, text_id), callback_data=callbacks.pack(action))]
            for text_id, action in choices
        ]
    )


def first_lesson(language: str) -> InlineKeyboardMarkup:
    return _choices(
        language,
        ("button-first-now", callbacks.FIRST_NOW),
        ("button-first-later", callbacks.FIRST_LATER),
    )


def together_keep(language: str, name: str, delivery_id: int) -> InlineKeyboardMarkup:
    """ "Keep this from Sam" under an answer: Sam is then shown only that it was given."""
    label = texts().get(language, "button-together-keep", name=name)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    label, callback_data=callbacks.pack(callbacks.PAIR_KEEP, str(delivery_id))
                )
            ]
        ]
    )


def together_align(language: str, day: int, *, other: str = "start") -> InlineKeyboardMarkup:
    """Where a pair far apart goes on from: the day of the one further along, or (`other`)
    both from day 1 (asked at the link) or each from where they are (after a pause)."""
    get = texts().get
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    get(language, "button-together-ahead", day=day),
                    callback_data=callbacks.pack(callbacks.PAIR_ALIGN, "ahead"),
                )
            ],
            [
                InlineKeyboardButton(
                    get(language, f"button-together-{other}"),
                    callback_data=callbacks.pack(callbacks.PAIR_ALIGN, other),
                )
            ],
        ]
    )


def together_offer(language: str, name: str, code: str) -> InlineKeyboardMarkup:
    """ "Link with Sam" (carrying the code, checked again on the tap) or "Not now"."""
    get = texts().get
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    get(language, "button-together-link", name=name),
                    callback_data=callbacks.pack(callbacks.PAIR_LINK, code),
                )
            ],
            [
                InlineKeyboardButton(
                    get(language, "button-together-not-now"),
                    callback_data=callbacks.pack(callbacks.PAIR_NOT_NOW),
                )
            ],
        ]
    )


def confirm_delete(language: str) -> InlineKeyboardMarkup:
    return _choices(
        language,
        ("button-delete-yes", callbacks.DELETE_YES),
        ("button-delete-no", callbacks.DELETE_NO),
    )


def checkin(delivery_id: int, rendered: RenderedLesson) -> InlineKeyboardMarkup | None:
    """Scale answers in one row of five; choices one per row; none for free text."""
    if not rendered.options:
        return None
    buttons = [
        InlineKeyboardButton(label, callback_data=callbacks.answer_data(delivery_id, value))
        for label, value in rendered.options
    ]
    width = len(buttons) if rendered.checkin_kind == "scale" else 1
    return InlineKeyboardMarkup(_rows(buttons, width))


def later(delivery_id: int, language: str) -> InlineKeyboardMarkup:
    """The "not now" buttons a lesson carries while its check-in waits for the evening."""
    get = texts().get
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    get(language, "button-snooze-hour"),
                    callback_data=callbacks.snooze_data(delivery_id, HOUR),
                ),
                InlineKeyboardButton(
                    get(language, "button-snooze-evening"),
                    callback_data=callbacks.snooze_data(delivery_id, EVENING),
                ),
            ]
        ]
    )


def checkin_times(language: str, current: str | None) -> InlineKeyboardMarkup:
    """Evening check-in times, the learner's own marked ✓ (pre-selected), and "with the lesson"."""
    buttons = [
        InlineKeyboardButton(
            f"✓ {value}" if value == current else value,
            callback_data=callbacks.pack(callbacks.CHECKIN_TIME, value.replace(":", "")),
        )
        for value in CHECKIN_TIMES
    ]
    off = texts().get(language, "button-checkin-with-lesson")
    rows = _rows(buttons, 4)
    rows.append(
        [
            InlineKeyboardButton(
                f"✓ {off}" if current is None else off,
                callback_data=callbacks.pack(callbacks.CHECKIN_TIME, "off"),
            )
        ]
    )
    return InlineKeyboardMarkup(rows)
