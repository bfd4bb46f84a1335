"""Buttons and plain text, routed to the flow they belong to.

Button data is parsed once here (bot.callbacks); anything unrecognised, or a
button from someone we no longer know, gets a polite answer and changes nothing.
"""

from __future__ import annotations

from telegram import Update

from bot import callbacks
from bot.handlers import account, checkin, evening, lesson, onboarding
from bot.handlers.common import Context, current_learner, language_of, reply, say


async def button(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    data = callbacks.parse(query.data)
    learner = await current_learner(update, context)
    language = language_of(update, learner)
    if data is None:
        await query.answer(say(language, "answer-unknown"))
        return
    if data.action in (callbacks.DELETE_YES, callbacks.DELETE_NO):
        await account.delete_button(update, context, data.action == callbacks.DELETE_YES)
        return
    if learner is None:
        await query.answer(say(language, "error-not-started"))
        return
    if data.action == callbacks.ANSWER:
        await checkin.answer_button(update, context, learner, data)
    elif data.action == callbacks.SNOOZE:
        await evening.snooze_button(update, context, learner, data)
    elif data.action == callbacks.REFLECT:
        await evening.reflect_button(update, context, learner, data)
    elif data.action in (callbacks.FIRST_NOW, callbacks.FIRST_LATER):
        await lesson.first_lesson_button(update, context, data.action == callbacks.FIRST_NOW)
    else:
        await onboarding.setting_button(update, context, learner, data)


async def text(update: Update, context: Context) -> None:
    learner = await current_learner(update, context)
    if learner is None:
        await reply(update, say(language_of(update, None), "error-not-started"))
        return
    await checkin.free_text(update, context, learner)


async def location(update: Update, context: Context) -> None:
    """A shared location sets the time zone (onboarding, or any time later)."""
    learner = await current_learner(update, context)
    if learner is None:
        await reply(update, say(language_of(update, None), "error-not-started"))
        return
    await onboarding.location(update, context, learner)


async def not_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice: kindly say that only text is read."""
    learner = await current_learner(update, context)
    await reply(update, say(language_of(update, learner), "error-not-text"))
