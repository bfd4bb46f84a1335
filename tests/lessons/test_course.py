"""The course and the author's tools: the real course passes; each kind of mistake is named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lessons.check import check_course, find_problems, preview
from lessons.loader import KEYS, LESSONS_DIR, load_course
from lessons.render import Renderer
from lessons.telegram_html import message_problems


def test_the_course_passes_every_check():
    course, problems = find_problems()
    assert [str(problem) for problem in problems] == []
    assert course is not None and course.length >= 33


def test_every_key_has_five_lessons_in_both_languages():
    course = load_course()
    assert set(course.lessons) == {"en", "nl"}
    for language, lessons in course.lessons.items():
        keys = [lesson.key for lesson in lessons]
        assert keys[0] == "opening" and keys[-1] == "closing", language
        for key in KEYS:
            assert keys.count(key) >= 5, (language, key)


def test_every_lesson_renders_valid_telegram_html_with_a_hostile_name():
    course = load_course()
    renderer = Renderer(course)
    assert course.lessons and all(course.lessons.values())
    for lessons in course.lessons.values():
        for lesson in lessons:
            rendered = renderer.render(lesson, name="</b><script>&amp;🙂", recalled="<i>&")
            assert message_problems(rendered.lesson_html) == [], lesson.path
            assert message_problems(rendered.checkin_html) == [], lesson.path
            assert "&lt;/b&gt;&lt;script&gt;&amp;amp;🙂" in rendered.lesson_html or (
                "{{ name }}" not in lesson.text
            )


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    root = tmp_path / "lessons"
    shutil.copytree(LESSONS_DIR / "en", root / "en")
    shutil.copytree(LESSONS_DIR / "nl", root / "nl")
    shutil.copytree(LESSONS_DIR / "templates", root / "templates")
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_mistakes_are_reported_with_file_and_line(broken: Path, capsys: pytest.CaptureFixture[str]):
    opening = broken / "en" / "01-opening-1.yaml"
    _edit(opening, "<b>How it works:</b>", "<b>How it works:<br></b>")
    empathy = broken / "nl" / "02-empathy-1.yaml"
    _edit(empathy, "day: 2", "day: 3")
    (broken / "en" / "03-empathy-2.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    assert check_course(broken) == 1
    report = capsys.readouterr().err
    assert f"{opening}:" in report and 'Unsupported start tag "br"' in report
    assert f"{empathy}:2: day 3: expected 2" in report
    assert "03-empathy-2.yaml:" in report and "not valid YAML" in report


def test_unrendered_variables_and_overlong_text_are_caught(broken: Path):
    path = broken / "en" / "02-empathy-1.yaml"
    _edit(path, "text: |\n", "text: |\n  {{ nickname }} " + "word " * 130 + "\n")
    _, problems = find_problems(broken)
    messages = [problem.message for problem in problems if problem.path == path]
    assert any("words" in message for message in messages)
    assert any("nickname" in message for message in messages)


def test_preview_prints_a_day_and_refuses_a_missing_one(capsys: pytest.CaptureFixture[str]):
    assert preview(2, "nl") == 0
    shown = capsys.readouterr().out
    assert "Dag 2 van" in shown and "[1]" in shown
    assert preview(999, "en") == 1
    assert "There is no day 999" in capsys.readouterr().err
