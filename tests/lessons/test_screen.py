"""The safety screen: crisis and abuse words in both languages, whole words only, and
word lists the checker holds to their own examples."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lessons.screen import SAFETY_DIR, Concern, fold, read_safety_words, safety_words


def test_fold_drops_case_accents_apostrophes_and_emoji():
    assert fold("I’m SCARED of him 😢!!") == "im scared of him"
    assert fold("Suïcide-gedachten") == "suicide gedachten"
    assert fold("don't") == "dont"


@pytest.mark.parametrize(
    ("message", "concern"),
    [
        ("he hit me again", Concern.ABUSE),
        ("I don't want to be here any more", Concern.CRISIS),
        ("Ik wil er niet meer zijn", Concern.CRISIS),
        ("Hij slaat me als hij gedronken heeft", Concern.ABUSE),
        ("ik denk aan zelfmoord 😔", Concern.CRISIS),
        ("SHE THREATENED ME", Concern.ABUSE),
        # Both: crisis comes first, the more urgent reply.
        ("he hits me and I want to die", Concern.CRISIS),
        ("I sent my sister a message, she called back!", None),
        ("It hurt when she cancelled", None),
        ("We tried Geweldloze communicatie", None),
        ("nonviolent communication is hard", None),
        ("", None),
        (None, None),
    ],
)
def test_screen(message: str | None, concern: Concern | None):
    assert safety_words().screen(message) == concern


def test_the_shipped_lists_are_valid_and_their_examples_hold():
    words, problems = read_safety_words()
    assert problems == []
    assert {(item.language, item.concern) for item in words.lists} == {
        (language, concern) for language in ("en", "nl") for concern in Concern
    }
    for item in words.lists:
        assert item.must_catch and item.must_pass


def test_a_lesson_that_mentions_harm_is_found_whole_words_only():
    words = safety_words()
    assert words.mentions_harm("en", "Forgiving never means accepting abuse.") == "abuse"
    assert words.mentions_harm("nl", "Bij geweld gaat je veiligheid voor.") == "geweld"
    assert words.mentions_harm("en", "Nonviolent Communication, by Rosenberg") is None


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "safety"
    shutil.copytree(SAFETY_DIR, target)
    return target


def _problems(folder: Path) -> str:
    return "\n".join(str(problem) for problem in read_safety_words(folder)[1])


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("    - kill myself\n", "    - Kill Myself!\n", "lowercase words without punctuation"),
        ("    - suicid*\n", "    - sui*\n", "needs 4 letters"),
        ("    - wanna die\n", "    - want to die\n", "appears twice"),
        (
            '    - "Honestly I want to die"\n',
            '    - "I feel a bit low"\n',
            "must catch 'I feel a bit low', does not",
        ),
        (
            '    - "This exercise is dead easy"\n',
            '    - "He hit me at the party"\n',
            "must let 'He hit me at the party' pass, the abuse list catches it",
        ),
        ("abuse: # being hurt", "abuses: # being hurt", "unknown field 'abuses'"),
    ],
)
def test_the_checker_refuses_a_broken_list(tmp_path: Path, old: str, new: str, problem: str):
    folder = _copy(tmp_path)
    path = folder / "words-en.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    assert problem in _problems(folder)
