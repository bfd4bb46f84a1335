"""Reads the course from its YAML files into plain, immutable lessons.

Problems are collected with the file and line they come from, so that
``bridges lessons check`` can point an author at the exact spot; loading for
the bot refuses a course with any problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
# `empathy-3` for a lesson, `empathy-review` for the review day that closes a key.
LESSON_ID = re.compile(r"^[a-z]+-([0-9]+|review)$")
# A scale's feedback comes in three bands: struggling, in between, going well.
BANDS = ("1-2", "3", "4-5")
BAND_OF = {"1": "1-2", "2": "1-2", "3": "3", "4": "4-5", "5": "4-5"}
LESSON_FIELDS = frozenset(
    {
        "id",
        "day",
        "key",
        "title",
        "text",
        "practice",
        "checkin",
        "recall",
        "branch",
        "helplines",
        "safety",
        "together",
    }
)
OPTION_FIELDS = frozenset({"value", "label", "feedback", "helplines"})
# Five keys and "something else", or five answers and "not today": more buttons than
# that do not fit a phone's screen under the lesson.
MAX_OPTIONS = 6


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
    feedback: str = ""  # one short line the learner reads after choosing this option
    # An answer that says the learner is being harmed ("someone is hurting me now"): its
    # feedback comes with the help lines and never with a streak.
    helplines: bool = False


@dataclass(frozen=True)
class Checkin:
    kind: str
    question: str
    low: str = ""
    high: str = ""
    options: tuple[Option, ...] = ()
    bands: tuple[tuple[str, str], ...] = ()  # (band, feedback) for a scale: "1-2", "3", "4-5"

    def values(self) -> tuple[str, ...]:
        """The answers a button may carry; empty for free text."""
        if self.kind == "scale":
            return SCALE_VALUES
        return tuple(option.value for option in self.options)

    def feedback_for(self, value: str) -> str:
        """The line that answers this answer: the option's own, or the scale band's; or ""."""
        if self.kind == "scale":
            return dict(self.bands).get(BAND_OF.get(value, ""), "")
        for option in self.options:
            if option.value == value:
                return option.feedback
        return ""

    def label_for(self, value: str) -> str:
        """How an answer reads back to the learner: the button's words, or "4/5" on a scale."""
        if self.kind == "scale":
            return f"{value}/5"
        for option in self.options:
            if option.value == value:
                return option.label
        return value


@dataclass(frozen=True)
class BranchPath:
    """One branch of a lesson: the text, practice and/or check-in a learner gets for one
    earlier answer (a check-in of the lesson's own kind, with its own words)."""

    text: str | None
    practice: str | None
    checkin: Checkin | None = None


@dataclass(frozen=True)
class Branch:
    """A lesson that reads an earlier choice: `paths` maps that answer's value to other words.

    Learners whose answer has no path (or who did not answer) get the lesson's
    own text and practice.
    """

    on: str
    paths: tuple[tuple[str, BranchPath], ...]

    def path_for(self, value: str | None) -> BranchPath | None:
        return dict(self.paths).get(value or "")


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
    recall: tuple[str, ...]  # earlier lessons whose answers are shown back, in this order
    path: Path
    lines: dict[str, int]  # field (nested ones dotted: "branch.paths.myself") -> line
    branch: Branch | None = None
    helplines: bool = False  # show where to turn (day 1, harm, the last day)
    # The safety note before the course and before the forgiveness and conflict weeks:
    # these skills are for relationships where you are safe (with the help lines).
    safety: bool = False
    # A shared practice for two learners taking the course together (issue 16): shown
    # only to a linked learner, after the lesson's own practice, never on a help path.
    together: str | None = None

    def line_of(self, field: str) -> int:
        return self.lines.get(field, 1)

    def checkin_for(self, answers: Mapping[str, str]) -> Checkin:
        """The check-in a learner with these earlier answers is asked: their branch's own,
        or the lesson's."""
        if self.branch is not None:
            path = self.branch.path_for(answers.get(self.branch.on))
            if path is not None and path.checkin is not None:
                return path.checkin
        return self.checkin

    def checkins(self) -> tuple[Checkin, ...]:
        """Every check-in this lesson may ask: its own, then each branch's."""
        own = (self.checkin,)
        if self.branch is None:
            return own
        return own + tuple(path.checkin for _v, path in self.branch.paths if path.checkin)

    def looks_back(self) -> tuple[str, ...]:
        """Every earlier lesson whose answer this lesson needs to render: recalls, then branch."""
        ids = list(self.recall)
        if self.branch is not None and self.branch.on not in ids:
            ids.append(self.branch.on)
        return tuple(ids)


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

    def feedback(
        self, language: str, lesson_id: str, value: str, answers: Mapping[str, str] | None = None
    ) -> str:
        """The feedback line for an answer to a lesson's check-in, in `language`; "" if none.

        `answers` (earlier lesson id -> answer) picks a branch's own check-in."""
        lesson = self.by_id(language, lesson_id)
        return "" if lesson is None else lesson.checkin_for(answers or {}).feedback_for(value)

    def leads_to_help(self, lesson_id: str, value: str) -> bool:
        """Whether this answer says the learner is being harmed (an option with `helplines`):
        it is answered with the help lines, never a streak, and never shown back."""
        lesson = self.by_id(LANGUAGES[0], lesson_id)
        return lesson is not None and any(
            option.value == value and option.helplines for option in lesson.checkin.options
        )

    def accepts(self, lesson_id: str, value: str) -> bool:
        """Whether `value` is one of the lesson's check-in answers (the same in every language)."""
        lesson = self.by_id(LANGUAGES[0], lesson_id)
        return lesson is not None and any(value in c.values() for c in lesson.checkins())


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
    recall = _read_recall(path, data.get("recall"), lines, problems)
    branch = _read_branch(path, data.get("branch"), lines, problems)
    helplines = data.get("helplines", False)
    if not isinstance(helplines, bool):
        problems.append(Problem(path, lines.get("helplines", 1), "helplines: true or false"))
        helplines = False
    safety = data.get("safety", False)
    if not isinstance(safety, bool):
        problems.append(Problem(path, lines.get("safety", 1), "safety: true or false"))
        safety = False
    together = data.get("together")
    if together is not None and (not isinstance(together, str) or not together.strip()):
        problems.append(Problem(path, lines.get("together", 1), "together: a short text"))
        together = None
    for field in sorted(set(data) - LESSON_FIELDS):
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
        branch=branch,
        helplines=helplines,
        safety=safety,
        together=unwrap(together) if together else None,
    )


def _read_recall(
    path: Path, raw: object, lines: dict[str, int], problems: list[Problem]
) -> tuple[str, ...]:
    """`recall: some-id` or a list of ids; the answers are shown in the order given."""
    if raw is None:
        return ()
    ids = [raw] if isinstance(raw, str) else raw
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        problems.append(Problem(path, lines.get("recall", 1), "recall: a lesson id or a list"))
        return ()
    if len(set(ids)) != len(ids):
        problems.append(Problem(path, lines.get("recall", 1), "recall: an id appears twice"))
    return tuple(ids)


def _read_branch(
    path: Path, raw: object, lines: dict[str, int], problems: list[Problem]
) -> Branch | None:
    """`branch: {from: <earlier choice lesson>, paths: {<value>: {text, practice}}}`.

    The key is `from`, not `on`: YAML 1.1 reads a bare `on` as true.
    """
    if raw is None:
        return None
    line = lines.get("branch", 1)
    if not isinstance(raw, dict) or set(raw) != {"from", "paths"}:
        problems.append(Problem(path, line, "branch: needs exactly `from` and `paths`"))
        return None
    on, paths = raw["from"], raw["paths"]
    if not isinstance(on, str) or not on.strip():
        problems.append(Problem(path, lines.get("branch.from", line), "branch from: a lesson id"))
        return None
    if not isinstance(paths, dict) or not paths:
        problems.append(Problem(path, lines.get("branch.paths", line), "branch paths: a mapping"))
        return None
    parsed: list[tuple[str, BranchPath]] = []
    for value, body in paths.items():
        where = lines.get(f"branch.paths.{value}", line)
        if not isinstance(body, dict) or not body or set(body) - {"text", "practice", "checkin"}:
            problems.append(
                Problem(path, where, f"branch path {value!r}: text, practice and/or checkin")
            )
            continue
        checkin = None
        if "checkin" in body:
            checkin = _read_checkin(
                path, body["checkin"], lines, problems, prefix=f"branch.paths.{value}.checkin"
            )
            if checkin is None:
                continue
        texts = {field: body.get(field) for field in ("text", "practice")}
        if any(v is not None and (not isinstance(v, str) or not v.strip()) for v in texts.values()):
            problems.append(Problem(path, where, f"branch path {value!r}: empty text"))
            continue
        text, practice = texts["text"], texts["practice"]
        parsed.append(
            (
                str(value),
                BranchPath(
                    unwrap(text) if isinstance(text, str) else None,
                    unwrap(practice) if isinstance(practice, str) else None,
                    checkin,
                ),
            )
        )
    return Branch(on.strip(), tuple(parsed))


def _read_checkin(
    path: Path,
    raw: object,
    lines: dict[str, int],
    problems: list[Problem],
    *,
    prefix: str = "checkin",
) -> Checkin | None:
    """A check-in: the lesson's own (`checkin`), or a branch path's (`prefix` names it)."""
    line = lines.get(prefix, 1)
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
        if low.strip().casefold() == high.strip().casefold():
            problems.append(Problem(path, line, "a scale's `low` and `high` labels must differ"))
            return None
        bands = _read_bands(path, raw.get("feedback"), lines, problems, prefix=prefix)
        if bands is None:
            return None
        return Checkin("scale", question.strip(), low=low.strip(), high=high.strip(), bands=bands)
    if kind == "choice":
        options = raw.get("options")
        if not isinstance(options, list) or not 2 <= len(options) <= MAX_OPTIONS:
            problems.append(
                Problem(path, line, f"a choice check-in needs 2 to {MAX_OPTIONS} options")
            )
            return None
        parsed: list[Option] = []
        for number, option in enumerate(options):
            where = lines.get(f"{prefix}.options.{number}", line)
            value = option.get("value") if isinstance(option, dict) else None
            label = option.get("label") if isinstance(option, dict) else None
            feedback = option.get("feedback") if isinstance(option, dict) else None
            if not isinstance(value, str) or not OPTION_VALUE.match(value):
                problems.append(
                    Problem(path, where, f"option value {value!r}: lowercase a-z 0-9 -, ≤16")
                )
                return None
            if not isinstance(label, str) or not label.strip():
                problems.append(Problem(path, where, f"option {value!r}: missing label"))
                return None
            if not isinstance(feedback, str) or not feedback.strip():
                problems.append(Problem(path, where, f"option {value!r}: missing feedback line"))
                return None
            unknown = sorted(set(option) - OPTION_FIELDS)
            if unknown:
                problems.append(
                    Problem(path, where, f"option {value!r}: unknown field {unknown[0]!r}")
                )
                return None
            helps = option.get("helplines", False)
            if not isinstance(helps, bool):
                problems.append(Problem(path, where, f"option {value!r}: helplines true or false"))
                return None
            parsed.append(Option(value, label.strip(), " ".join(feedback.split()), helps))
        if len({option.value for option in parsed}) != len(parsed):
            problems.append(Problem(path, line, "option values must differ"))
            return None
        return Checkin("choice", question.strip(), options=tuple(parsed))
    return Checkin("text", question.strip())


def _read_bands(
    path: Path, raw: object, lines: dict[str, int], problems: list[Problem], *, prefix: str
) -> tuple[tuple[str, str], ...] | None:
    """A scale's feedback: exactly one line for each band 1-2, 3 and 4-5."""
    where = lines.get(f"{prefix}.feedback", lines.get(prefix, 1))
    if not isinstance(raw, dict):
        problems.append(
            Problem(path, where, f"a scale needs feedback for bands {', '.join(BANDS)}")
        )
        return None
    given = {str(band): text for band, text in raw.items()}
    if set(given) != set(BANDS):
        wrong = ", ".join(sorted(set(given) ^ set(BANDS)))
        problems.append(
            Problem(path, where, f"scale feedback bands are {', '.join(BANDS)}: {wrong}")
        )
        return None
    bands: list[tuple[str, str]] = []
    for band in BANDS:
        text = given[band]
        if not isinstance(text, str) or not text.strip():
            problems.append(Problem(path, where, f"scale feedback for {band}: missing or empty"))
            return None
        bands.append((band, " ".join(text.split())))
    return tuple(bands)


def _field_lines(node: yaml.Node, prefix: str = "") -> dict[str, int]:
    """The line of every field, nested ones dotted ("checkin.options.2", "branch.paths.x")."""
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                name = f"{prefix}{key_node.value}"
                lines[name] = key_node.start_mark.line + 1
                lines.update(_field_lines(value, f"{name}."))
    elif isinstance(node, yaml.SequenceNode):
        for number, item in enumerate(node.value):
            name = f"{prefix}{number}"
            lines[name] = item.start_mark.line + 1
            lines.update(_field_lines(item, f"{name}."))
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
            problems.extend(_look_back_problems(lesson, seen_ids))
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
                ("branch", _branch_shape(lesson), _branch_shape(twin)),
                ("helplines", lesson.helplines, twin.helplines),
                ("safety", lesson.safety, twin.safety),
                (
                    "checkin",
                    tuple(o.helplines for o in lesson.checkin.options),
                    tuple(o.helplines for o in twin.checkin.options),
                ),
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


def _look_back_problems(lesson: Lesson, by_id: dict[str, Lesson]) -> list[Problem]:
    """Recalls and branches may only read lessons that come earlier; a branch reads a choice."""
    found: list[Problem] = []
    for recalled in lesson.recall:
        target = by_id.get(recalled)
        if target is None or target.day >= lesson.day:
            found.append(
                Problem(
                    lesson.path,
                    lesson.line_of("recall"),
                    f"recall {recalled!r}: not an earlier lesson",
                )
            )
    if lesson.branch is None:
        return found
    on = lesson.branch.on
    line = lesson.line_of("branch.from")
    target = by_id.get(on)
    if target is None or target.day >= lesson.day:
        found.append(Problem(lesson.path, line, f"branch from {on!r}: not an earlier lesson"))
    elif target.checkin.kind != "choice":
        found.append(
            Problem(lesson.path, line, f"branch from {on!r}: its check-in is not a choice")
        )
    else:
        for value, _path in lesson.branch.paths:
            if value not in target.checkin.values():
                found.append(
                    Problem(
                        lesson.path,
                        lesson.line_of(f"branch.paths.{value}"),
                        f"branch path {value!r}: not an answer to {on!r} "
                        f"({', '.join(target.checkin.values())})",
                    )
                )
    return found


def _branch_shape(lesson: Lesson) -> tuple[str, tuple[tuple[object, ...], ...]] | None:
    """What must agree across languages: the lesson read, the values, which parts change."""
    if lesson.branch is None:
        return None
    return lesson.branch.on, tuple(
        (
            value,
            path.text is not None,
            path.practice is not None,
            (path.checkin.kind, path.checkin.values()) if path.checkin else None,
        )
        for value, path in lesson.branch.paths
    )


def load_course(root: Path = LESSONS_DIR) -> Course:
    """The course the bot teaches; raises CourseError rather than teach a broken one."""
    by_language, problems = read_lessons(root)
    course, more = align(by_language)
    problems.extend(more)
    if problems:
        raise CourseError(problems)
    return course
