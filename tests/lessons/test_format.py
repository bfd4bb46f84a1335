"""The second edition's format: feedback per answer, scale bands, branches, recall lists,
help lines. The checker names each mistake with file and line; the renderer follows the
learner's own answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from lessons.loader import LESSON_ID, load_course
from lessons.render import Renderer
from tests.lessons.support import edit as _edit
from tests.lessons.support import line_of as _line_of
from tests.lessons.support import problems as _problems


def test_a_missing_option_feedback_is_named_with_its_line(broken: Path):
    path = broken / "en" / "11-communication-4.yaml"
    line = _line_of(path, "value: contempt")
    _edit(path, "      feedback: Contempt hurts most.", "      comment: Contempt hurts most.")
    assert f"{path}:{line}: option 'contempt': missing feedback line" in _problems(broken)


def test_a_bad_or_missing_scale_band_is_caught(broken: Path):
    path = broken / "nl" / "02-empathy-1.yaml"
    _edit(path, "    1-2: Een normaal begin.", "    1-3: Een normaal begin.")
    line = _line_of(path, "  feedback:")
    assert any(
        problem.startswith(f"{path}:{line}: scale feedback bands are 1-2, 3, 4-5")
        for problem in _problems(broken)
    )


def test_scale_ends_must_differ(broken: Path):
    path = broken / "en" / "17-assertiveness-4.yaml"
    _edit(path, "high: Very easy", "high: very hard")
    assert any("`low` and `high` labels must differ" in p for p in _problems(broken))


def test_a_branch_to_an_unknown_or_later_lesson_or_value_is_caught(broken: Path):
    later = broken / "en" / "21-forgiveness-2.yaml"
    _edit(later, "from: forgiveness-1", "from: forgiveness-5")
    unknown_value = broken / "en" / "22-forgiveness-3.yaml"
    _edit(unknown_value, "    myself:", "    maybe:")
    not_choice = broken / "en" / "23-forgiveness-4.yaml"
    _edit(not_choice, "from: forgiveness-1", "from: empathy-1")
    problems = _problems(broken)
    line = _line_of(later, "from: forgiveness-5")
    assert f"{later}:{line}: branch from 'forgiveness-5': not an earlier lesson" in problems
    line = _line_of(unknown_value, "    maybe:")
    assert any(p.startswith(f"{unknown_value}:{line}: branch path 'maybe'") for p in problems)
    assert any("branch from 'empathy-1': its check-in is not a choice" in p for p in problems)


def test_both_languages_must_branch_alike(broken: Path):
    path = broken / "nl" / "23-forgiveness-4.yaml"
    _edit(path, "    not-ready:", "    old-hurt:")
    assert any(p.startswith(f"{path}:") and "branch differs" in p for p in _problems(broken))


def test_a_recall_of_a_later_lesson_is_caught(broken: Path):
    path = broken / "en" / "07-empathy-review.yaml"
    _edit(path, "empathy-5]", "empathy-5, conflict-1]")
    assert any("recall 'conflict-1': not an earlier lesson" in p for p in _problems(broken))


def test_the_first_and_last_day_must_say_where_to_turn(broken: Path):
    _edit(broken / "en" / "40-closing-3.yaml", "helplines: true\n", "")
    problems = _problems(broken)
    assert any("need `helplines: true`" in p for p in problems)


def test_review_ids_match_the_id_pattern():
    assert LESSON_ID.match("empathy-review") and LESSON_ID.match("empathy-3")
    assert not LESSON_ID.match("empathy-") and not LESSON_ID.match("review")


def test_every_choice_and_scale_answer_has_feedback_and_every_key_a_review():
    course = load_course()
    assert course.lessons
    for lessons in course.lessons.values():
        for lesson in lessons:
            for value in lesson.checkin.values():
                assert lesson.checkin.feedback_for(value), (lesson.path, value)
        ids = [lesson.id for lesson in lessons]
        for key in ("empathy", "communication", "assertiveness", "forgiveness", "conflict"):
            assert ids.index(f"{key}-review") == ids.index(f"{key}-5") + 1
        assert "differences-review" in ids


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(load_course())


@pytest.mark.parametrize("language", ["en", "nl"])
def test_each_branch_renders_its_own_words(renderer: Renderer, language: str):
    lesson = renderer.course.by_id(language, "forgiveness-2")
    assert lesson is not None and lesson.branch is not None
    plain = renderer.render(lesson, name="Sam").lesson_html
    assert lesson.text.split("\n")[0][:30] in plain
    assert lesson.branch.paths
    for value, path in lesson.branch.paths:
        html = renderer.render(lesson, name="Sam", answers={"forgiveness-1": value}).lesson_html
        assert path.text is not None
        opening = path.text.split("\n")[0][:30]
        assert opening in html.replace("&#39;", "'") and opening not in plain
    other = renderer.render(lesson, name="Sam", answers={"forgiveness-1": "small-hurt"})
    assert other.lesson_html == plain


def test_a_review_shows_each_answer_escaped_and_skips_missing_ones(renderer: Renderer):
    lesson = renderer.course.by_id("en", "empathy-review")
    assert lesson is not None
    html = renderer.render(
        lesson,
        name="Sam",
        answers={"empathy-1": "4", "empathy-2": "cognitive", "empathy-3": "<b>held back</b> &"},
    ).lesson_html
    assert "Your answers from this week" in html
    assert "Empathy starts with noticing: <i>4/5</i>" in html
    assert "Three kinds of empathy: <i>Understanding</i>" in html
    assert "&lt;b&gt;held back&lt;/b&gt; &amp;" in html
    assert "Be fully there" not in html  # empathy-4 unanswered: skipped


def test_a_lesson_without_answers_shows_no_recall_block(renderer: Renderer):
    lesson = renderer.course.by_id("nl", "closing-1")
    assert lesson is not None
    assert "Eerder antwoordde je" not in renderer.render(lesson, name="Sam").lesson_html
    html = renderer.render(lesson, name="Sam", answers={"forgiveness-2": "rust"}).lesson_html
    assert "Eerder antwoordde je" in html and "<blockquote>rust</blockquote>" in html


def test_the_older_single_recalled_form_still_works(renderer: Renderer):
    lesson = renderer.course.by_id("en", "closing-2")
    assert lesson is not None
    html = renderer.render(lesson, name="Sam", recalled="the dishes").lesson_html
    assert "<blockquote>the dishes</blockquote>" in html


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Europe/Amsterdam", "113 Zelfmoordpreventie"),
        ("Europe/Brussels", "Zelfmoordlijn: 1813"),
        (None, "your local emergency number"),
    ],
)
def test_help_lines_follow_the_zone_on_the_days_that_show_them(
    renderer: Renderer, zone: str | None, expected: str
):
    first = renderer.course.lesson("en", 1)
    assert expected in renderer.render(first, name="Sam", timezone=zone).lesson_html
    plain = renderer.course.lesson("en", 2)
    assert "Where to turn" not in renderer.render(plain, name="Sam", timezone=zone).lesson_html


def test_feedback_comes_per_option_and_per_band():
    course = load_course()
    assert "appreciation" in course.feedback("en", "communication-4", "contempt")
    assert "zachte start" in course.feedback("nl", "communication-4", "criticism")
    low, mid, high = (course.feedback("en", "empathy-1", value) for value in ("2", "3", "5"))
    assert len({low, mid, high}) == 3 and course.feedback("en", "empathy-1", "1") == low
    assert course.feedback("en", "empathy-3", "x") == ""
    assert course.feedback("en", "no-such-lesson", "1") == ""


def test_a_branch_asks_its_own_check_in_and_its_answers_are_accepted(renderer: Renderer):
    lesson = renderer.course.by_id("en", "forgiveness-3")
    assert lesson is not None and lesson.branch is not None
    own = lesson.checkin_for({"forgiveness-1": "hurting-me"})
    assert own is not lesson.checkin and own.kind == lesson.checkin.kind
    rendered = renderer.render(lesson, name="Sam", answers={"forgiveness-1": "hurting-me"})
    assert own.question in rendered.checkin_html
    assert lesson.checkin.question not in rendered.checkin_html
    others = renderer.render(lesson, name="Sam", answers={"forgiveness-1": "small-hurt"})
    assert lesson.checkin.question in others.checkin_html
    feedback = renderer.course.feedback("en", "forgiveness-3", "5", {"forgiveness-1": "hurting-me"})
    assert feedback == own.feedback_for("5") != lesson.checkin.feedback_for("5")


def test_six_options_are_fine_and_a_seventh_is_refused(broken: Path):
    course = load_course()
    assert len(course.lesson("en", 40).checkin.options) == 6  # all six keys
    assert "none-today" in course.lesson("nl", 11).checkin.values()
    path = broken / "en" / "40-closing-3.yaml"
    text = path.read_text(encoding="utf-8").rstrip("\n")
    path.write_text(
        text + "\n    - value: other\n      label: Something else\n      feedback: Fine.\n",
        encoding="utf-8",
    )
    assert any("needs 2 to 6 options" in p for p in _problems(broken))
