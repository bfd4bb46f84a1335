"""The evening: "later" on a lesson, and /reflect, the time the check-in comes on its own.

A snooze and a new reflection time only change the learner's one due instant
(storage); the tick sends what is due then. Nothing here schedules a job.
"""

from __future__ import annotations

from telegram import Update

from bot.chat import callbacks, keyboards
from bot.chat.handlers.common import (
    Context,
    clear_buttons,
    command_args,
    next_lesson_line,
    reply,
    require_learner,
    say,
    spoken_when,
    with_lesson_note,
)
from scheduler.due import InvalidDailyTime, format_daily_time, parse_daily_time
from scheduler.reflection import EVENING
from storage.views import LearnerView

OFF = ("off", "uit", "no", "nee")  # /reflect off (or uit): the check-in comes with the lesson


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


async def reflect(update: Update, context: Context) -> None:
    """/reflect 21:30 or /reflect off; bare, the choices with the current one marked."""
    learner = await require_learner(update, context)
    if learner is None:
        return
    args = command_args(context)
    if not args:
        await ask_reflection(update, learner)
        return
    await apply_reflection(update, context, learner, " ".join(args))


async def ask_reflection(update: Update, learner: LearnerView) -> None:
    await reply(
        update,
        say(
            learner.language,
            "ask-reflect",
            time=learner.reflection_time,
            note=with_lesson_note(learner),
        ),
        keyboards.reflections(learner.language, learner.reflection_time),
    )


async def apply_reflection(
    update: Update, context: Context, learner: LearnerView, typed: str
) -> bool:
    """Store an evening check-in time or `off`; False (after a kind reply) if it is no time."""
    value: str | None
    if typed.strip().lower() in OFF:
        value = None
    else:
        try:
            value = format_daily_time(parse_daily_time(typed))
        except InvalidDailyTime:
            await reply(update, say(learner.language, "error-reflect", given=typed.strip()[:32]))
            return False
    svc = context.services
    after = await svc.repo.set_reflection(learner.id, value, svc.clock())
    if after is None:
        return False
    if value is None:
        await reply(update, say(learner.language, "reflect-off"))
    else:
        await reply(
            update,
            with_lesson_note(after) or say(learner.language, "reflect-set", time=value),
        )
    if learner.daily_time is not None and (line := next_lesson_line(after, context)):
        await reply(update, line)
    return True


async def reflect_button(
    update: Update, context: Context, learner: LearnerView, data: callbacks.Callback
) -> None:
    query = update.callback_query
    assert query is not None
    raw = data.args[0]
    if raw != "off" and (len(raw) != 4 or not raw.isdigit()):
        await query.answer(say(learner.language, "answer-unknown"))
        return
    await query.answer()
    await clear_buttons(update)
    await apply_reflection(
        update, context, learner, "off" if raw == "off" else f"{raw[:2]}:{raw[2:]}"
    )
