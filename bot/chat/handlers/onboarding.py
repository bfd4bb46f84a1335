"""/start and the settings: language, time zone and daily time.

Onboarding is one table of steps (language -> time zone -> daily time) whose
state lives on the learner row, not in memory, so a restart mid-way loses
nothing. Each step can be answered with a button or typed; the same settings
work later as /language, /timezone and /time with an argument.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardMarkup, Update

from bot.chat import callbacks, keyboards
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
from bot.chat.handlers.evening import ask_reflection
from bot.chat.texts import LANGUAGES, language_for
from scheduler.due import InvalidDailyTime, format_daily_time, parse_daily_time
from scheduler.places import find_place, zone_at
from scheduler.states import Step
from storage.views import LearnerView


def _question(step: str, language: str) -> tuple[str, InlineKeyboardMarkup]:
    """The question and buttons of an onboarding step: the whole dialogue in one table."""
    table: dict[str, Callable[[], tuple[str, InlineKeyboardMarkup]]] = {
        Step.LANGUAGE: lambda: (say(language, "ask-language"), keyboards.languages(language)),
        Step.TIMEZONE: lambda: (say(language, "ask-timezone"), keyboards.zones(language)),
        Step.TIME: lambda: (say(language, "ask-time"), keyboards.times()),
    }
    return table[step]()


async def continue_onboarding(update: Update, learner: LearnerView) -> None:
    """Ask the learner's current step, or, when all is set, offer the first lesson."""
    if learner.onboarding_step == Step.DONE:
        # One more tap, the default pre-selected: when the check-in comes on its own.
        await ask_reflection(update, learner)
        await reply(
            update,
            say(
                learner.language, "onboarding-done", time=learner.daily_time, zone=learner.timezone
            ),
            keyboards.first_lesson(learner.language),
        )
        return
    html, markup = _question(learner.onboarding_step, learner.language)
    await reply(update, html, markup)


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
    if created or learner.onboarding_step != Step.DONE:
        await reply(update, say(learner.language, "welcome", name=learner.first_name))
        await continue_onboarding(update, learner)
        return
    await reply(
        update,
        say(
            learner.language,
            "welcome-back",
            name=learner.first_name,
            time=learner.daily_time,
            zone=learner.timezone,
            lesson=min(learner.next_lesson, svc.course.length),
            total=svc.course.length,
        ),
        keyboards.first_lesson(learner.language),
    )


async def _after_change(
    update: Update, context: Context, before: LearnerView, after: LearnerView, confirmation: str
) -> None:
    """Confirm a setting; mid-onboarding, go on to the next step instead."""
    await reply(update, confirmation)
    if before.onboarding_step != Step.DONE:
        await continue_onboarding(update, after)
    elif line := next_lesson_line(after, context):
        await reply(update, line)


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
    await set_zone(update, context, learner, place.zone)
    return True


async def set_zone(update: Update, context: Context, learner: LearnerView, zone: str) -> None:
    svc = context.services
    after = await svc.repo.set_timezone(learner.id, zone, svc.clock())
    if after is not None:
        await _after_change(
            update, context, learner, after, say(learner.language, "timezone-set", zone=zone)
        )


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
    try:
        value = format_daily_time(parse_daily_time(typed))
    except InvalidDailyTime:
        await reply(update, say(learner.language, "error-time", given=typed.strip()[:32]))
        return False
    svc = context.services
    after = await svc.repo.set_daily_time(learner.id, value, svc.clock())
    if after is not None:
        await _after_change(
            update, context, learner, after, say(learner.language, "time-set", time=value)
        )
        if learner.onboarding_step == Step.DONE and (note := with_lesson_note(after)):
            await reply(update, note)
    return True


async def language_command(update: Update, context: Context) -> None:
    """/language nl|en, or the buttons without an argument."""
    learner = await require_learner(update, context)
    if learner is None:
        return
    args = command_args(context)
    if not args:
        await reply(
            update, say(learner.language, "ask-language"), keyboards.languages(learner.language)
        )
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
        await reply(
            update, say(learner.language, "ask-timezone"), keyboards.zones(learner.language)
        )
        return
    await apply_timezone(update, context, learner, " ".join(args))


async def time_command(update: Update, context: Context) -> None:
    """/time 07:30, or the buttons without an argument."""
    learner = await require_learner(update, context)
    if learner is None:
        return
    args = command_args(context)
    if not args:
        await reply(update, say(learner.language, "ask-time"), keyboards.times())
        return
    await apply_time(update, context, learner, " ".join(args))


async def typed_setting(update: Update, context: Context, learner: LearnerView, text: str) -> bool:
    """Free text while onboarding waits for a zone or a time. True if it was taken as one."""
    handlers: dict[str, Callable[[Update, Context, LearnerView, str], Awaitable[bool]]] = {
        Step.TIMEZONE: apply_timezone,
        Step.TIME: apply_time,
    }
    if learner.onboarding_step == Step.LANGUAGE:
        html, markup = _question(Step.LANGUAGE, learner.language)
        await reply(update, html, markup)  # the language is chosen with a button
        return True
    handler = handlers.get(learner.onboarding_step)
    if handler is None:
        return False
    if not await handler(update, context, learner, text):
        html, markup = _question(learner.onboarding_step, learner.language)
        await reply(update, html, markup)
    return True


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
