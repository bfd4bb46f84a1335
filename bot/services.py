"""What handlers need, in one typed object hung on the Application.

Handlers reach it with `services(context)` rather than untyped bot_data
lookups; it carries plain collaborators, never settings or the token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from telegram.ext import CallbackContext

from bot.texts import Texts, texts
from lessons.loader import Course
from scheduler.clock import Clock
from scheduler.delivery import DeliveryService
from storage.repo import Repo

SERVICES_KEY = "bridges"


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


def services(context: CallbackContext) -> Services:  # type: ignore[type-arg]
    found = context.application.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found


def text_of(language: str, text_id: str, **values: object) -> str:
    return texts().get(language, text_id, **values)
