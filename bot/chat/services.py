"""What handlers need, in one typed object, reached through a typed context.

python-telegram-bot builds every handler's and job's context from
`CONTEXT_TYPES`: its `bot_data` is a `BotData` (not a dict), and the context
is a `BridgesContext` whose `services` is typed, so a handler writes
`context.services.repo` with no lookup by key and no assert. `Services`
carries plain collaborators, never settings or the token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.chat.texts import Texts, texts
from lessons.loader import Course
from lessons.screen import SafetyWords, safety_words
from scheduler.clock import Clock
from scheduler.delivery import DeliveryService
from storage.repo import Repo


@dataclass
class Services:
    repo: Repo
    course: Course
    clock: Clock
    delivery: DeliveryService
    texts: Texts
    send_early: timedelta = timedelta(0)  # how early a busy minute's lessons may start
    tick_concurrency: int = 16  # sends in flight at once (scheduler.tick.concurrency_for)
    send_per_second: float = 30.0  # the bot's message budget, which sizes the send window
    # The screen every text passes first (lessons/screen.py): crisis and abuse words.
    safety: SafetyWords = field(default_factory=safety_words)


class BotData:
    """The Application's bot_data: made empty by python-telegram-bot, filled by build_application.

    Reading `services` before build_application set it raises AttributeError,
    which only a wiring mistake can cause.
    """

    services: Services


class BridgesContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The context every Bridges handler and job receives."""

    @property
    def services(self) -> Services:
        return self.bot_data.services


CONTEXT_TYPES = ContextTypes(context=BridgesContext, bot_data=BotData)


def text_of(language: str, text_id: str, **values: object) -> str:
    return texts().get(language, text_id, **values)
