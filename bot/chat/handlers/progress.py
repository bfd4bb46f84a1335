"""/progress: where the learner is in the course, per key, with streaks and answers;
a chart of their scale answers; and /export, all of their own data as a JSON file."""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from typing import Any

from telegram import InputFile, Update

from bot.chat.format import local_day
from bot.chat.handlers.common import Context, reply, require_learner, say
from bot.chat.services import Services
from bot.chat.texts import texts
from lessons.chart import progress_chart
from lessons.loader import KEYS, Course
from scheduler.states import Step
from storage.views import LearnerView, Progress


async def progress(update: Update, context: Context) -> None:
    learner = await require_learner(update, context)
    if learner is None:
        return
    if learner.onboarding_step != Step.DONE:  # "Lesson 0 of 40" would only puzzle
        await reply(update, say(learner.language, "error-not-ready"))
        return
    svc = context.services
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
    shared = await svc.repo.shared_streak(learner.id)
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
            care=found.learner.in_care,  # after a disclosure, no streak: care, not a game
            partner=shared[0].first_name if shared else None,
            together=shared[1] if shared else 0,
        ),
    )
    await _chart(update, svc, learner, found)


def _plain(language: str, text_id: str, **values: object) -> str:
    """A UI text as plain words, for the chart (matplotlib draws text, not HTML)."""
    return texts().get(language, text_id, **values).unescape()


async def _chart(update: Update, svc: Services, learner: LearnerView, found: Progress) -> None:
    """The learner's scale answers as a picture, once there is at least one to draw."""
    points = await svc.repo.scale_answers(learner.id)
    chat = update.effective_chat
    if not points or chat is None:
        return
    language = learner.language
    key_of = {lesson.id: lesson.key for lesson in svc.course.lessons["en"]}
    lines: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for key in KEYS:  # every key in course order, so colours never shift
        lines[_plain(language, f"key-{key}")] = []
    for point in points:
        lesson_key = key_of.get(point.lesson_id)
        if lesson_key in KEYS:  # opening and closing days belong to no key
            lines[_plain(language, f"key-{lesson_key}")].append((point.lesson_day, point.value))
    title = (
        _plain(language, "chart-title-care")
        if found.learner.in_care
        else _plain(language, "chart-title", current=found.streaks.current, freezes=found.freezes)
    )
    png = await asyncio.to_thread(
        progress_chart,
        lines,
        title=title,
        x_label=_plain(language, "chart-x"),
        y_label=_plain(language, "chart-y"),
        total_days=svc.course.length,
    )
    await chat.send_photo(
        InputFile(png, filename="progress.png"), caption=say(language, "chart-caption")
    )


def _in_words(course: Course, language: str, deliveries: list[dict[str, Any]]) -> None:
    """Each answer as the learner saw it beside its stored value: the lesson's title, the
    question asked (a branch's own, where they had one), the button's label in their
    language, or a scale's value with its end labels."""
    values = {d["lesson_id"]: d["answer"]["value"] for d in deliveries if d["answer"]}
    for delivery in deliveries:
        lesson = course.by_id(language, delivery["lesson_id"])
        if lesson is None:
            continue
        delivery["title"] = lesson.title
        answer = delivery["answer"]
        if answer is None:
            continue
        asked = lesson.checkin_for(values)
        answer["question"] = asked.question
        value = answer["value"]
        if asked.kind == "scale":
            answer["as_seen"] = f"{value}/5 (1 = {asked.low}, 5 = {asked.high})"
        else:
            answer["as_seen"] = asked.label_for(value)


async def export(update: Update, context: Context) -> None:
    """/export: the learner's own data (settings, lessons, answers, streaks) as a JSON file."""
    learner = await require_learner(update, context)
    if learner is None:
        return
    svc = context.services
    data = await svc.repo.export(learner.id)
    found = await svc.repo.progress(learner.id)
    chat = update.effective_chat
    if data is None or found is None or chat is None:
        return
    _in_words(svc.course, learner.language, data["deliveries"])
    data["streaks"] = {
        "current": found.streaks.current,
        "longest": found.streaks.longest,
        "freezes": found.freezes,
    }
    body = json.dumps(data, ensure_ascii=False, indent=2).encode()
    await chat.send_document(
        InputFile(body, filename="bridges-export.json"),
        caption=say(learner.language, "export-caption"),
    )
