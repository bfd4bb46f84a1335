"""Plain text, shared locations and everything else that is not a command or a button.

Buttons route by their own pattern (bot/chat/app.py, bot/chat/handlers/buttons.py).
"""

from __future__ import annotations

from telegram import Update

from bot.chat.handlers import checkin, onboarding
from bot.chat.handlers.common import Context, current_learner, language_of, reply, say


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
