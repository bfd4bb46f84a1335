"""/today and "send the first lesson now": one lesson per local day, counted once;
/lesson N shows a lesson already had again (no new day); /restart begins a new round."""

from __future__ import annotations

from telegram import Update

from bot.chat import callbacks
from bot.chat.handlers import together
from bot.chat.handlers.common import (
    Context,
    clear_buttons,
    command_args,
    next_lesson_line,
    reply,
    require_learner,
    say,
)
from bot.chat.handlers.onboarding import continue_onboarding
from storage.views import LearnerView


async def today(update: Update, context: Context) -> None:
    """Today's lesson now: the next one if none went out today, else today's again."""
    learner = await require_learner(update, context)
    if learner is None:
        return
    svc = context.services
    outcome = await svc.repo.deliver_today(learner.id, svc.clock(), svc.delivery.outline)
    if outcome.kind == "not_ready":
        await reply(update, say(learner.language, "error-not-ready"))
        await continue_onboarding(update, learner)
        return
    if outcome.kind == "sending":
        await reply(update, say(learner.language, "lesson-on-its-way"))
        return
    if outcome.kind == "waiting":  # a day ahead of their partner (together, in step)
        await reply(update, say(learner.language, "together-waiting", name=outcome.waiting_for))
        return
    if outcome.kind == "finished" or outcome.claim is None:
        await reply(update, say(learner.language, "course-finished", name=learner.first_name))
        return
    if outcome.kind == "again":
        await reply(update, say(learner.language, "lesson-again"))
        rendered = svc.delivery.render(outcome.claim)
        await svc.delivery.send(outcome.claim, rendered, bulk=False)
        return
    await svc.delivery.deliver_now(outcome.claim, svc.clock)


async def first_lesson_button(
    update: Update, context: Context, learner: LearnerView, data: callbacks.Callback
) -> None:
    """The buttons at the end of onboarding (and on "welcome back"): now, or at my time."""
    query = update.callback_query
    if query is not None:
        await query.answer()
    await clear_buttons(update)
    if data.action == callbacks.FIRST_NOW:
        await today(update, context)
    else:
        await reply(update, say(learner.language, "first-later", time=learner.daily_time))
    await together.offer_held(update, context, learner)  # an invite opened at the start


async def lesson_again(update: Update, context: Context) -> None:
    """/lesson N: a lesson the learner already had, shown again; it counts for nothing."""
    learner = await require_learner(update, context)
    if learner is None:
        return
    svc = context.services
    args = command_args(context)
    total = svc.course.length
    if len(args) != 1 or not args[0].isdecimal() or not 1 <= int(args[0]) <= total:
        await reply(update, say(learner.language, "error-lesson-number", total=total))
        return
    day = int(args[0])
    lesson = svc.course.lesson(learner.language, day)
    if not await svc.repo.delivered_lesson(learner.id, lesson.id):
        await reply(update, say(learner.language, "lesson-not-yet", day=day))
        return
    answers, private = await svc.repo.recalled_answers(learner.id, lesson.looks_back())
    rendered = svc.delivery.renderer.render(
        lesson,
        name=learner.first_name,
        answers=answers,
        private=private,
        timezone=learner.timezone,
    )
    await reply(update, say(learner.language, "lesson-revisit", day=day))
    await reply(update, rendered.lesson_html)


async def restart(update: Update, context: Context) -> None:
    """/restart: after the last day, the course begins again; every answer is kept."""
    learner = await require_learner(update, context)
    if learner is None:
        return
    svc = context.services
    outcome = await svc.repo.restart(learner.id, svc.clock(), svc.course.length)
    if outcome == "not_finished":
        await reply(update, say(learner.language, "restart-not-finished"))
        return
    if outcome != "restarted":
        await reply(update, say(learner.language, "error-not-ready"))
        return
    after = await svc.repo.get_learner(learner.id)
    line = "" if after is None else next_lesson_line(after, context)
    await reply(update, say(learner.language, "restarted", next=line))
