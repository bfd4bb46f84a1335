"""/today and "send the first lesson now": one lesson per local day, counted once."""

from __future__ import annotations

from telegram import Update

from bot.handlers.common import Context, clear_buttons, current_learner, reply, require_learner, say
from bot.handlers.onboarding import continue_onboarding
from bot.services import services


async def today(update: Update, context: Context) -> None:
    """Today's lesson now: the next one if none went out today, else today's again."""
    learner = await require_learner(update, context)
    if learner is None:
        return
    svc = services(context)
    outcome = await svc.repo.deliver_today(learner.id, svc.clock(), svc.lessons.outline)
    if outcome.kind == "not_ready":
        await reply(update, say(learner.language, "error-not-ready"))
        await continue_onboarding(update, learner)
        return
    if outcome.kind == "sending":
        await reply(update, say(learner.language, "lesson-on-its-way"))
        return
    if outcome.kind == "finished" or outcome.claim is None:
        await reply(update, say(learner.language, "course-finished", name=learner.first_name))
        return
    if outcome.kind == "again":
        await reply(update, say(learner.language, "lesson-again"))
        rendered = await svc.lessons.render(outcome.claim)
        await svc.lessons.send(outcome.claim, rendered, bulk=False)
        return
    await svc.lessons.deliver_now(outcome.claim, svc.clock)


async def first_lesson_button(update: Update, context: Context, now: bool) -> None:
    """The buttons at the end of onboarding (and on "welcome back")."""
    query = update.callback_query
    if query is not None:
        await query.answer()
    await clear_buttons(update)
    if now:
        await today(update, context)
        return
    learner = await current_learner(update, context)
    if learner is not None:
        await reply(update, say(learner.language, "first-later", time=learner.daily_time))
