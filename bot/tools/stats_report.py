"""The stats report as data: tables and counts joined to the course, before any layout.

storage/stats.py counts (lesson ids, raw answer values, languages); this
module joins those counts to the course (labels per language, keys) and
shapes them as `Table`s. Laying them out is someone else's job:
bot/tools/stats_text.py for the terminal, bot/tools/stats_page.py for the page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from lessons.loader import LANGUAGES, Course
from storage.stats import SILENT_AFTER, CourseStats

SCALE = ("1", "2", "3", "4", "5")
BEFORE = "(before)"  # the row of learners who left before their first lesson or answer


@dataclass(frozen=True)
class Table:
    """One table of the report; `numeric` columns align right, the others left."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    note: str = ""


@dataclass(frozen=True)
class DayCount:
    """The funnel: learners a course day reached, and how many answered its check-in."""

    day: int
    lesson: str  # the lesson id (several joined by "/" if the course was edited)
    kind: str
    learners: int
    answered: int

    @property
    def rate(self) -> float:
        return self.answered / self.learners if self.learners else 0.0


@dataclass(frozen=True)
class ScaleMean:
    """Mean of the 1-5 answers to one lesson or one key; `counts` per value 1..5."""

    name: str
    counts: tuple[int, ...]

    @property
    def answers(self) -> int:
        return sum(self.counts)

    @property
    def mean(self) -> float:
        total = sum(int(value) * n for value, n in zip(SCALE, self.counts, strict=True))
        return total / self.answers if self.answers else 0.0


@dataclass(frozen=True)
class ChoiceCount:
    """How many learners of one language chose one option of one lesson, by its label."""

    lesson: str
    day: int
    language: str
    value: str
    label: str
    count: int


def funnel(stats: CourseStats) -> list[DayCount]:
    """Learners reached and answers, per course day (an edited course may have two ids a day)."""
    days: dict[int, list[tuple[str, str, int, int]]] = defaultdict(list)
    for lesson in stats.lessons:
        days[lesson.lesson_day].append(
            (lesson.lesson_id, lesson.checkin_kind, lesson.learners, lesson.answered)
        )
    return [
        DayCount(
            day=day,
            lesson="/".join(dict.fromkeys(entry[0] for entry in entries)),
            kind="/".join(dict.fromkeys(entry[1] for entry in entries)),
            learners=sum(entry[2] for entry in entries),
            answered=sum(entry[3] for entry in entries),
        )
        for day, entries in sorted(days.items())
    ]


def scale_means(stats: CourseStats, course: Course) -> tuple[list[ScaleMean], list[ScaleMean]]:
    """Mean scale per lesson (by day) and per key (in course order), over every language."""
    by_lesson: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_key: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in stats.values:
        if row.checkin_kind != "scale" or row.value not in SCALE:
            continue
        by_lesson[row.lesson_id][row.value] += row.count
        by_key[_key_of(course, row.lesson_id)][row.value] += row.count
    keys = list(dict.fromkeys(lesson.key for lesson in course.lessons[LANGUAGES[0]]))
    lessons = [
        ScaleMean(lesson_id, tuple(counts[value] for value in SCALE))
        for lesson_id, counts in by_lesson.items()
    ]
    ordered_keys = sorted(by_key, key=lambda key: keys.index(key) if key in keys else len(keys))
    return lessons, [
        ScaleMean(key, tuple(by_key[key][value] for value in SCALE)) for key in ordered_keys
    ]


def choices(stats: CourseStats, course: Course) -> list[ChoiceCount]:
    """Choice answers with the label the learner saw, in the learner's language.

    In the order the buttons were shown (day, language, option), not by value.
    """
    result = []
    for row in stats.values:
        if row.checkin_kind != "choice":
            continue
        lesson = course.by_id(row.language, row.lesson_id)
        label = lesson.checkin.label_for(row.value) if lesson is not None else row.value
        result.append(
            ChoiceCount(row.lesson_id, row.lesson_day, row.language, row.value, label, row.count)
        )

    def order(choice: ChoiceCount) -> tuple[int, str, int]:
        lesson = course.by_id(choice.language, choice.lesson)
        values = lesson.checkin.values() if lesson is not None else ()
        place = values.index(choice.value) if choice.value in values else len(values)
        return choice.day, choice.language, place

    return sorted(result, key=order)


def _key_of(course: Course, lesson_id: str) -> str:
    lesson = course.by_id(LANGUAGES[0], lesson_id)
    return lesson.key if lesson is not None else lesson_id.rsplit("-", 1)[0]


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def build_tables(stats: CourseStats, course: Course) -> list[Table]:
    """The whole report, table by table, in the order an author reads it."""
    totals = stats.totals
    tables = [
        Table(
            "Learners",
            ("", "count"),
            (
                ("enrolled", str(totals.learners)),
                ("finished onboarding", str(totals.onboarded)),
                ("active", str(totals.active)),
                ("paused now", str(totals.paused)),
                ("stopped", str(totals.stopped)),
                ("blocked the bot", str(totals.blocked)),
                ("lessons sent", str(totals.lessons_sent)),
                ("answers", str(totals.answers)),
            ),
            (False, True),
        )
    ]
    ways = stats.ways
    tables.append(
        Table(
            "How answers came",
            ("", "count", "share"),
            tuple(
                (name, str(n), _percent(n, totals.answers))
                for name, n in (
                    ("tapped a button", ways.tap),
                    ("typed words for a button", ways.typed),
                    ("wrote free text", ways.text),
                    ("sent a voice note", ways.voice),
                    ("from before this was counted", ways.before),
                    ("early, before the evening check-in", ways.early),
                )
            )
            + (("notes kept (words that answered nothing)", str(ways.notes), "-"),)
            + (("kept messages edited later", str(ways.edited), "-"),),
            (False, True, True),
            note="share: of all answers; an early answer is also counted by how it came.",
        )
    )
    pairs = stats.together
    tables.append(
        Table(
            "Together (pair mode)",
            ("", "count", "share"),
            (
                ("invites made", str(pairs.invites), "-"),
                ("accepted", str(pairs.accepted), _percent(pairs.accepted, pairs.invites)),
                ("expired unused", str(pairs.expired), _percent(pairs.expired, pairs.invites)),
                ("cancelled", str(pairs.revoked), _percent(pairs.revoked, pairs.invites)),
                ("links made", str(pairs.links), "-"),
                ("links ended", str(pairs.ended), _percent(pairs.ended, pairs.links)),
                (
                    "answer rate, learners ever linked",
                    f"{pairs.linked_answers}/{pairs.linked_sent}",
                    _percent(pairs.linked_answers, pairs.linked_sent),
                ),
                (
                    "answer rate, learners never linked",
                    f"{pairs.single_answers}/{pairs.single_sent}",
                    _percent(pairs.single_answers, pairs.single_sent),
                ),
            ),
            (False, True, True),
            note="answer rate: answers per lesson sent.",
        )
    )
    days = funnel(stats)
    first = max((d.learners for d in days if d.day == 1), default=0) or max(
        (d.learners for d in days), default=0
    )
    tables.append(
        Table(
            "Funnel and answer rate per lesson",
            ("day", "lesson", "check-in", "learners", "of day 1", "answered", "rate"),
            tuple(
                (
                    str(d.day),
                    d.lesson,
                    d.kind,
                    str(d.learners),
                    _percent(d.learners, first),
                    str(d.answered),
                    _percent(d.answered, d.learners),
                )
                for d in days
            ),
            (True, False, False, True, True, True, True),
            note="learners: how many were sent the lesson; rate: how many of them answered.",
        )
    )
    picked = choices(stats, course)
    group_totals: dict[tuple[str, str], int] = defaultdict(int)
    for choice in picked:
        group_totals[(choice.lesson, choice.language)] += choice.count
    tables.append(
        Table(
            "Choice answers",
            ("day", "lesson", "lang", "answer", "n", "share"),
            tuple(
                (
                    str(c.day),
                    c.lesson,
                    c.language,
                    c.label,
                    str(c.count),
                    _percent(c.count, group_totals[(c.lesson, c.language)]),
                )
                for c in picked
            ),
            (True, False, False, False, True, True),
            note="share: of that lesson's answers in that language.",
        )
    )
    per_lesson, per_key = scale_means(stats, course)
    tables.append(
        Table(
            "Scale answers per lesson (1-5)",
            ("lesson", "n", "mean", *SCALE),
            tuple(
                (m.name, str(m.answers), f"{m.mean:.2f}", *(str(n) for n in m.counts))
                for m in per_lesson
            ),
            (False, True, True, *(True for _ in SCALE)),
        )
    )
    tables.append(
        Table(
            "Scale mean per key",
            ("key", "n", "mean"),
            tuple((m.name, str(m.answers), f"{m.mean:.2f}") for m in per_key),
            (False, True, True),
        )
    )
    tables.append(
        Table(
            "Where learners pause, stop or fall silent",
            ("day", "lesson", "paused", "stopped", "blocked", "silent"),
            tuple(
                (
                    "" if place.lesson_day is None else str(place.lesson_day),
                    place.lesson_id or BEFORE,
                    str(place.paused),
                    str(place.stopped),
                    str(place.blocked),
                    str(place.silent),
                )
                for place in stats.leaving
            ),
            (True, False, True, True, True, True),
            note=(
                "paused, stopped, blocked: the last lesson sent before they did; silent: "
                f"their last answered lesson, with {SILENT_AFTER} or more unanswered after it. "
                f"{BEFORE}: before their first lesson or, for silent, without any answer. "
                "Snoozes are not recorded yet, so they are not counted."
            ),
        )
    )
    return tables
