"""Reads the course from its YAML files into plain, immutable lessons.

Problems are collected with the file and line they come from, so that
``bridges lessons check`` can point an author at the exact spot; loading for
the bot refuses a course with any problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

# Through importlib.resources, so an installed wheel finds the files it ships (they are
# real files in site-packages; a zipped install is not supported).
LESSONS_DIR = Path(str(files("lessons")))
LANGUAGES = ("en", "nl")
KEYS = ("empathy", "communication", "assertiveness", "forgiveness", "conflict", "differences")
PARTS = ("opening", *KEYS, "closing")
CHECKIN_KINDS = ("scale", "choice", "text")
SCALE_VALUES = ("1", "2", "3", "4", "5")
OPTION_VALUE = re.compile(r"^[a-z0-9][a-z0-9-]{0,15}$")
LESSON_ID = re.compile(r"^[a-z]+-[0-9]+$")


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class Checkin:
    kind: str
    question: str
    low: str = ""
    high: str = ""
    options: tuple[Option, ...] = ()

    def values(self) -> tuple[str, ...]:
        """The answers a button may carry; empty for free text."""
        if self.kind == "scale":
            return SCALE_VALUES
        return tuple(option.value for option in self.options)


@dataclass(frozen=True)
class Lesson:
    id: str
    day: int
    key: str
    language: str
    title: str
    text: str
    practice: str
    checkin: Checkin
    recall: str | None
    path: Path
    lines: dict[str, int]  # field -> line in the file, for problems found later

    def line_of(self, field: str) -> int:
        return self.lines.get(field, 1)


@dataclass(frozen=True)
class Course:
    """Every lesson in every language, ordered by day; the days are the same in each."""

    lessons: dict[str, tuple[Lesson, ...]]

    @property
    def length(self) -> int:
        return len(self.lessons[LANGUAGES[0]])

    def lesson(self, language: str, day: int) -> Lesson:
        lessons = self.lessons.get(language) or self.lessons[LANGUAGES[0]]
        return lessons[day - 1]

    def by_id(self, language: str, lesson_id: str) -> Lesson | None:
        for lesson in self.lessons.get(language) or self.lessons[LANGUAGES[0]]:
            if lesson.id == lesson_id:
                return lesson
        return None

    def accepts(self, lesson_id: str, value: str) -> bool:
        """Whether `value` is one of the lesson's check-in answers (the same in every language)."""
        lesson = self.by_id(LANGUAGES[0], lesson_id)
        return lesson is not None and value in lesson.checkin.values()


class CourseError(Exception):
    """The course has problems; the bot refuses to start with a broken course."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "\n".join(str(problem) for problem in problems[:20])
        super().__init__(f"{len(problems)} problem(s) in the course:\n{shown}")


def unwrap(text: str) -> str:
    """Join the hard-wrapped lines of a paragraph; keep blank lines and list lines.

    Authors wrap YAML text at 80 columns; on a phone those line breaks would
    show as ragged lines, so only paragraph breaks survive.
    """
    paragraphs = re.split(r"\n\s*\n", text.strip())
    result = []
    for paragraph in paragraphs:
        lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
        joined: list[str] = []
        for line in lines:
            if joined and not re.match(r"^([-•*]|\d+[.)])\s", line):
                joined[-1] = f"{joined[-1]} {line}"
            else:
                joined.append(line)
        result.append("\n".join(joined))
    return "\n\n".join(result)


def read_lessons(root: Path = LESSONS_DIR) -> tuple[dict[str, list[Lesson]], list[Problem]]:
    """Every lesson file under `root`/<language>/, and every problem found on the way."""
    problems: list[Problem] = []
    by_language: dict[str, list[Lesson]] = {}
    for language in LANGUAGES:
        folder = root / language
        files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
        if not files:
            problems.append(Problem(folder, 0, f"no lessons for language {language!r}"))
        by_language[language] = []
        for path in files:
            lesson = _read_file(path, language, problems)
            if lesson is not None:
                by_language[language].append(lesson)
    return by_language, problems


def _read_file(path: Path, language: str, problems: list[Problem]) -> Lesson | None:
    try:
        source = path.read_text(encoding="utf-8")
        node = yaml.compose(source, Loader=yaml.SafeLoader)
        data = yaml.safe_load(source)
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(path, 1, f"cannot read: {error}"))
        return None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problems.append(Problem(path, line, f"not valid YAML: {error}"))
        return None
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        problems.append(Problem(path, 1, "a lesson file must be a mapping of fields"))
        return None
    lines = _field_lines(node)
    before = len(problems)

    def need_text(mapping: dict[str, Any], field: str, where: str) -> str:
        value = mapping.get(field)
        if not isinstance(value, str) or not value.strip():
            problems.append(Problem(path, lines.get(where, 1), f"{where}: missing or empty text"))
            return ""
        return value.strip()

    lesson_id = need_text(data, "id", "id")
    if lesson_id and not LESSON_ID.match(lesson_id):
        problems.append(Problem(path, lines.get("id", 1), f"id {lesson_id!r}: use key-number"))
    day = data.get("day")
    if not isinstance(day, int) or isinstance(day, bool) or day < 1:
        problems.append(Problem(path, lines.get("day", 1), "day: a whole number from 1"))
        day = 0
    key = data.get("key")
    if key not in PARTS:
        problems.append(Problem(path, lines.get("key", 1), f"key: one of {', '.join(PARTS)}"))
    title = need_text(data, "title", "title")
    text = need_text(data, "text", "text")
    practice = need_text(data, "practice", "practice")
    recall = data.get("recall")
    if recall is not None and not isinstance(recall, str):
        problems.append(Problem(path, lines.get("recall", 1), "recall: a lesson id"))
        recall = None
    unknown = set(data) - {"id", "day", "key", "title", "text", "practice", "checkin", "recall"}
    for field in sorted(unknown):
        problems.append(Problem(path, lines.get(field, 1), f"unknown field {field!r}"))
    checkin = _read_checkin(path, data.get("checkin"), lines, problems)
    if len(problems) > before or checkin is None:
        return None
    return Lesson(
        id=lesson_id,
        day=day,
        key=str(key),
        language=language,
        title=title,
        text=unwrap(text),
        practice=unwrap(practice),
        checkin=checkin,
        recall=recall,
        path=path,
        lines=lines,
    )


def _read_checkin(
    path: Path, raw: object, lines: dict[str, int], problems: list[Problem]
) -> Checkin | None:
    line = lines.get("checkin", 1)
    if not isinstance(raw, dict):
        problems.append(Problem(path, line, "checkin: needs kind and question"))
        return None
    kind = raw.get("kind")
    question = raw.get("question")
    if kind not in CHECKIN_KINDS:
        problems.append(Problem(path, line, f"checkin kind: one of {', '.join(CHECKIN_KINDS)}"))
        return None
    if not isinstance(question, str) or not question.strip():
        problems.append(Problem(path, line, "checkin question: missing or empty"))
        return None
    if kind == "scale":
        low, high = raw.get("low"), raw.get("high")
        if not (isinstance(low, str) and low.strip() and isinstance(high, str) and high.strip()):
            problems.append(Problem(path, line, "a scale check-in needs `low` and `high` labels"))
            return None
        return Checkin("scale", question.strip(), low=low.strip(), high=high.strip())
    if kind == "choice":
        options = raw.get("options")
        if not isinstance(options, list) or not 2 <= len(options) <= 4:
            problems.append(Problem(path, line, "a choice check-in needs 2 to 4 options"))
            return None
        parsed: list[Option] = []
        for option in options:
            value = option.get("value") if isinstance(option, dict) else None
            label = option.get("label") if isinstance(option, dict) else None
            if not isinstance(value, str) or not OPTION_VALUE.match(value):
                problems.append(
                    Problem(path, line, f"option value {value!r}: lowercase a-z 0-9 -, ≤16")
                )
                return None
            if not isinstance(label, str) or not label.strip():
                problems.append(Problem(path, line, f"option {value!r}: missing label"))
                return None
            parsed.append(Option(value, label.strip()))
        if len({option.value for option in parsed}) != len(parsed):
            problems.append(Problem(path, line, "option values must differ"))
            return None
        return Checkin("choice", question.strip(), options=tuple(parsed))
    return Checkin("text", question.strip())


def _field_lines(node: yaml.MappingNode) -> dict[str, int]:
    lines: dict[str, int] = {}
    for key_node, _value in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            lines[str(key_node.value)] = key_node.start_mark.line + 1
    return lines


def align(by_language: dict[str, list[Lesson]]) -> tuple[Course, list[Problem]]:
    """Order lessons by day and check that every language has the same course."""
    problems: list[Problem] = []
    ordered = {
        lang: sorted(lessons, key=lambda item: item.day) for lang, lessons in by_language.items()
    }
    for lang, lessons in ordered.items():
        seen_ids: dict[str, Lesson] = {}
        for position, lesson in enumerate(lessons, start=1):
            if lesson.day != position:
                problems.append(
                    Problem(
                        lesson.path,
                        lesson.line_of("day"),
                        f"day {lesson.day}: expected {position} (days run 1, 2, 3 … without gaps)",
                    )
                )
            if lesson.id in seen_ids:
                problems.append(
                    Problem(
                        lesson.path,
                        lesson.line_of("id"),
                        f"id {lesson.id!r} also in {seen_ids[lesson.id].path.name}",
                    )
                )
            seen_ids[lesson.id] = lesson
        for lesson in lessons:
            if lesson.recall is not None:
                target = seen_ids.get(lesson.recall)
                if target is None or target.day >= lesson.day:
                    problems.append(
                        Problem(
                            lesson.path,
                            lesson.line_of("recall"),
                            f"recall {lesson.recall!r}: not an earlier lesson",
                        )
                    )
                elif target.checkin.kind != "text":
                    problems.append(
                        Problem(
                            lesson.path,
                            lesson.line_of("recall"),
                            f"recall {lesson.recall!r}: its check-in is not free text",
                        )
                    )
        present = {lesson.key for lesson in lessons}
        for key in KEYS:
            if lessons and key not in present:
                problems.append(
                    Problem(lessons[0].path.parent, 0, f"no lesson for key {key!r} in {lang!r}")
                )
    base_lang = LANGUAGES[0]
    base = ordered.get(base_lang, [])
    for lang in LANGUAGES[1:]:
        other = {lesson.id: lesson for lesson in ordered.get(lang, [])}
        for lesson in base:
            twin = other.pop(lesson.id, None)
            if twin is None:
                problems.append(
                    Problem(
                        lesson.path, lesson.line_of("id"), f"{lesson.id!r} has no {lang!r} version"
                    )
                )
                continue
            for field, mine, theirs in (
                ("day", lesson.day, twin.day),
                ("key", lesson.key, twin.key),
                ("recall", lesson.recall, twin.recall),
                ("checkin", lesson.checkin.kind, twin.checkin.kind),
                ("checkin", lesson.checkin.values(), twin.checkin.values()),
            ):
                if mine != theirs:
                    problems.append(
                        Problem(
                            twin.path,
                            twin.line_of(field),
                            f"{field} differs from {lesson.path.name}: {theirs!r} vs {mine!r}",
                        )
                    )
        for twin in other.values():
            problems.append(
                Problem(twin.path, twin.line_of("id"), f"{twin.id!r} has no {base_lang!r} version")
            )
    course = Course({lang: tuple(lessons) for lang, lessons in ordered.items()})
    return course, problems


def load_course(root: Path = LESSONS_DIR) -> Course:
    """The course the bot teaches; raises CourseError rather than teach a broken one."""
    by_language, problems = read_lessons(root)
    course, more = align(by_language)
    problems.extend(more)
    if problems:
        raise CourseError(problems)
    return course
