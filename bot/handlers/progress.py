"""/progress: where the learner is in the course, per key, with streaks and answers."""

from __future__ import annotations

from collections import Counter

from telegram import Update

from bot.format import local_day
from bot.handlers.common import Context, reply, require_learner, say
from bot.services import services
from lessons.loader import KEYS


async def progress(update: Update, context: Context) -> None:
    learner = await require_learner(update, context)
    if learner is None:
        return
    svc = services(context)
    found = await svc.repo.progress(learner.id)
    if found is None:
        return
    language = learner.language
    lessons = svc.course.lessons["en"]
    key_of = {lesson.id: lesson.key for lesson in lessons}
    done = Counter(key_of.get(lesson_id) for lesson_id in found.delivered)
    total = Counter(lesson.key for lesson in lessons)
    per_key = "\n".join(
        say(
            language,
            "progress-key",
            key=say(language, f"key-{key}"),
            done=done[key],
            total=total[key],
        )
        for key in KEYS
    )
    now = svc.clock()
    until = None
    if found.learner.is_paused(now) and found.learner.paused_until is not None:
        until = local_day(found.learner.paused_until, learner.timezone or "UTC", language)
    await reply(
        update,
        say(
            language,
            "progress",
            done=len(found.delivered),
            total=svc.course.length,
            per_key=per_key,
            current=found.streaks.current,
            longest=found.streaks.longest,
            answers=found.answers,
            freezes=found.freezes,
            paused=found.learner.is_paused(now),
            until=until,
        ),
    )
