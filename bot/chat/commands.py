"""The command list: one table for the handlers and for Telegram's command menu."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Update

from bot.chat.handlers import (
    account,
    checkin_time,
    lesson,
    onboarding,
    pause,
    progress,
    safety,
    together,
)
from bot.chat.handlers.common import Context

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    in_menu: bool = True

    @property
    def text_id(self) -> str:
        return f"command-{self.name}"


COMMANDS = (
    Command("today", lesson.today),
    Command("lesson", lesson.lesson_again),
    Command("progress", progress.progress),
    Command("export", progress.export),
    Command("pause", pause.pause),
    Command("resume", pause.resume),
    Command("time", onboarding.time_command),
    Command("reflect", checkin_time.command),
    Command("timezone", onboarding.timezone_command),
    Command("language", onboarding.language_command),
    Command("help", account.help_command),
    Command("together", together.command),
    Command("sos", safety.sos),
    Command("sources", account.sources),
    Command("start", onboarding.start),
    Command("restart", lesson.restart),
    Command("stop", pause.stop),
    Command("delete", account.delete),
)
