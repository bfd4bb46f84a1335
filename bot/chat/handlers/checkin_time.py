"""/reflect: the check-in time, when the evening check-in comes on its own (or `off`).

A new check-in time only changes the learner's one due instant (storage);
the tick sends what is due then. Onboarding asks it last, with its default
already set (scheduler/onboarding.py).
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
    with_lesson_note,
)
from bot.chat.handlers.time_words import heard_time
from scheduler.onboarding import BY_STEP
from scheduler.states import Step
from storage.views import LearnerView

OFF = ("off", "uit", "no", "nee")  # /reflect off (or uit): the check-in comes with the lesson


async def command(update: Update, context: Context) -> None:
    """/reflect 21:30 or /reflect off; bare, the choices with the current one marked."""
    learner = await require_learner(update, context)
    if learner is None:
        return
    args = command_args(context)
    if not args:
        await ask_checkin_time(update, learner)
        return
    await apply_checkin_time(update, context, learner, " ".join(args))


async def ask_checkin_time(update: Update, learner: LearnerView) -> None:
    await reply(
        update,
        say(
            learner.language,
            BY_STEP[Step.DONE].question,
            time=learner.checkin_time,
            note=with_lesson_note(learner),
        ),
        keyboards.checkin_times(learner.language, learner.checkin_time),
    )


async def apply_checkin_time(
    update: Update, context: Context, learner: LearnerView, typed: str
) -> bool:
    """Store an evening check-in time or `off`; False (after a kind reply) if it is no time."""
    value: str | None
    if typed.strip().lower() in OFF:
        value = None
    else:
        heard = await heard_time(
            update,
            learner.language,
            typed,
            action=callbacks.CHECKIN_TIME,
            error_id="error-checkin-time",
        )
        if heard.value is None:
            return heard.asked
        value = heard.value
    svc = context.services
    after = await svc.repo.set_checkin_time(learner.id, value, svc.clock())
    if after is None:
        return False
    if value is None:
        confirmation = say(learner.language, "checkin-time-off")
    else:
        confirmation = with_lesson_note(after) or say(
            learner.language, "checkin-time-set", time=value
        )
    line = next_lesson_line(after, context) if learner.daily_time is not None else ""
    await reply(update, confirmation + ("\n" + line if line else ""))  # one message
    return True


async def checkin_time_button(
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
    await apply_checkin_time(
        update, context, learner, "off" if raw == "off" else f"{raw[:2]}:{raw[2:]}"
    )
