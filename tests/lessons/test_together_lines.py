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


def test_a_linked_learners_review_says_where_the_two_met_and_differed(course: Course):
    renderer = Renderer(course)
    review = course.by_id("en", "empathy-review")
    assert review is not None
    mine = {"empathy-1": "4", "empathy-3": "I asked", "empathy-4": "2"}
    theirs = {"empathy-1": "4", "empathy-3": "I listened", "empathy-4": "5", "empathy-5": "3"}
    html = renderer.render(
        review, name="Alex", answers=mine, together=True, partner=("<Sam>", theirs)
    ).lesson_html
    assert "🤝 You and &lt;Sam&gt; this week" in html
    first, fourth = (course.by_id("en", f"empathy-{day}") for day in (1, 4))
    assert first is not None and fourth is not None
    assert f"• {first.title}: you both answered <i>4/5</i>" in html
    assert f"• {fourth.title}: you answered <i>2/5</i>, &lt;Sam&gt; <i>5/5</i>" in html
    assert "I listened" not in html  # words are not compared: each one's own
    assert "not to agree, but to understand each other" in html
    assert "score" not in html.lower() and "%" not in html
    same = renderer.render(
        review, name="Alex", answers=mine, together=True, partner=("Sam", {"empathy-1": "4"})
    ).lesson_html
    assert "You were in tune this week" in same
    alone = renderer.render(review, name="Alex", answers=mine, partner=("Sam", theirs))
    assert "this week</b>" not in alone.lesson_html  # not linked (or in care): nothing
    dutch = course.by_id("nl", "empathy-review")
    assert dutch is not None
    nl = renderer.render(dutch, name="Alex", answers=mine, together=True, partner=("Sam", theirs))
    assert (
        "🤝 Jij en Sam deze week" in nl.lesson_html
        and "jullie antwoordden allebei" in nl.lesson_html
    )
