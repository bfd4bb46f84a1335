"""The checker's rules for a practice for two (`together`): the conflict week and every
weekly review have one in both languages, short, valid HTML, never about harm; and the
lesson shows it only to a linked learner, never on a branch's path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lessons.check import MAX_TOGETHER, needs_together
from lessons.loader import Course, load_course
from lessons.render import Renderer
from tests.lessons.support import edit, problems

_TOGETHER = re.compile(r"together: \|\n(?:  .*\n)+")


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course()


def test_the_conflict_week_and_the_reviews_each_carry_a_practice_for_two(course: Course):
    for language in ("en", "nl"):
        wanted = [lesson for lesson in course.lessons[language] if needs_together(lesson)]
        assert [lesson.day for lesson in wanted] == [7, 13, 19, 25, 26, 27, 28, 29, 30, 31, 37]
        assert all(lesson.together and len(lesson.together) <= MAX_TOGETHER for lesson in wanted)


def test_a_missing_long_or_harmful_together_line_is_refused(broken: Path):
    review = broken / "nl" / "13-communication-review.yaml"
    review.write_text(_TOGETHER.sub("", review.read_text(encoding="utf-8")), encoding="utf-8")
    conflict = broken / "en" / "28-conflict-3.yaml"
    edit(conflict, "together: |\n", "together: |\n  " + "Talk it through. " * 25 + "\n  ")
    edit(
        broken / "en" / "07-empathy-review.yaml",
        "together: |\n",
        "together: |\n  If either of you turns violent, stop.\n  ",
    )
    found = problems(broken)
    assert any("13-communication-review.yaml" in p and "need a `together`" in p for p in found)
    assert any("28-conflict-3.yaml" in p and f"keep it to {MAX_TOGETHER}" in p for p in found)
    assert any("07-empathy-review.yaml" in p and "together speaks of harm" in p for p in found)


def test_only_a_linked_learner_sees_it_and_never_on_a_branch_path(course: Course):
    renderer = Renderer(course)
    lesson = course.lesson("en", 27)  # conflict-2 branches: a path for someone being hurt
    assert lesson.together is not None and lesson.branch is not None
    shown = renderer.render(lesson, name="Alex", together=True).lesson_html
    assert "🤝 Together:" in shown
    assert "🤝 Together:" not in renderer.render(lesson, name="Alex").lesson_html
    hurt = {lesson.branch.on: "hurting-me"}
    on_path = renderer.render(lesson, name="Alex", answers=hurt, together=True).lesson_html
    assert "🤝 Together:" not in on_path
    dutch = renderer.render(course.lesson("nl", 7), name="Ans", together=True).lesson_html
    assert "🤝 Samen:" in dutch
