"""Unknown commands, learners who block or unblock the bot, and the error handler."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.error import Forbidden

from bot.chat.handlers.common import Context, current_learner, language_of, reply, say

log = logging.getLogger(__name__)


async def unknown_command(update: Update, context: Context) -> None:
    message = update.effective_message
    learner = await current_learner(update, context)
    command = (message.text or "/").split()[0].split("@")[0][:64] if message else "/"
    await reply(update, say(language_of(update, learner), "error-unknown-command", command=command))


async def membership(update: Update, context: Context) -> None:
    """The learner blocked the bot (skip them) or unblocked it (take them back)."""
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    svc = context.services
    learner_id = change.from_user.id
    status = change.new_chat_member.status
    if status in (ChatMember.BANNED, ChatMember.LEFT):
        await svc.repo.mark_blocked(learner_id)
        log.info("learner %s blocked the bot", learner_id)
    elif status == ChatMember.MEMBER and await svc.repo.mark_unblocked(learner_id, svc.clock()):
        log.info("learner %s unblocked the bot", learner_id)


async def on_error(update: object, context: Context) -> None:
    """Log first (learner id, never the update's contents), then apologise if we can."""
    user_id = (
        update.effective_user.id if isinstance(update, Update) and update.effective_user else None
    )
    error = context.error
    log.error("error while handling an update from learner %s", user_id, exc_info=error)
    if isinstance(update, Update) and not isinstance(error, Forbidden):
        try:
            if update.callback_query is not None:
                await update.callback_query.answer()
            await reply(update, say(language_of(update, None), "error-generic"))
        except Exception:  # noqa: BLE001 - the apology is best effort
            log.warning("could not tell learner %s about the error", user_id)
