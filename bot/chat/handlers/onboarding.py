"""/start and the settings: language, time zone and daily time.

Onboarding is one table of steps (scheduler/onboarding.py: language -> time
zone -> daily time -> check-in time) whose state lives on the learner row, not
in memory, so a restart mid-way loses nothing. This module says how each step
is asked in the chat (its buttons) and which typed answers it takes; the same
settings work later as /language, /timezone, /time and /reflect.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardMarkup, Update

from bot.chat import callbacks, keyboards
from bot.chat.handlers import together
from bot.chat.handlers.checkin_time import ask_checkin_time
from bot.chat.handlers.common import (
    Context,
    clear_buttons,
    command_args,
    first_name,
    next_lesson_line,
    reply,
    require_learner,
    say,
    with_lesson_note,
)
from bot.chat.handlers.time_words import heard_time
from bot.chat.texts import LANGUAGES, language_for
from scheduler.onboarding import BY_STEP
from scheduler.places import Place, find_place, offset_label, zone_at
from scheduler.states import Step
from storage.views import LearnerView

# The buttons of each step before `done` (whose check-in time checkin_time.py asks).
BUTTONS: dict[Step, Callable[[LearnerView], InlineKeyboardMarkup]] = {
    Step.LANGUAGE: lambda learner: keyboards.languages(learner.language),
    Step.TIMEZONE: lambda learner: keyboards.zones(learner.language),
    Step.TIME: lambda learner: keyboards.times(),
}


async def ask(update: Update, learner: LearnerView, step: Step) -> None:
    """Ask one onboarding step's question with its buttons (also for a bare /language etc.)."""
    if step == Step.DONE:
        await ask_checkin_time(update, learner)
        return
    await reply(update, say(learner.language, BY_STEP[step].question), BUTTONS[step](learner))


async def continue_onboarding(update: Update, learner: LearnerView) -> None:
    """Ask the learner's current step, or, when all is set, offer the first lesson."""
    if learner.onboarding_step == Step.DONE:
        # One more tap, the default pre-selected: when the check-in comes on its own.
        await ask(update, learner, Step.DONE)
        await reply(
            update,
            say(
                learner.language,
                "onboarding-done",
                time=learner.daily_time,
                zone=offset_label(learner.timezone or ""),
            ),
            keyboards.first_lesson(learner.language),
        )
        return
    await ask(update, learner, learner.onboarding_step)


async def start(update: Update, context: Context) -> None:
    """Welcome (with the not-therapy note) and onboarding; brings back a learner who stopped."""
    user = update.effective_user
    if user is None:
        return
    svc = context.services
    learner, created = await svc.repo.start_learner(
        user.id,
        first_name=first_name(update),
        language=language_for(user.language_code),
        now=svc.clock(),
    )
    invite = next(
        (arg for arg in command_args(context) if arg.startswith(together.DEEP_LINK_PREFIX)), None
    )
    code = invite.removeprefix(together.DEEP_LINK_PREFIX) if invite else None
    if created or learner.onboarding_step != Step.DONE:
        await reply(update, say(learner.language, "welcome", name=learner.first_name))
        if code is not None:  # opened through an invite: asked by name once onboarding ends
            await together.hold(update, context, learner, code)
        await continue_onboarding(update, learner)
        return
    if code is not None:  # an invite for someone already taking the course: asked at once
        await together.offer(update, context, learner, code)
        return
    await _welcome_back(update, context, learner)


async def _welcome_back(update: Update, context: Context, learner: LearnerView) -> None:
    svc = context.services
    await reply(
        update,
        say(
            learner.language,
            "welcome-back",
            name=learner.first_name,
            time=learner.daily_time,
            zone=offset_label(learner.timezone or ""),
            lesson=min(learner.next_lesson, svc.course.length),
            total=svc.course.length,
        ),
        keyboards.first_lesson(learner.language),
    )


async def _after_change(
    update: Update, context: Context, before: LearnerView, after: LearnerView, confirmation: str
) -> None:
    """Confirm a setting in one message (with when the next lesson comes, and a note
    if the check-in now comes with the lesson); mid-onboarding, go on to the next step."""
    if before.onboarding_step != Step.DONE:
        await reply(update, confirmation)
        await continue_onboarding(update, after)
        return
    lines = [confirmation, with_lesson_note(after), next_lesson_line(after, context)]
    await reply(update, "\n".join(line for line in lines if line))


async def apply_language(
    update: Update, context: Context, learner: LearnerView, value: str
) -> None:
    after = await context.services.repo.set_language(learner.id, value)
    if after is not None:
        await _after_change(update, context, learner, after, say(value, "language-set"))


async def apply_timezone(
    update: Update, context: Context, learner: LearnerView, typed: str
) -> bool:
    """Store a zone the learner chose or typed; False (after a friendly reply) if it is unknown.

    A city or country name in either language works too; a near miss gets
    one "did you mean" button (and counts as answered: the button finishes it).
    """
    place = find_place(typed)
    if place is None:
        await reply(update, say(learner.language, "error-timezone", given=typed.strip()[:64]))
        return False
    if not place.sure:
        await reply(
            update,
            say(learner.language, "did-you-mean", given=typed.strip()[:64], zone=place.zone),
            keyboards.zone_suggestion(learner.language, place.zone),
        )
        return True
    await set_zone(update, context, learner, place.zone, place=place)
    return True


async def set_zone(
    update: Update,
    context: Context,
    learner: LearnerView,
    zone: str,
    *,
    place: Place | None = None,
) -> None:
    """Store the zone and confirm it; a fixed UTC offset is confirmed with the warning that
    it will not follow summer time, and a city that does."""
    svc = context.services
    after = await svc.repo.set_timezone(learner.id, zone, svc.clock())
    if after is None:
        return
    confirmation = say(learner.language, "timezone-set", zone=offset_label(zone))
    if place is not None and place.fixed:
        city = place.city.rsplit("/", 1)[1].replace("_", " ") if place.city else ""
        confirmation += "\n" + say(
            learner.language, "timezone-fixed", zone=offset_label(zone), city=city
        )
    await _after_change(update, context, learner, after, confirmation)


async def location(update: Update, context: Context, learner: LearnerView) -> None:
    """A shared location (Telegram's 📎 → Location): its zone, found offline."""
    message = update.effective_message
    if message is None or message.location is None:
        return
    spot = message.location
    zone = await asyncio.to_thread(zone_at, spot.latitude, spot.longitude)
    if zone is None:
        await reply(update, say(learner.language, "error-location"))
        return
    await set_zone(update, context, learner, zone)


async def apply_time(update: Update, context: Context, learner: LearnerView, typed: str) -> bool:
    """Store a daily time the learner chose or typed; False (after a kind reply) if impossible."""
    heard = await heard_time(
        update, learner.language, typed, action=callbacks.TIME, error_id="error-time"
    )
    if heard.value is None:
        return heard.asked  # asked "did you mean": the tap sets it, nothing to ask again
    value = heard.value
    svc = context.services
    after = await svc.repo.set_daily_time(learner.id, value, svc.clock())
    if after is not None:
        await _after_change(
            update, context, learner, after, say(learner.language, "time-set", time=value)
        )
    return True


async def language_command(update: Update, context: Context) -> None:
    """/language nl|en, or the buttons without an argument."""
    learner = await require_learner(update, context)
    if learner is None:
        return
    args = command_args(context)
    if not args:
        await ask(update, learner, Step.LANGUAGE)
        return
    value = args[0].lower()
    if len(args) != 1 or value not in LANGUAGES:
        await reply(update, say(learner.language, "error-language"))
        return
    await apply_language(update, context, learner, value)


async def timezone_command(update: Update, context: Context) -> None:
    """/timezone Europe/Amsterdam, or the buttons without an argument."""
    learner = await require_learner(update, context)
    if learner is None:
        return
    args = command_args(context)
    if not args:
        await ask(update, learner, Step.TIMEZONE)
        return
    await apply_timezone(update, context, learner, " ".join(args))


async def time_command(update: Update, context: Context) -> None:
    """/time 07:30, or the buttons without an argument."""
    learner = await require_learner(update, context)
    if learner is None:
        return
    args = command_args(context)
    if not args:
        await ask(update, learner, Step.TIME)
        return
    await apply_time(update, context, learner, " ".join(args))


async def typed_setting(update: Update, context: Context, learner: LearnerView, text: str) -> bool:
    """Free text while onboarding waits for a step. True if it was taken as that step's answer.

    A step answered only with buttons (the language) is asked again; at `done`
    free text is not onboarding's (it may answer a check-in).
    """
    step = learner.onboarding_step
    if step == Step.DONE:
        return False
    if not BY_STEP[step].typed or not await TYPED[step](update, context, learner, text):
        await ask(update, learner, step)
    return True


# The typed answers each step takes (scheduler/onboarding.py says which steps take one).
TYPED: dict[Step, Callable[[Update, Context, LearnerView, str], Awaitable[bool]]] = {
    Step.TIMEZONE: apply_timezone,
    Step.TIME: apply_time,
}


async def setting_button(
    update: Update, context: Context, learner: LearnerView, data: callbacks.Callback
) -> None:
    """Language, zone and time buttons (from onboarding or from a bare command)."""
    query = update.callback_query
    if data.action == callbacks.LANGUAGE and data.args[0] in LANGUAGES:
        await apply_language(update, context, learner, data.args[0])
    elif data.action == callbacks.ZONE:
        await apply_timezone(update, context, learner, data.args[0])
    elif data.action == callbacks.ZONE_OTHER:
        await reply(update, say(learner.language, "type-zone"))
    elif data.action == callbacks.TIME and len(data.args[0]) == 4:
        await apply_time(update, context, learner, f"{data.args[0][:2]}:{data.args[0][2:]}")
    else:
        if query is not None:
            await query.answer(say(learner.language, "answer-unknown"))
        return
    if query is not None:
        await query.answer()
    if data.action != callbacks.ZONE_OTHER:
        await clear_buttons(update)
