"""Turns a lesson into Telegram HTML with Jinja2.

Autoescape is on and undefined names are errors. A lesson's own text is
written by us and may hold Telegram HTML, so its template source is trusted;
whatever a learner typed (their name, an earlier answer) goes in as a variable
and is escaped. Templates are compiled once, when the renderer is built.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

from lessons.loader import LESSONS_DIR, Course, Lesson

# An earlier answer shown again is cut to this many characters, to keep the
# lesson well inside Telegram's 4096.
RECALL_LIMIT = 500


@dataclass(frozen=True)
class RenderedLesson:
    """A lesson as Telegram HTML, and its check-in with the answers its buttons carry."""

    lesson_id: str
    lesson_html: str
    checkin_html: str
    checkin_kind: str
    options: tuple[tuple[str, str], ...]  # (button label, value); empty for free text


def make_environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(LESSONS_DIR / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
    )


class Renderer:
    """Renders any lesson of one course; build once, share everywhere."""

    def __init__(self, course: Course) -> None:
        self.course = course
        self._env = make_environment()
        self._frames = {
            language: (
                self._env.get_template(f"{language}/lesson.html.j2"),
                self._env.get_template(f"{language}/checkin.html.j2"),
            )
            for language in course.lessons
        }
        self._bodies: dict[tuple[str, str], tuple[Template, Template]] = {
            (language, lesson.id): (
                self._env.from_string(lesson.text),
                self._env.from_string(lesson.practice),
            )
            for language, lessons in course.lessons.items()
            for lesson in lessons
        }

    def render(self, lesson: Lesson, *, name: str, recalled: str | None = None) -> RenderedLesson:
        """The lesson and check-in for one learner; `name` and `recalled` are escaped."""
        lesson_frame, checkin_frame = self._frames[lesson.language]
        text_template, practice_template = self._bodies[(lesson.language, lesson.id)]
        if recalled is not None and len(recalled) > RECALL_LIMIT:
            recalled = recalled[: RECALL_LIMIT - 1] + "…"
        text = Markup(text_template.render(name=name))  # noqa: S704 - our own, validated text
        practice = Markup(practice_template.render(name=name))  # noqa: S704
        lesson_html = lesson_frame.render(
            lesson=lesson,
            text=text,
            practice=practice,
            recalled=recalled,
            total=self.course.length,
        ).strip()
        checkin_html = checkin_frame.render(checkin=lesson.checkin).strip()
        if lesson.checkin.kind == "scale":
            options = tuple((value, value) for value in lesson.checkin.values())
        else:
            options = tuple((option.label, option.value) for option in lesson.checkin.options)
        return RenderedLesson(lesson.id, lesson_html, checkin_html, lesson.checkin.kind, options)
