"""The safety screen: does a learner's message speak of crisis or of being harmed?

Whatever a learner writes (a check-in answer, a message between lessons, a
typed setting, a caption) passes through `SafetyWords.screen` before anything
else answers it. A message that is caught is met first with care and the help
lines for the learner's country, and never with a streak or a feedback line:
someone who writes "he hit me again" must not read "🔥 5-day streak".

The phrases are kept by the course's authors in lessons/safety/words-<lang>.yaml
(see the comments there); every language's lists are screened whatever the
learner's language, since people mix them. Matching is on whole words after
folding case and accents and dropping punctuation, so it is cheap enough for
every message and predictable enough for authors to test with examples, which
`bridges lessons check` runs. Pure data and one lookup: no I/O after loading.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "Concern",
    "SafetyWords",
    "fold",
    "load_safety_words",
    "read_safety_words",
    "safety_words",
]

SAFETY_DIR = Path(str(files("lessons"))) / "safety"
# A word written with `*` stands for every word that starts so; a shorter start than this
# ("hit*") would catch far too much.
MIN_PREFIX = 4
WORD = re.compile(r"^[a-z0-9]+\*?$")
GAP = "_"  # in a phrase: up to two other words here ("ik wil _ dood": "ik wil gewoon dood")
END = "$"  # a phrase's last token: the clause or message ends here ("ik wil niet meer $")
BOUNDARY = "|"  # what `fold` leaves where a clause ends (. ! ? , ; : or a new line)


class Concern(StrEnum):
    """What a caught message speaks of; crisis comes first when a message has both."""

    CRISIS = "crisis"  # thoughts of suicide or self-harm
    ABUSE = "abuse"  # being hurt, threatened or controlled by someone


def fold(text: str) -> str:
    """The form phrases and messages are compared in: lowercase ASCII words, single spaces.

    Accents go ("suïcide" → "suicide"), apostrophes join ("don't" → "dont"), the end
    of a clause (. ! ? , ; : or a new line) becomes a `|` token, so "ik wil niet meer $"
    can tell "ik wil niet meer." from "ik wil niet meer ruzie"; everything else that
    is not a letter or digit (emoji, other punctuation) splits words.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    bare = re.sub(r"['’‘`´]", "", bare)
    bare = re.sub(r"[.!?,;:\n\r]+", f" {BOUNDARY} ", bare)
    tokens = re.sub(r"[^a-z0-9|]+", " ", bare).split()
    folded: list[str] = []
    for token in tokens:
        if token == BOUNDARY and (not folded or folded[-1] == BOUNDARY):
            continue
        folded.append(token)
    while folded and folded[-1] == BOUNDARY:
        folded.pop()
    return " ".join(folded)


def _pattern(phrases: list[str]) -> re.Pattern[str] | None:
    """One regular expression for a list of phrases: whole words, `*` as a word's start,
    `_` as up to two other words of the same clause, `$` as the clause's end."""
    if not phrases:
        return None
    parts = []
    for phrase in phrases:
        regex = ""
        for token in phrase.split(" "):
            if token == GAP:
                regex += r"(?: [a-z0-9]+){0,2}"
            elif token == END:
                regex += rf"(?= \{BOUNDARY}|$)"
            else:
                word = (
                    re.escape(token[:-1]) + "[a-z0-9]*" if token.endswith("*") else re.escape(token)
                )
                regex += (" " if regex else "") + word
        parts.append(regex)
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(parts) + r")(?![a-z0-9])")


@dataclass(frozen=True)
class WordList:
    """One concern's phrases in one language, with the examples that pin them down."""

    language: str
    concern: Concern
    phrases: tuple[str, ...]
    must_catch: tuple[str, ...]
    must_pass: tuple[str, ...]


class SafetyWords:
    """Every language's lists, compiled once; `screen` is what the bot calls per message."""

    def __init__(self, lists: tuple[WordList, ...], harm: dict[str, tuple[str, ...]]) -> None:
        self.lists = lists
        self.harm = harm  # language -> the words by which a lesson mentions harm
        self._patterns = {
            concern: _pattern(
                [p for item in lists if item.concern is concern for p in item.phrases]
            )
            for concern in Concern
        }
        self._harm = {language: _pattern(list(words)) for language, words in harm.items()}
        self._by_language = [(item.language, _pattern(list(item.phrases))) for item in lists]

    def screen(self, text: str | None) -> Concern | None:
        """The concern a message speaks of, crisis before abuse; None for everything else."""
        found = self.concerns(text)
        return found[0] if found else None

    def concerns(self, text: str | None) -> tuple[Concern, ...]:
        """Every concern a message speaks of, crisis first ("he hits me and I want to die":
        both, so the reply can carry the lines for both)."""
        if not text:
            return ()
        folded = fold(text)
        return tuple(
            concern
            for concern in Concern
            if (pattern := self._patterns[concern]) is not None and pattern.search(folded)
        )

    def language_of(self, text: str | None) -> str | None:
        """The language whose list caught `text` ("ik wil dood": nl), to answer a stranger
        in it; None when no list did."""
        folded = fold(text or "")
        for language, pattern in self._by_language:
            if pattern is not None and pattern.search(folded):
                return language
        return None

    def mentions_harm(self, language: str, text: str) -> str | None:
        """The first harm word a lesson's text uses, or None: such a text needs help lines."""
        pattern = self._harm.get(language)
        if pattern is None:
            return None
        found = pattern.search(fold(text))
        return found.group(0) if found else None


@dataclass(frozen=True)
class WordProblem:
    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def read_safety_words(
    root: Path = SAFETY_DIR, languages: tuple[str, ...] = ("en", "nl")
) -> tuple[SafetyWords, list[WordProblem]]:
    """The lists under `root`, and every problem an author must fix (the checker shows them)."""
    problems: list[WordProblem] = []
    lists: list[WordList] = []
    harm: dict[str, tuple[str, ...]] = {}
    for language in languages:
        path = root / f"words-{language}.yaml"
        try:
            data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            problems.append(WordProblem(path, f"cannot read: {error}"))
            continue
        if not isinstance(data, dict) or data.get("language") != language:
            problems.append(WordProblem(path, f"a mapping with `language: {language}`"))
            continue
        for concern in Concern:
            found = _read_list(path, language, concern, data.get(concern.value), problems)
            if found is not None:
                lists.append(found)
        harm[language] = tuple(_read_phrases(path, "harm", data.get("harm"), problems))
        unknown = sorted(set(data) - {"language", "harm", *(c.value for c in Concern)})
        for field in unknown:
            problems.append(WordProblem(path, f"unknown field {field!r}"))
    words = SafetyWords(tuple(lists), harm)
    problems.extend(_example_problems(root, words))
    return words, problems


def _read_list(
    path: Path, language: str, concern: Concern, raw: object, problems: list[WordProblem]
) -> WordList | None:
    if not isinstance(raw, dict) or set(raw) != {"phrases", "must_catch", "must_pass"}:
        problems.append(
            WordProblem(path, f"{concern.value}: needs exactly phrases, must_catch and must_pass")
        )
        return None
    phrases = _read_phrases(path, concern.value, raw["phrases"], problems)
    examples = {}
    for field in ("must_catch", "must_pass"):
        items = raw[field]
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            problems.append(WordProblem(path, f"{concern.value} {field}: a list of sentences"))
            items = []
        examples[field] = tuple(items)
    return WordList(
        language, concern, tuple(phrases), examples["must_catch"], examples["must_pass"]
    )


def _read_phrases(path: Path, where: str, raw: object, problems: list[WordProblem]) -> list[str]:
    """Phrases written as they are compared (folded), each a valid, distinct pattern."""
    if not isinstance(raw, list) or not raw:
        problems.append(WordProblem(path, f"{where}: a list of phrases"))
        return []
    phrases: list[str] = []
    for item in raw:
        phrase = str(item)
        if not _well_formed(phrase):
            problems.append(
                WordProblem(
                    path,
                    f"{where} phrase {phrase!r}: lowercase words without punctuation, "
                    f"`_` only between words, `$` only last (try {fold(phrase)!r})",
                )
            )
            continue
        short = [w for w in phrase.split(" ") if w.endswith("*") and len(w) - 1 < MIN_PREFIX]
        if short:
            problems.append(
                WordProblem(
                    path, f"{where} phrase {phrase!r}: a start before * needs {MIN_PREFIX} letters"
                )
            )
            continue
        if phrase in phrases:
            problems.append(WordProblem(path, f"{where} phrase {phrase!r} appears twice"))
            continue
        phrases.append(phrase)
    return phrases


def _well_formed(phrase: str) -> bool:
    """Words (each may end in `*`), a `_` only between two words, a `$` only last."""
    tokens = phrase.split(" ")
    if tokens and tokens[-1] == END:
        tokens = tokens[:-1]
    if not tokens or tokens[0] == GAP or tokens[-1] == GAP:
        return False
    for before, token in zip([None, *tokens], tokens, strict=False):
        if token == GAP and before == GAP:
            return False
        if token != GAP and not WORD.match(token):
            return False
    return True


def _example_problems(root: Path, words: SafetyWords) -> list[WordProblem]:
    """Each must_catch example caught, for its own concern; each must_pass caught by none."""
    problems = []
    for item in words.lists:
        path = root / f"words-{item.language}.yaml"
        own = SafetyWords((item,), {})
        for example in item.must_catch:
            if own.screen(example) is None:
                problems.append(
                    WordProblem(path, f"{item.concern.value}: must catch {example!r}, does not")
                )
        for example in item.must_pass:
            caught = words.screen(example)
            if caught is not None:
                problems.append(
                    WordProblem(
                        path,
                        f"{item.concern.value}: must let {example!r} pass, "
                        f"the {caught.value} list catches it",
                    )
                )
    return problems


def load_safety_words(root: Path = SAFETY_DIR) -> SafetyWords:
    """The screen the bot uses; refuses lists with problems, as the course loader does."""
    words, problems = read_safety_words(root)
    if problems:
        shown = "\n".join(str(problem) for problem in problems[:20])
        raise ValueError(f"{len(problems)} problem(s) in the safety words:\n{shown}")
    return words


@cache
def safety_words() -> SafetyWords:
    """The lists shipped with Bridges, read once per process."""
    return load_safety_words()
