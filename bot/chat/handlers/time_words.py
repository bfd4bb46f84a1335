"""A time the learner typed, as they meant it: clear, or a "did you mean" with buttons.

"19.30", "7pm" and "half acht 's avonds" are clear; "7", "half acht" or "half past
seven" could be the morning or the evening, so the learner is asked with two
buttons (the same buttons the setting's own question uses), never guessed for.
scheduler/spoken_time.py reads the words.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update

from bot.chat import keyboards
from bot.chat.handlers.common import reply, say
from scheduler.due import format_daily_time
from scheduler.spoken_time import read_time


@dataclass(frozen=True)
class Heard:
    value: str | None  # the HH:MM meant, when it was clear
    asked: bool = False  # a "did you mean" went out: the learner's tap will set it


async def heard_time(
    update: Update, language: str, typed: str, *, action: str, error_id: str
) -> Heard:
    """What time `typed` means; after a kind reply when it is no time or could be two."""
    times = read_time(typed, language)
    if len(times) == 1:
        return Heard(format_daily_time(times[0]))
    if not times:
        await reply(update, say(language, error_id, given=typed.strip()[:32]))
        return Heard(None)
    shown = [format_daily_time(value) for value in times]
    await reply(
        update,
        say(language, "time-did-you-mean", first=shown[0], second=shown[1]),
        keyboards.time_guesses(action, shown),
    )
    return Heard(None, asked=True)
