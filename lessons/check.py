"""`bridges lessons check` and `bridges lessons preview`: the author's tools.

The check renders every lesson the way a learner gets it (with a name full of
`<&>` and emoji, and a long earlier answer where a lesson looks back) and
holds the result to Telegram's own rules, using the one module that knows
them (lessons.telegram_html).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from jinja2 import TemplateError

from lessons.check_safety import safety_problems
from lessons.loader import LESSONS_DIR, Course, Lesson, Problem, align, load_course, read_lessons
from lessons.render import Renderer
from lessons.telegram_html import (
    MAX_BUTTON_TEXT_LENGTH,
    MAX_CALLBACK_DATA_BYTES,
    TelegramHtmlError,
    message_problems,
    parse_html,
    utf16_len,
)

MAX_WORDS = 120
MAX_TITLE = 80
MAX_LABEL = 30
MAX_FEEDBACK = 160
# A practice for two (`together`) is one short turn, read after the day's own practice.
MAX_TOGETHER = 350
SAMPLE_ZONE = "Europe/Amsterdam"  # the longest list of help lines
SAMPLE_NAME = "Zoë <&> 🌉 O'Brien-de Vries"
SAMPLE_ANSWER = "I said: <b>not</b> fine & 🙂 " * 40
# The widest button data: a check-in answer for a delivery id of 19 digits.
ANSWER_DATA = "v1:a:{delivery}:{value}"
WIDEST_DELIVERY_ID = 9_223_372_036_854_775_807
UNRENDERED = re.compile(r"\{\{|\}\}|\{%|%\}")


def find_problems(root: Path = LESSONS_DIR) -> tuple[Course | None, list[Problem]]:
    """Every problem in the course under `root`, with file and line."""
    by_language, problems = read_lessons(root)
    course, more = align(by_language)
    problems.extend(more)
    try:
        renderer = Renderer(course)
    except TemplateError as error:
        problems.append(Problem(root / "templates", getattr(error, "lineno", 0) or 0, str(error)))
        return None, problems
    for lessons in course.lessons.values():
        for lesson in lessons:
            problems.extend(_lesson_problems(renderer, lesson))
        for lesson in (lessons[0], lessons[-1]) if lessons else ():
            if not (lesson.helplines or lesson.safety):
                problems.append(
                    Problem(
                        lesson.path,
                        lesson.line_of("id"),
                        "the first and last day need "
                        "`helplines: true`: the course is not therapy, say where to turn",
                    )
                )
    problems.extend(safety_problems(course, root))
    return course, problems


def needs_together(lesson: Lesson) -> bool:
    """The lessons that must carry a practice for two: the week on resolving conflicts
    together, and every weekly review."""
    return lesson.key == "conflict" or lesson.id.endswith("-review")


def _sample_answers(renderer: Renderer, lesson: Lesson) -> dict[str, str]:
    """The longest answers a learner could have given to the lessons this one looks back at."""
    answers = {}
    for lesson_id in lesson.looks_back():
        earlier = renderer.course.by_id(lesson.language, lesson_id)
        if earlier is not None:
            values = earlier.checkin.values()
            answers[lesson_id] = (
                max(values, key=lambda v: len(earlier.checkin.label_for(v)))
                if values
                else SAMPLE_ANSWER
            )
    return answers


def _lesson_problems(renderer: Renderer, lesson: Lesson) -> list[Problem]:
    found: list[Problem] = []

    def add(field: str, message: str) -> None:
        found.append(Problem(lesson.path, lesson.line_of(field), message))

    words = len(_plain(lesson.text).split())
    if words > MAX_WORDS:
        add("text", f"text has {words} words; keep it to {MAX_WORDS}")
    if len(lesson.title) > MAX_TITLE:
        add("title", f"title is {len(lesson.title)} characters; keep it to {MAX_TITLE}")
    if lesson.together is None and needs_together(lesson):
        add("id", "the conflict week and the weekly reviews need a `together` practice for two")
    if lesson.together is not None and len(lesson.together) > MAX_TOGETHER:
        add("together", f"together is {len(lesson.together)} characters; keep it to {MAX_TOGETHER}")
    for field, source in (
        ("title", lesson.title),
        ("text", lesson.text),
        ("practice", lesson.practice),
        ("together", lesson.together or ""),
    ):
        try:
            parse_html(source)
        except TelegramHtmlError as error:
            add(field, f"Telegram would refuse this HTML: {error}")
    options = [option for checkin in lesson.checkins() for option in checkin.options]
    for option in options:
        if utf16_len(option.label) > min(MAX_LABEL, MAX_BUTTON_TEXT_LENGTH):
            add("checkin", f"button label {option.label!r} is over {MAX_LABEL} characters")
    feedback = [option.feedback for option in options] + [
        line for checkin in lesson.checkins() for _band, line in checkin.bands
    ]
    for line in feedback:
        if len(line) > MAX_FEEDBACK:
            add("checkin", f"feedback {line[:30]!r}… is over {MAX_FEEDBACK} characters")
        if "<" in line or "{" in line:
            add("checkin", f"feedback {line[:30]!r}… is plain text: no HTML or {{ }}")
    for value, path in lesson.branch.paths if lesson.branch else ():
        for field, written in (("text", path.text), ("practice", path.practice)):
            if written is None:
                continue
            source = written
            try:
                parse_html(source)
            except TelegramHtmlError as error:
                add(f"branch.paths.{value}", f"Telegram would refuse this HTML: {error}")
            if field == "text" and len(_plain(source).split()) > MAX_WORDS:
                add(f"branch.paths.{value}", f"branch text has over {MAX_WORDS} words")
    for value in {v for checkin in lesson.checkins() for v in checkin.values()}:
        data = ANSWER_DATA.format(delivery=WIDEST_DELIVERY_ID, value=value)
        if len(data.encode()) > MAX_CALLBACK_DATA_BYTES:
            add("checkin", f"button data for {value!r} is over {MAX_CALLBACK_DATA_BYTES} bytes")
    answers = _sample_answers(renderer, lesson)
    variants: list[tuple[str, dict[str, str]]] = [("text", answers)]
    if lesson.branch is not None:
        for value, _path in lesson.branch.paths:
            variants.append((f"branch.paths.{value}", {**answers, lesson.branch.on: value}))
    for where, given in variants:
        try:
            rendered = renderer.render(
                lesson, name=SAMPLE_NAME, answers=given, timezone=SAMPLE_ZONE, together=True
            )
        except TemplateError as error:
            add(where, f"template error: {error}")
            continue
        parts = (
            (where, rendered.lesson_html),
            ("checkin", rendered.checkin_html),
            ("message", rendered.message_html),  # what is sent: both in one message
        )
        for part, html in parts:
            if UNRENDERED.search(html):
                add(part, "unrendered template markup ({{ }} or {% %}) left in the message")
            for problem in message_problems(html):
                add(part, f"rendered {part}: {problem}")
    return found


def _plain(html: str) -> str:
    try:
        return parse_html(html).text
    except TelegramHtmlError:
        return re.sub(r"<[^>]*>", " ", html)


def check_course(root: Path = LESSONS_DIR) -> int:
    """Print every problem with file and line; exit status 1 if there is any."""
    course, problems = find_problems(root)
    for problem in problems:
        print(problem, file=sys.stderr)  # noqa: T201
    if problems:
        print(f"{len(problems)} problem(s) found.", file=sys.stderr)  # noqa: T201
        return 1
    assert course is not None
    counts = ", ".join(
        f"{language}: {len(lessons)}" for language, lessons in sorted(course.lessons.items())
    )
    print(f"All lessons are fine ({counts}).")  # noqa: T201
    return 0


def preview(day: int, language: str, root: Path = LESSONS_DIR) -> int:
    """Print one day's lesson and check-in as plain text, as a learner would read them."""
    course = load_course(root)
    if not 1 <= day <= course.length:
        print(f"There is no day {day}; the course has days 1 to {course.length}.", file=sys.stderr)  # noqa: T201
        return 1
    lesson = course.lesson(language, day)
    answers = {lesson_id: "(your earlier answer)" for lesson_id in lesson.recall}
    rendered = Renderer(course).render(lesson, name="Alex", answers=answers)
    print(parse_html(rendered.lesson_html).text)  # noqa: T201
    print()  # noqa: T201
    print(parse_html(rendered.checkin_html).text)  # noqa: T201
    if rendered.options:
        print("  ".join(f"[{label}]" for label, _ in rendered.options))  # noqa: T201
    return 0
