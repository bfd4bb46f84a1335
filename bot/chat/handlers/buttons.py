"""What every button handler shares: parse the data once, find the learner, refuse kindly.

Each flow registers its own `CallbackQueryHandler` with a `pattern` in
`bot/chat/app.py` (callbacks.pattern), so app.py shows which button goes where.
Data that matches no flow (a stale version, forged bytes) reaches `stale`,
and a button from someone we no longer know changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update

from bot.chat import callbacks
from bot.chat.handlers.common import Context, current_learner, language_of, say
from storage.views import LearnerView

ButtonFlow = Callable[[Update, Context, LearnerView, callbacks.Callback], Awaitable[None]]
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def for_learner(flow: ButtonFlow) -> Handler:
    """A handler that calls `flow` with the parsed data and the enrolled learner."""

    async def handle(update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        data = callbacks.parse(query.data)
        learner = await current_learner(update, context)
        if data is None:
            await query.answer(say(language_of(update, learner), "answer-unknown"))
            return
        if learner is None:
            await query.answer(say(language_of(update, None), "error-not-started"))
            return
        await flow(update, context, learner, data)

    handle.__doc__ = flow.__doc__
    return handle


async def stale(update: Update, context: Context) -> None:
    """Buttons no flow claims: an old version's data, or forged. A kind word, nothing else."""
    query = update.callback_query
    if query is None:
        return
    learner = await current_learner(update, context)
    await query.answer(say(language_of(update, learner), "answer-unknown"))
