"""Turns a lesson into Telegram HTML with Jinja2.

Autoescape is on and undefined names are errors. A lesson's own text is
written by us and may hold Telegram HTML, so its template source is trusted;
whatever a learner typed (their name, an earlier answer) goes in as a variable
and is escaped. Templates are compiled once, when the renderer is built.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

from lessons.helplines import helpline_lines
from lessons.loader import LESSONS_DIR, Course, Lesson

# An earlier answer shown again is cut to this many characters, to keep the
# lesson well inside Telegram's 4096; a review shows up to six, each shorter.
RECALL_LIMIT = 500
REVIEW_LIMIT = 200


@dataclass(frozen=True)
class Recalled:
    """One earlier answer shown back: the lesson it answered and the learner's words."""

    title: str
    answer: str


@dataclass(frozen=True)
class Compared:
    """One check-in of the week both partners answered and saw of each other: the lesson,
    each one's answer as it reads back, and whether they met (the same answer)."""

    title: str
    mine: str
    theirs: str

    @property
    def met(self) -> bool:
        return self.mine == self.theirs


@dataclass(frozen=True)
class PairWeek:
    """A linked learner's weekly review: where they and their partner met and differed."""

    name: str
    items: tuple[Compared, ...]

    @property
    def differed(self) -> bool:
        return any(not item.met for item in self.items)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class RenderedLesson:
    """A lesson as Telegram HTML, and its check-in with the answers its buttons carry."""

    lesson_id: str
    lesson_html: str
    checkin_html: str
    checkin_kind: str
    options: tuple[tuple[str, str], ...]  # (button label, value); empty for free text

    @property
    def message_html(self) -> str:
        """The one message a lesson is sent as: its text, then its check-in (bot/chat/sender.py)."""
        return f"{self.lesson_html}\n\n{self.checkin_html}"


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
        # (language, lesson id, branch value or "") -> text and practice templates
        self._bodies: dict[tuple[str, str, str], tuple[Template, Template]] = {}
        for language, lessons in course.lessons.items():
            for lesson in lessons:
                main = (
                    self._env.from_string(lesson.text),
                    self._env.from_string(lesson.practice),
                )
                self._bodies[(language, lesson.id, "")] = main
                for value, path in lesson.branch.paths if lesson.branch else ():
                    self._bodies[(language, lesson.id, value)] = (
                        main[0] if path.text is None else self._env.from_string(path.text),
                        main[1] if path.practice is None else self._env.from_string(path.practice),
                    )

    def render(
        self,
        lesson: Lesson,
        *,
        name: str,
        answers: Mapping[str, str] | None = None,
        timezone: str | None = None,
        recalled: str | None = None,
        private: Collection[str] = (),
        together: bool = False,
        partner: tuple[str, Mapping[str, str]] | None = None,
    ) -> RenderedLesson:
        """The lesson and check-in for one learner.

        `answers` maps earlier lesson ids to this learner's answers (values for
        buttons, words for free text): recalled ones are shown back, escaped,
        and a branch picks its path by one. Missing answers are simply left
        out. `timezone` picks the help lines (None: the neutral line only).
        `recalled` is the older one-answer form, kept for callers that fetch a
        single recalled answer themselves. `private` names the lessons whose answers
        may pick a branch but are never shown back (they spoke of crisis or abuse).
        `together`: the learner takes the course with someone, so the lesson's shared
        practice is shown, except on a branch's path (a path may be the one for a
        learner being hurt, and a practice for two is not for them).
        `partner`: a linked learner's partner's first name and answers to the lessons a
        weekly review looks back at (only those both saw), so the review says, warmly and
        never as a score, where the two met and differed (with the practice for two).
        """
        answers = dict(answers or {})
        if recalled is not None and lesson.recall and lesson.recall[0] not in answers:
            answers[lesson.recall[0]] = recalled
        lesson_frame, checkin_frame = self._frames[lesson.language]
        path = ""
        if lesson.branch is not None and lesson.branch.path_for(answers.get(lesson.branch.on)):
            path = answers[lesson.branch.on]
        text_template, practice_template = self._bodies[(lesson.language, lesson.id, path)]
        text = Markup(text_template.render(name=name))  # noqa: S704 - our own, validated text
        practice = Markup(practice_template.render(name=name))  # noqa: S704
        shared = Markup(lesson.together) if together and lesson.together and not path else None  # noqa: S704
        lesson_html = lesson_frame.render(
            lesson=lesson,
            text=text,
            practice=practice,
            together=shared,
            pair_week=self._pair_week(lesson, answers, private, partner) if shared else None,
            recalled=self._recalled(lesson, answers, private),
            helplines=(
                helpline_lines(timezone, lesson.language)
                if lesson.helplines or lesson.safety
                else ()
            ),
            total=self.course.length,
        ).strip()
        checkin = lesson.checkin_for(answers)  # a branch may ask its own
        checkin_html = checkin_frame.render(checkin=checkin).strip()
        if checkin.kind == "scale":
            options = tuple((value, value) for value in checkin.values())
        else:
            options = tuple((option.label, option.value) for option in checkin.options)
        return RenderedLesson(lesson.id, lesson_html, checkin_html, checkin.kind, options)

    def _pair_week(
        self,
        lesson: Lesson,
        answers: Mapping[str, str],
        private: Collection[str],
        partner: tuple[str, Mapping[str, str]] | None,
    ) -> PairWeek | None:
        """Where the learner and their partner met and differed on the week's taps and
        scales (words are not compared: both are theirs to talk about; nor check-ins a
        branch may have asked differently); None when none."""
        if partner is None or len(lesson.recall) <= 1:
            return None
        name, theirs = partner
        items = []
        for lesson_id in lesson.recall:
            earlier = self.course.by_id(lesson.language, lesson_id)
            mine, other = answers.get(lesson_id), theirs.get(lesson_id)
            if earlier is None or mine is None or other is None or lesson_id in private:
                continue
            if earlier.branch is not None:
                continue  # each may have been asked their own branch's question
            asked = earlier.checkin_for(answers)
            if not asked.values():
                continue
            items.append(Compared(earlier.title, asked.label_for(mine), asked.label_for(other)))
        return PairWeek(name, tuple(items)) if items else None

    def _recalled(
        self, lesson: Lesson, answers: Mapping[str, str], private: Collection[str]
    ) -> list[Recalled]:
        """The learner's earlier answers this lesson shows, in its order; missing and
        private ones skipped (a private one still says which branch's words to read)."""
        limit = RECALL_LIMIT if len(lesson.recall) <= 1 else REVIEW_LIMIT
        shown = []
        for lesson_id in lesson.recall:
            earlier = self.course.by_id(lesson.language, lesson_id)
            answer = answers.get(lesson_id)
            if earlier is None or answer is None or not answer.strip() or lesson_id in private:
                continue
            asked = earlier.checkin_for(answers)  # the branch's own check-in, if it had one
            words = asked.label_for(answer) if asked.values() else answer
            shown.append(Recalled(earlier.title, _cut(words.strip(), limit)))
        return shown
