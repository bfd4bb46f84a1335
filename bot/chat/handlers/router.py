"""Plain text, shared locations and everything else that is not a command or a button.

Buttons route by their own pattern (bot/chat/app.py, bot/chat/handlers/buttons.py).
Every text and caption passes the safety screen first (bot/chat/handlers/safety.py),
before anyone is asked to /start and before a typed setting or an answer is read.
"""

from __future__ import annotations

from telegram import Update

from bot.chat.handlers import checkin, onboarding, safety
from bot.chat.handlers.common import Context, current_learner, language_of, reply, say


async def text(update: Update, context: Context) -> None:
    message = update.effective_message
    if await safety.screened(update, context, message.text if message else None):
        return
    learner = await current_learner(update, context)
    if learner is None:
        await reply(update, say(language_of(update, None), "error-not-started"))
        return
    await checkin.free_text(update, context, learner)


async def edited(update: Update, context: Context) -> None:
    """An edited text or caption: screened for crisis and abuse words, nothing else."""
    message = update.effective_message
    if message is None:
        return
    await safety.screened(update, context, message.text or message.caption, keep=False)


async def location(update: Update, context: Context) -> None:
    """A shared location sets the time zone (onboarding, or any time later)."""
    learner = await current_learner(update, context)
    if learner is None:
        await reply(update, say(language_of(update, None), "error-not-started"))
        return
    await onboarding.location(update, context, learner)


async def not_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice: kindly say that only text is read (a caption is screened)."""
    message = update.effective_message
    if await safety.screened(update, context, message.caption if message else None):
        return
    learner = await current_learner(update, context)
    await reply(update, say(language_of(update, learner), "error-not-text"))
