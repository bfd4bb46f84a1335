"""build_application: the only place handlers are registered.

The CLI (`bridges run`), `bridges demo` and the end-to-end tests all build the
same Application here and start it with `bot.ops.runner.running`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeAlias

from telegram import BotCommand, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    Defaults,
    ExtBot,
    JobQueue,
    MessageHandler,
    filters,
)

from bot.chat import callbacks
from bot.chat.activity import Activity, TrackingUpdateProcessor
from bot.chat.budget import SendBudget, SlotSource
from bot.chat.commands import COMMANDS
from bot.chat.handlers import (
    account,
    buttons,
    checkin,
    checkin_time,
    errors,
    lesson,
    onboarding,
    router,
    safety,
    snooze,
    together,
)
from bot.chat.sender import TelegramSender
from bot.chat.services import CONTEXT_TYPES, BotData, BridgesContext, Services
from bot.chat.texts import LANGUAGES, texts
from bot.ops import metrics
from lessons.loader import Course
from lessons.render import Renderer
from scheduler.clock import Clock
from scheduler.delivery import DeliveryService
from scheduler.freeze import AUTO_PAUSE_AFTER
from scheduler.tick import concurrency_for, run_tick
from storage.repo import Repo

log = logging.getLogger(__name__)

TICK_JOB = "tick"
# After a 429 the send budget waits retry_after and tries again, this many times.
MAX_RETRIES = 3

# The Application with Bridges' context and bot_data (the bot and job queue stay generic:
# the builder types them loosely).
BridgesApp: TypeAlias = Application[
    ExtBot[Any], BridgesContext, dict[Any, Any], dict[Any, Any], BotData, JobQueue[Any]
]


def build_application(
    *,
    token: str,
    base_url: str,
    repo: Repo,
    course: Course,
    clock: Clock,
    tick_seconds: float,
    activity: Activity | None = None,
    send_per_second: float = 30.0,
    slots: SlotSource | None = None,
    send_early: timedelta = timedelta(0),
    pace_clock: Callable[[], float] = time.monotonic,
    auto_pause_after: int = AUTO_PAUSE_AFTER,
    first_tick: float = 0.5,
) -> BridgesApp:
    """An Application wired with Bridges' handlers, services and tick; not yet running.

    `send_per_second` is the bot's whole message budget (Telegram's 30, or
    more with paid broadcasts); `slots` shares it between processes (see
    bot.chat.budget), paced on `pace_clock` (tests add their simulated days to it);
    `send_early` lets the tick start a busy minute's lessons that
    much before their time (BRIDGES_SEND_EARLY_MINUTES); `auto_pause_after`
    unanswered lessons in a row pause a learner (BRIDGES_AUTO_PAUSE_AFTER);
    `first_tick` is how soon the JobQueue's first tick runs (the end-to-end harness
    runs ticks itself, so it puts this out of reach).
    """
    activity = activity or Activity()
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(_file_url(base_url))
        .rate_limiter(
            SendBudget(
                send_per_second,
                slots=slots,
                max_retries=MAX_RETRIES,
                on_429=metrics.telegram_429,
                clock=pace_clock,
            )
        )
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .concurrent_updates(TrackingUpdateProcessor(activity))
        .context_types(CONTEXT_TYPES)
        .build()
    )
    delivery = DeliveryService(
        repo,
        Renderer(course),
        TelegramSender(app.bot),
        auto_pause_after=auto_pause_after,
        on_outcome=metrics.lesson_outcome,
    )
    app.bot_data.services = Services(
        repo,
        course,
        clock,
        delivery,
        texts(),
        send_early=send_early,
        tick_concurrency=concurrency_for(send_per_second),
        send_per_second=send_per_second,
    )

    # Group 0: commands first, then buttons, text and everything else. Only new
    # messages in private chats: an edited old "/today" must not run again, and
    # Bridges does not teach in groups.
    private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
    # Group -1, before any command runs: the words after a command pass the safety
    # screen ("/sos he is hurting me" is met with care, not "no such country").
    app.add_handler(MessageHandler(filters.COMMAND & private, safety.command_words), group=-1)
    for command in COMMANDS:
        app.add_handler(CommandHandler(command.name, command.handler, filters=private))
    app.add_handler(MessageHandler(filters.COMMAND & private, errors.unknown_command))
    # Buttons: one handler per flow, routed by the data's action (bot/chat/callbacks.py).
    on_button = {
        (callbacks.ANSWER,): checkin.answer_button,
        (callbacks.SNOOZE,): snooze.snooze_button,
        (callbacks.CHECKIN_TIME,): checkin_time.checkin_time_button,
        (callbacks.FIRST_NOW, callbacks.FIRST_LATER): lesson.first_lesson_button,
        (callbacks.PAIR_LINK, callbacks.PAIR_NOT_NOW): together.button,
        (callbacks.PAIR_KEEP,): together.keep_button,
        (callbacks.PAIR_ALIGN,): together.align_button,
        (
            callbacks.LANGUAGE,
            callbacks.ZONE,
            callbacks.ZONE_OTHER,
            callbacks.TIME,
        ): onboarding.setting_button,
    }
    for actions, flow in on_button.items():
        app.add_handler(
            CallbackQueryHandler(buttons.for_learner(flow), pattern=callbacks.pattern(*actions))
        )
    app.add_handler(
        CallbackQueryHandler(
            account.delete_button,
            pattern=callbacks.pattern(callbacks.DELETE_YES, callbacks.DELETE_NO),
        )
    )
    app.add_handler(CallbackQueryHandler(buttons.stale))  # stale or forged: a kind word
    app.add_handler(MessageHandler(filters.TEXT & private, router.text))
    app.add_handler(MessageHandler(filters.LOCATION & private, router.location))
    app.add_handler(
        MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL & private, router.not_text)
    )
    # An edit is read only by the safety screen: words of crisis written into an edit
    # must still be met with care (what else an edit means is not decided here).
    edited = filters.UpdateType.EDITED_MESSAGE & filters.ChatType.PRIVATE
    app.add_handler(MessageHandler((filters.TEXT | filters.CAPTION) & edited, router.edited))
    app.add_handler(ChatMemberHandler(errors.membership, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_error_handler(errors.on_error)

    assert app.job_queue is not None, "python-telegram-bot[job-queue] is required"
    app.job_queue.run_repeating(
        _tick_job, interval=tick_seconds, first=first_tick, name=TICK_JOB, data=activity
    )
    return app


async def _tick_job(context: BridgesContext) -> None:
    """Job callback: a thin shim over scheduler.tick.run_tick with the injected clock.

    It also feeds the metrics: outcomes, duration and the finish time /healthz reads.
    """
    activity = context.job.data if context.job else None
    svc = context.services
    metrics.METRICS.tick_started()
    started = time.monotonic()
    working = activity.working() if isinstance(activity, Activity) else contextlib.nullcontext()
    try:
        async with working:
            report = await run_tick(
                svc.clock,
                svc.delivery,
                early=svc.send_early,
                concurrency=svc.tick_concurrency,
                per_second=svc.send_per_second,
            )
    except BaseException:
        metrics.METRICS.tick_aborted()
        raise
    metrics.tick_finished(report, time.monotonic() - started)


async def register_commands(app: BridgesApp) -> None:
    """Telegram's command menu, in English (the default) and Dutch, from the same table."""
    for language in LANGUAGES:
        commands = [
            BotCommand(command.name, texts().get(language, command.text_id))
            for command in COMMANDS
            if command.in_menu
        ]
        await app.bot.set_my_commands(
            commands, language_code=None if language == "en" else language
        )


def _file_url(base_url: str) -> str:
    """Telegram's file URL beside its API URL (`.../bot` -> `.../file/bot`)."""
    root, _, tail = base_url.rstrip("/").rpartition("/")
    return f"{root}/file/{tail}" if root else base_url
