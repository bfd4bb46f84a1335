"""Typed words for a tap: "4" under a 1–5 scale, "not yet" or "yes, I sent it" under a
choice, in either language.

A learner who types instead of tapping means an answer as surely as the tap
would; turning them away ("tap one of the buttons") is how a bot teaches people
to stop writing. `typed_answer` gives the check-in value the words stand for,
or None when they do not say one clearly (then the bot shows the choices again).
Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata

from lessons.loader import SCALE_VALUES, Checkin

__all__ = ["typed_answer"]

# A yes or a no counts alone or with a few words ("yes!", "yes I did", "nee hoor"); a
# longer message ("no, I wrote it but did not send it") says more than no. "ok" is as
# often a thank-you as an answer, and "not"/"niet" only negate what follows.
YES = frozenset({"yes", "yeah", "yep", "yup", "ja", "jazeker", "jawel", "jep"})
NO = frozenset({"no", "nope", "nah", "nee", "neen"})
YES_NO_WORDS = 4
NEGATIONS = frozenset({"not", "niet", "nog", "geen", "no"})  # how a "no" option begins
SCALE_WORDS = {
    "one": "1",
    "een": "1",
    "two": "2",
    "twee": "2",
    "three": "3",
    "drie": "3",
    "four": "4",
    "vier": "4",
    "five": "5",
    "vijf": "5",
}
# A scale answer may come with its scale: "4/5", "4 out of 5", "4 van de 5", "een 4".
_OUT_OF = re.compile(r"^(?:a |een )?(\w+)(?: ?/ ?5| out of 5| of 5| van de 5| van 5| uit 5)?$")


def _words(text: str) -> list[str]:
    """Lowercase ASCII words: accents, emoji and punctuation go ("Ja, gedaan! 🎉" -> ja gedaan)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    bare = re.sub(r"['’‘`´]", "", bare)
    return re.sub(r"[^a-z0-9/]+", " ", bare).split()


def typed_answer(checkin: Checkin, text: str) -> str | None:
    """The value of the button these words stand for, or None if they are not clearly one."""
    words = _words(text)
    if not words:
        return None
    if checkin.kind == "scale":
        return _scale(words)
    if checkin.kind == "choice":
        return _choice(checkin, words)
    return None


def _scale(words: list[str]) -> str | None:
    match = _OUT_OF.match(" ".join(words).replace(" / ", "/"))
    if match is None:
        return None
    value = SCALE_WORDS.get(match.group(1), match.group(1))
    return value if value in SCALE_VALUES else None


def _choice(checkin: Checkin, words: list[str]) -> str | None:
    """Exactly one option whose label (or value) the words are, or begin like; failing
    that, a lone yes or no where exactly one option starts with yes or with no.

    An option that says the learner is being harmed ("Someone is hurting me now") is
    taken only from its whole words: a stray "someone" must not put anyone in care."""
    labels = {option.value: _words(option.label) for option in checkin.options}
    for option in checkin.options:
        if words in (labels[option.value], option.value.split("-")):
            return option.value
    guessable = {o.value: labels[o.value] for o in checkin.options if not o.helplines}
    begun = [value for value, label in guessable.items() if _begins(label, words)]
    if len(begun) == 1:
        return begun[0]
    if len(words) > YES_NO_WORDS:
        return None
    for answers, starts in ((YES, YES), (NO, NO | NEGATIONS)):
        if words[0] in answers:
            # The one option that begins like the answer: "Yes, I sent it"; "Not yet".
            starting = [v for v, label in guessable.items() if label and label[0] in starts]
            return starting[0] if len(starting) == 1 else None
    return None


def _begins(label: list[str], words: list[str]) -> bool:
    """The typed words are the label's first words; the last may be cut short ("not y")."""
    if not words or len(words) > len(label):
        return False
    *whole, last = words
    return label[: len(whole)] == whole and label[len(whole)].startswith(last) and len(last) >= 2
