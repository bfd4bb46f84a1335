"""A "later" tap on a lesson: it comes again in an hour or this evening, once.

A snooze only changes the learner's one due instant (storage/snooze.py); the
tick sends what is due then. Nothing here schedules a job.
"""

from __future__ import annotations

from telegram import Update

from bot.chat import callbacks
from bot.chat.handlers.common import Context, clear_buttons, reply, say, spoken_when
from scheduler.checkin_time import EVENING
from storage.views import LearnerView


async def snooze_button(
    update: Update, context: Context, learner: LearnerView, data: callbacks.Callback
) -> None:
    """ "In an hour" or "this evening" on a lesson: it comes again then, once."""
    query = update.callback_query
    assert query is not None
    svc = context.services
    outcome = await svc.repo.snooze(learner.id, int(data.args[0]), data.args[1], svc.clock())
    if outcome.status != "snoozed" or outcome.until is None:
        await query.answer(
            say(
                learner.language,
                {"already": "snooze-already", "too_late": "snooze-too-late"}.get(
                    outcome.status, "snooze-closed"
                ),
            )
        )
        if outcome.status in ("already", "closed"):
            await clear_buttons(update)
        return
    await query.answer()
    await clear_buttons(update)
    when = spoken_when(outcome.until, outcome.timezone or "UTC", learner.language, svc.clock())
    evening = data.args[1] == EVENING
    await reply(
        update,
        say(learner.language, "snoozed", when=when, evening=evening),
    )
