"""Sends a claimed lesson through python-telegram-bot; implements scheduler.delivery.Send.

The lesson, its check-in question and the check-in's buttons travel as one
message, so they arrive (or fail) together: a learner never gets a lesson
they cannot answer, and a lesson costs one message of the bot's budget.

Telegram's answer becomes a plain SendResult. Only a definite refusal is
`failed` (or `blocked` for 403 and "chat not found"); a reply that never came
(timeout, dropped connection, 5xx, a 429 the budget could not absorb) is
`unknown`, because Telegram may have delivered: the row stays `sending` and
its lease decides.
"""

from __future__ import annotations

from typing import Any

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.chat.budget import BULK
from bot.chat.messages import compose
from lessons.render import RenderedLesson
from scheduler.claims import Claim
from scheduler.delivery import SendResult
from scheduler.states import SendStatus


class TelegramSender:
    """The `Send` the tick and /today use. Bulk sends queue behind replies to learners."""

    def __init__(self, bot: ExtBot[Any]) -> None:
        self.bot = bot

    async def __call__(
        self, claim: Claim, rendered: RenderedLesson, *, bulk: bool = True
    ) -> SendResult:
        html, markup = compose(
            claim, rendered
        )  # lesson, evening check-in or note (bot/chat/messages)
        try:
            message = await self.bot.send_message(
                claim.learner_id,
                html,
                reply_markup=markup,
                rate_limit_args=BULK if bulk else None,
            )
        except Forbidden as error:
            return SendResult(SendStatus.BLOCKED, reason=error.message)
        except BadRequest as error:
            if "chat not found" in error.message.lower():
                return SendResult(SendStatus.BLOCKED, reason=error.message)
            return SendResult(SendStatus.FAILED, reason=error.message)
        except (NetworkError, RetryAfter) as error:  # TimedOut is a NetworkError
            return SendResult(SendStatus.UNKNOWN, reason=f"{type(error).__name__}: {error.message}")
        except TelegramError as error:
            return SendResult(SendStatus.FAILED, reason=f"{type(error).__name__}: {error.message}")
        return SendResult(SendStatus.SENT, message_id=message.message_id)
