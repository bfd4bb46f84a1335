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
    return course, problems


def _lesson_problems(renderer: Renderer, lesson: Lesson) -> list[Problem]:
    found: list[Problem] = []

    def add(field: str, message: str) -> None:
        found.append(Problem(lesson.path, lesson.line_of(field), message))

    words = len(_plain(lesson.text).split())
    if words > MAX_WORDS:
        add("text", f"text has {words} words; keep it to {MAX_WORDS}")
    if len(lesson.title) > MAX_TITLE:
        add("title", f"title is {len(lesson.title)} characters; keep it to {MAX_TITLE}")
    for field, source in (
        ("title", lesson.title),
        ("text", lesson.text),
        ("practice", lesson.practice),
    ):
        try:
            parse_html(source)
        except TelegramHtmlError as error:
            add(field, f"Telegram would refuse this HTML: {error}")
    for option in lesson.checkin.options:
        if utf16_len(option.label) > min(MAX_LABEL, MAX_BUTTON_TEXT_LENGTH):
            add("checkin", f"button label {option.label!r} is over {MAX_LABEL} characters")
    for value in lesson.checkin.values():
        data = ANSWER_DATA.format(delivery=WIDEST_DELIVERY_ID, value=value)
        if len(data.encode()) > MAX_CALLBACK_DATA_BYTES:
            add("checkin", f"button data for {value!r} is over {MAX_CALLBACK_DATA_BYTES} bytes")
    recalled = SAMPLE_ANSWER if lesson.recall else None
    try:
        rendered = renderer.render(lesson, name=SAMPLE_NAME, recalled=recalled)
    except TemplateError as error:
        add("text", f"template error: {error}")
        return found
    for part, html in (("text", rendered.lesson_html), ("checkin", rendered.checkin_html)):
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
    rendered = Renderer(course).render(
        lesson, name="Alex", recalled="(your earlier answer)" if lesson.recall else None
    )
    print(parse_html(rendered.lesson_html).text)  # noqa: T201
    print()  # noqa: T201
    print(parse_html(rendered.checkin_html).text)  # noqa: T201
    if rendered.options:
        print("  ".join(f"[{label}]" for label, _ in rendered.options))  # noqa: T201
    return 0
