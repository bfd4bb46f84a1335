"""The checker's safety rules: the course is safe for a reader who is being harmed.

- the safety note (`safety: true`) on the first day and on the first lesson of
  the forgiveness and conflict weeks, where the skills could be misread as
  advice to put up with harm;
- every lesson, branch or feedback line that speaks of harm carries the help
  lines (a lesson: `helplines` or `safety`; an option: its own `helplines`), so
  naming harm always comes with where to turn;
- every choice option that says the learner is being harmed leads to help;
- the safety words and the help-line table (lessons/safety/) are valid, and
  their examples are caught or passed as their authors said.
"""

from __future__ import annotations

from pathlib import Path

from lessons.helplines import read_helplines
from lessons.loader import Course, Lesson, Problem
from lessons.screen import SafetyWords, read_safety_words

# The weeks whose skills someone being harmed could turn against themselves.
SAFETY_NOTE_BEFORE = ("forgiveness", "conflict")


def safety_problems(course: Course, root: Path) -> list[Problem]:
    """Every safety problem in the course under `root`, with file and line."""
    safety_dir = root / "safety"
    words, problems = read_safety_words(safety_dir)
    found = [Problem(problem.path, 0, problem.message) for problem in problems]
    _table, table_problems = read_helplines(safety_dir / "helplines.yaml")
    found.extend(Problem(safety_dir / "helplines.yaml", 0, text) for text in table_problems)
    for lessons in course.lessons.values():
        found.extend(_note_problems(lessons))
        by_id = {lesson.id: lesson for lesson in lessons}
        for lesson in lessons:
            found.extend(_harm_problems(words, lesson))
            found.extend(_help_path_problems(lesson, by_id))
    return found


def _help_path_problems(lesson: Lesson, by_id: dict[str, Lesson]) -> list[Problem]:
    """A branch for learners who said someone is hurting them asks its own check-in (not
    "how easy was it to imagine the other side?") and shows the help lines; any branch's
    check-in is of the lesson's own kind (the claim records the kind before the branch)."""
    if lesson.branch is None:
        return []
    found = []
    earlier = by_id.get(lesson.branch.on)
    helping = {o.value for o in earlier.checkin.options if o.helplines} if earlier else set()
    for value, path in lesson.branch.paths:
        where = lesson.line_of(f"branch.paths.{value}")
        if path.checkin is not None and path.checkin.kind != lesson.checkin.kind:
            found.append(
                Problem(
                    lesson.path,
                    where,
                    f"branch path {value!r}: its check-in must be a {lesson.checkin.kind}, "
                    "as the lesson's",
                )
            )
        if value in helping and path.checkin is None:
            found.append(
                Problem(
                    lesson.path,
                    where,
                    f"branch path {value!r} is for someone being hurt: give it its own "
                    "`checkin`, gentle and about them, not the lesson's",
                )
            )
        if value in helping and not (lesson.helplines or lesson.safety):
            found.append(
                Problem(
                    lesson.path,
                    where,
                    f"branch path {value!r} is for someone being hurt: the lesson needs "
                    "`helplines: true`",
                )
            )
    return found


def _note_problems(lessons: tuple[Lesson, ...]) -> list[Problem]:
    firsts = [lessons[0]] if lessons else []
    for key in SAFETY_NOTE_BEFORE:
        firsts.extend([lesson for lesson in lessons if lesson.key == key][:1])
    return [
        Problem(
            lesson.path,
            lesson.line_of("id"),
            "needs `safety: true`: this is where a reader being harmed must read that these "
            "skills are for relationships where you are safe, and where to turn",
        )
        for lesson in firsts
        if not lesson.safety
    ]


def _harm_problems(words: SafetyWords, lesson: Lesson) -> list[Problem]:
    found: list[Problem] = []
    shows_lines = lesson.helplines or lesson.safety
    parts: list[tuple[str, str]] = [
        ("text", lesson.text),
        ("practice", lesson.practice),
        ("checkin", lesson.checkin.question),
    ]
    for value, path in lesson.branch.paths if lesson.branch else ():
        texts = (path.text, path.practice, path.checkin.question if path.checkin else None)
        parts.extend((f"branch.paths.{value}", text) for text in texts if text)
    parts.append(("title", lesson.title))
    shared = words.mentions_harm(lesson.language, lesson.together or "")
    if shared:  # a practice for two is never about harm: the other may be the one who harms
        found.append(
            Problem(
                lesson.path,
                lesson.line_of("together"),
                f"together speaks of harm ({shared!r}): a practice for two stays on everyday "
                "moments, whatever help lines the lesson shows",
            )
        )
    for field, text in parts:
        word = words.mentions_harm(lesson.language, text)
        if word and not shows_lines:
            found.append(
                Problem(
                    lesson.path,
                    lesson.line_of(field),
                    f"{field} speaks of harm ({word!r}) but the lesson shows no help lines: "
                    "add `helplines: true`",
                )
            )
    options = [(f"checkin.options.{n}", o) for n, o in enumerate(lesson.checkin.options)]
    for value, path in lesson.branch.paths if lesson.branch else ():
        options.extend(
            (f"branch.paths.{value}.checkin.options.{n}", o)
            for n, o in enumerate(path.checkin.options if path.checkin else ())
        )
    for field, option in options:
        where = lesson.line_of(field)
        harmed = words.screen(option.label) is not None
        word = words.mentions_harm(lesson.language, f"{option.label}. {option.feedback}")
        if (harmed or word) and not option.helplines:
            found.append(
                Problem(
                    lesson.path,
                    where,
                    f"option {option.value!r} speaks of harm; give it `helplines: true` so "
                    "its answer leads to help",
                )
            )
    for band, line in (band for checkin in lesson.checkins() for band in checkin.bands):
        word = words.mentions_harm(lesson.language, line)
        if word:
            found.append(
                Problem(
                    lesson.path,
                    lesson.line_of("checkin.feedback"),
                    f"scale feedback {band} speaks of harm ({word!r}); a scale's feedback "
                    "cannot show help lines, so reword it",
                )
            )
    return found
