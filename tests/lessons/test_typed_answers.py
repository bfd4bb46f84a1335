"""Typed words for a tap: a number under a scale, an option's words (or how they begin),
a yes or a no, in either language; anything unclear stands for nothing."""

from __future__ import annotations

import pytest

from lessons.loader import Checkin, Option
from lessons.typed_answers import typed_answer

SCALE = Checkin("scale", "How easy was it?", low="Hard", high="Easy")
CHOICE = Checkin(
    "choice",
    "Did you send it?",
    options=(
        Option("sent", "Yes, I sent it"),
        Option("wrote", "I wrote it, didn't send it"),
        Option("not-yet", "Not yet"),
    ),
)
KEUZE = Checkin(
    "choice",
    "Heb je het verstuurd?",
    options=(
        Option("sent", "Ja, verstuurd"),
        Option("wrote", "Geschreven, nog niet verstuurd"),
        Option("not-yet", "Nog niet"),
    ),
)


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("4", "4"),
        (" 4! ", "4"),
        ("4/5", "4"),
        ("4 out of 5", "4"),
        ("een 4", "4"),
        ("vier", "4"),
        ("five", "5"),
        ("6", None),
        ("0", None),
        ("4 or 5", None),
        ("pretty good", None),
    ],
)
def test_a_number_under_a_scale(typed: str, value: str | None):
    assert typed_answer(SCALE, typed) == value


@pytest.mark.parametrize(
    ("checkin", "typed", "value"),
    [
        (CHOICE, "Not yet", "not-yet"),
        (CHOICE, "not ye", "not-yet"),
        (CHOICE, "NOT YET 🙈", "not-yet"),
        (CHOICE, "i wrote it", "wrote"),
        (CHOICE, "yes, I sent it", "sent"),
        (CHOICE, "yes I did", "sent"),  # how "yes I sent it" begins: yes, I …
        (CHOICE, "yep", "sent"),
        (CHOICE, "no", "not-yet"),
        (CHOICE, "not-yet", "not-yet"),
        (CHOICE, "4", None),
        (CHOICE, "no, I wrote it but did not send it", None),
        (CHOICE, "not sure", None),
        (CHOICE, "ok", None),
        (CHOICE, "ok thanks", None),
        (CHOICE, "I", None),
        (KEUZE, "ja", "sent"),
        (KEUZE, "nee, geschreven maar niet verstuurd", None),
        (KEUZE, "Nog niet", "not-yet"),
        (KEUZE, "nee", "not-yet"),
        (KEUZE, "geschreven", "wrote"),
        (KEUZE, "verstuurd", None),
    ],
)
def test_words_under_a_choice(checkin: Checkin, typed: str, value: str | None):
    assert typed_answer(checkin, typed) == value


def test_free_text_is_never_a_tap():
    assert typed_answer(Checkin("text", "What did you notice?"), "4") is None


def test_the_answer_that_leads_to_help_is_taken_only_whole():
    hurting = Checkin(
        "choice",
        "What did you choose?",
        options=(
            Option("small-hurt", "A small, recent hurt"),
            Option("hurting-me", "Someone is hurting me now", helplines=True),
        ),
    )
    assert typed_answer(hurting, "someone") is None
    assert typed_answer(hurting, "Someone is hurting me now") == "hurting-me"
    assert typed_answer(hurting, "a small") == "small-hurt"
