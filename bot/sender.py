"""Sends a rendered lesson through python-telegram-bot; implements scheduler.tick.Send.

Telegram's answer becomes a plain SendResult: 403 means the learner blocked
the bot, anything else that fails is a failure the tick records and a later
day retries.
"""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import keyboards
from lessons.render import RenderedLesson
from scheduler.tick import SendResult
from storage.repo import Claim

log = logging.getLogger(__name__)


class TelegramSender:
    """The `Send` the tick and /today use: the lesson, then its check-in."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def __call__(self, claim: Claim, rendered: RenderedLesson) -> SendResult:
        try:
            lesson = await self.bot.send_message(claim.learner_id, rendered.lesson_html)
        except Forbidden as error:
            return SendResult("blocked", reason=error.message)
        except BadRequest as error:
            if "chat not found" in error.message.lower():
                return SendResult("blocked", reason=error.message)
            return SendResult("failed", reason=error.message)
        except TelegramError as error:
            return SendResult("failed", reason=f"{type(error).__name__}: {error.message}")
        try:
            checkin = await self.bot.send_message(
                claim.learner_id,
                rendered.checkin_html,
                reply_markup=keyboards.checkin(claim.delivery_id, rendered),
            )
        except TelegramError as error:
            # The lesson itself arrived, so it counts as delivered; the check-in is lost.
            log.warning(
                "check-in of delivery %s not sent: %s", claim.delivery_id, type(error).__name__
            )
            return SendResult("sent", lesson_message_id=lesson.message_id)
        return SendResult(
            "sent", lesson_message_id=lesson.message_id, checkin_message_id=checkin.message_id
        )
