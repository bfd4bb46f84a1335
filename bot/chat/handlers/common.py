"""Small helpers the handler modules share: who is talking, in which language, and replying."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.chat.format import local_when
from bot.chat.services import BridgesContext
from bot.chat.texts import language_for, texts
from scheduler.due import parse_daily_time
from scheduler.states import DueKind, LearnerStatus
from storage.views import LearnerView

Context = BridgesContext


async def current_learner(update: Update, context: Context) -> LearnerView | None:
    """The learner who sent the update, or None for a stranger. A learner marked blocked
    (a send came back 403) who writes again has the chat open: they are taken back, as
    an unblock would, since Telegram does not always say that it was lifted."""
    user = update.effective_user
    if user is None:
        return None
    svc = context.services
    learner = await svc.repo.get_learner(user.id)
    if learner is not None and learner.status == LearnerStatus.BLOCKED:
        return await svc.repo.mark_unblocked(user.id, svc.clock())
    return learner


async def require_learner(update: Update, context: Context) -> LearnerView | None:
    """The learner, or None after telling a stranger to send /start first."""
    learner = await current_learner(update, context)
    if learner is None:
        await reply(update, say(language_of(update, None), "error-not-started"))
    return learner


def language_of(update: Update, learner: LearnerView | None) -> str:
    if learner is not None:
        return learner.language
    user = update.effective_user
    return language_for(user.language_code if user else None)


def say(language: str, text_id: str, **values: object) -> str:
    return texts().get(language, text_id, **values)


async def reply(
    update: Update, html: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Answer in the chat the update came from."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(html, reply_markup=markup)


def spoken_when(instant: datetime, zone: str, language: str, now: datetime) -> str:
    """How a person says when: "today at 08:00", "tomorrow at 08:00", "on Friday 27
    November at 08:00" (Dutch: "vandaag om", "morgen om", "vrijdag 27 november om").

    A bare date for today reads as if it were a week away."""
    local, today = instant.astimezone(ZoneInfo(zone)), now.astimezone(ZoneInfo(zone)).date()
    days = (local.date() - today).days
    if days in (0, 1):
        return say(language, "when-today" if days == 0 else "when-tomorrow", time=f"{local:%H:%M}")
    date = local_when(instant, zone, language).rsplit(",", 1)[0]
    return say(language, "when-date", date=date, time=f"{local:%H:%M}")


def next_lesson_line(learner: LearnerView, context: Context) -> str:
    """ "Your next lesson comes tomorrow at …", or nothing when none is scheduled.

    A snoozed lesson is said to come again, not to be the next lesson."""
    if learner.next_due_at is None or learner.timezone is None:
        return ""
    when = spoken_when(
        learner.next_due_at, learner.timezone, learner.language, context.services.clock()
    )
    text_id = {
        DueKind.CHECKIN: "next-checkin-at",
        DueKind.SNOOZED: "next-snoozed-at",
    }.get(DueKind(learner.due_kind), "next-lesson-at")
    return say(learner.language, text_id, when=when)


def with_lesson_note(learner: LearnerView) -> str:
    """Say plainly that the check-in comes with the lesson when its time is not after the
    lesson's: the tick asks it with the lesson then, so "this evening at 07:00" would be untrue."""
    if learner.checkin_time is None or learner.daily_time is None:
        return ""
    if parse_daily_time(learner.checkin_time) > parse_daily_time(learner.daily_time):
        return ""
    return say(
        learner.language,
        "checkin-with-lesson",
        time=learner.checkin_time,
        lesson=learner.daily_time,
    )


def first_name(update: Update) -> str:
    user = update.effective_user
    return (user.first_name if user else "") or "friend"


def command_args(context: Context) -> list[str]:
    return list(context.args or [])


async def clear_buttons(update: Update) -> None:
    """Take the keyboard off the message a button was pressed on (once is enough)."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    # BadRequest: already cleared by an earlier press, or the message is gone.
    with suppress(BadRequest):
        await query.edit_message_reply_markup(None)
