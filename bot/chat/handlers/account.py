"""/help, /sources and /delete (erases every row about the learner after a confirmation)."""

from __future__ import annotations

from telegram import Update

from bot.chat import callbacks, keyboards
from bot.chat.handlers.common import (
    Context,
    clear_buttons,
    current_learner,
    language_of,
    reply,
    say,
)
from bot.ops import metrics
from lessons.helplines import helpline_lines


async def help_command(update: Update, context: Context) -> None:
    """What Bridges can do, that it is not therapy, and where to turn in the learner's country."""
    learner = await current_learner(update, context)
    language = language_of(update, learner)
    lines = helpline_lines(learner.timezone if learner else None, language)
    await reply(update, say(language, "help", helplines=lines))


async def sources(update: Update, context: Context) -> None:
    """The books the course draws on."""
    learner = await current_learner(update, context)
    await reply(update, say(language_of(update, learner), "sources"))


async def delete(update: Update, context: Context) -> None:
    """Ask before erasing anything."""
    learner = await current_learner(update, context)
    language = language_of(update, learner)
    if learner is None:
        await reply(update, say(language, "nothing-to-delete"))
        return
    await reply(update, say(language, "ask-delete"), keyboards.confirm_delete(language))


async def delete_button(update: Update, context: Context) -> None:
    """ "Yes, delete everything" or "No, keep it": works even for someone not enrolled."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    confirmed = query.data == callbacks.pack(callbacks.DELETE_YES)
    learner = await current_learner(update, context)
    language = language_of(update, learner)
    await query.answer()
    await clear_buttons(update)
    if not confirmed:
        await reply(update, say(language, "delete-cancelled"))
        return
    svc = context.services
    partner = await svc.repo.partner(user.id)
    # Their answers go from both views; a partner is told the link ended at their own
    # next moment, as after /together off (storage/notices.py).
    erased = await svc.repo.delete_learner(user.id, svc.clock())
    await reply(update, say(language, "deleted" if erased else "nothing-to-delete"))
    if partner is not None:
        metrics.together("unlink")
