"""/pause, /resume and /stop: no nudges while paused or stopped; the course waits."""

from __future__ import annotations

from telegram import Update

from bot.chat.format import local_day
from bot.chat.handlers import together
from bot.chat.handlers.common import (
    Context,
    command_args,
    next_lesson_line,
    reply,
    require_learner,
    say,
)

MAX_PAUSE_DAYS = 365


async def pause(update: Update, context: Context) -> None:
    """/pause (until /resume) or /pause N (N days, then lessons resume by themselves)."""
    learner = await require_learner(update, context)
    if learner is None:
        return
    args = command_args(context)
    days: int | None = None
    if args:
        if len(args) != 1 or not args[0].isdecimal() or not 1 <= int(args[0]) <= MAX_PAUSE_DAYS:
            await reply(update, say(learner.language, "error-pause"))
            return
        days = int(args[0])
    svc = context.services
    paused = await svc.repo.pause(learner.id, svc.clock(), days)
    if paused is None:
        return
    if days is None or paused.paused_until is None:
        await reply(update, say(learner.language, "paused"))
        return
    # The day the first lesson after the pause is due, which is what a learner wants to know.
    back = paused.next_due_at or paused.paused_until
    until = local_day(back, paused.timezone or "UTC", learner.language)
    await reply(update, say(learner.language, "paused-days", days=days, until=until))


async def resume(update: Update, context: Context) -> None:
    """/resume: lessons start again at the learner's next daily time."""
    learner = await require_learner(update, context)
    if learner is None:
        return
    svc = context.services
    resumed, was_paused = await svc.repo.resume(learner.id, svc.clock())
    if resumed is None:
        return
    line = next_lesson_line(resumed, context)
    await reply(update, say(learner.language, "resumed" if was_paused else "not-paused", next=line))
    if was_paused:
        await together.catch_up(update, context, resumed)


async def stop(update: Update, context: Context) -> None:
    """/stop: no more lessons; data kept, /start brings the learner back."""
    learner = await require_learner(update, context)
    if learner is None:
        return
    await context.services.repo.stop(learner.id)
    await reply(update, say(learner.language, "stopped"))
