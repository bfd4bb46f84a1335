"""The checker's safety rules: the safety note where the skills could be misread, help
lines wherever a lesson or an answer speaks of harm, and valid safety files."""

from __future__ import annotations

from pathlib import Path

from tests.lessons.support import edit, problems


def test_the_first_day_and_the_forgiveness_and_conflict_weeks_need_the_safety_note(
    broken: Path,
):
    for name in ("01-opening-1.yaml", "20-forgiveness-1.yaml", "26-conflict-1.yaml"):
        edit(broken / "nl" / name, "safety: true\n", "")
    found = [p for p in problems(broken) if "needs `safety: true`" in p]
    assert len(found) == 3
    assert all("/nl/" in p for p in found)


def test_a_lesson_that_speaks_of_harm_without_help_lines_is_refused(broken: Path):
    path = broken / "en" / "09-communication-2.yaml"
    edit(path, "text: |\n", "text: |\n  If someone is violent towards you, leave.\n")
    assert any(
        "09-communication-2.yaml" in p and "speaks of harm ('violent')" in p
        for p in problems(broken)
    )
    edit(path, "text: |\n", "helplines: true\ntext: |\n")
    nl = broken / "nl" / "09-communication-2.yaml"
    edit(nl, "text: |\n", "helplines: true\ntext: |\n")
    assert not any("09-communication-2.yaml" in p for p in problems(broken))


def test_an_option_that_says_someone_hurts_me_must_lead_to_help(broken: Path):
    for language in ("en", "nl"):
        edit(broken / language / "20-forgiveness-1.yaml", "      helplines: true\n", "")
    found = [p for p in problems(broken) if "option 'hurting-me' speaks of harm" in p]
    assert len(found) == 2


def test_a_scale_feedback_that_speaks_of_harm_must_be_reworded(broken: Path):
    path = broken / "en" / "02-empathy-1.yaml"
    text = path.read_text(encoding="utf-8")
    assert "kind: scale" in text
    edit(path, "    1-2: ", "    1-2: Abuse is never fine. ")
    assert any("scale feedback 1-2 speaks of harm" in p for p in problems(broken))


def test_broken_safety_files_are_named(broken: Path):
    edit(broken / "safety" / "words-nl.yaml", "    - zelfdoding\n", "    - Zelfdoding!\n")
    edit(broken / "safety" / "helplines.yaml", "for: [suicide]", "for: [sorrow]")
    found = problems(broken)
    assert any("words-nl.yaml:0: crisis phrase 'Zelfdoding!'" in p for p in found)
    assert any("for 'sorrow': one of" in p for p in found)


def test_a_path_for_someone_being_hurt_needs_its_own_check_in_of_the_lessons_kind(
    broken: Path,
):
    path = broken / "en" / "22-forgiveness-3.yaml"
    edit(path, "      checkin:\n        kind: scale\n", "      checkin:\n        kind: text\n")
    found = problems(broken)
    assert any(
        "22-forgiveness-3.yaml" in p and "its check-in must be a scale, as the lesson's" in p
        for p in found
    )
    text = path.read_text(encoding="utf-8")
    start = text.index("      checkin:\n        kind: text\n")
    end = text.index("\ntext: |")
    path.write_text(text[:start] + text[end + 1 :], encoding="utf-8")
    assert any(
        "en/22-forgiveness-3.yaml" in p and "give it its own `checkin`" in p
        for p in problems(broken)
    )
