"""UI texts: both languages have the same ids and placeholders, and all render as valid HTML."""

from __future__ import annotations

import re

import pytest
import yaml

from bot.chat.texts import LANGUAGES, TEXTS_DIR, Texts, language_for
from lessons.telegram_html import message_problems

PLACEHOLDER = re.compile(r"\{\{\s*(\w+)")
SAMPLE = {
    "name": "<Zoë & co> 🌉",
    "link": "https://t.me/BridgesBot?start=pair-ABCDEFGHJK",
    "code": "ABCDEFGHJK",
    "time": "07:30",
    "zone": "Europe/Amsterdam",
    "lesson": 3,
    "total": 34,
    "when": "Tuesday 3 March, 08:00",
    "given": "<b>&",
    "command": "/x<y>",
    "days": 7,
    "until": "Tuesday 3 March",
    "next": "Your next lesson comes on Tuesday.",
    "streak": "🔥 2-day streak",
    "answer": "<i>yes</i> & no",
    "done": 2,
    "per_key": "Empathy: 1/5",
    "current": 2,
    "longest": 3,
    "answers": 4,
    "freezes": 1,
    "partner": "<Sam & co>",
    "together": 2,
    "day": 3,
    "mine": 1,
    "theirs": 12,
    "paused": True,
    "evening": False,
    "date": "Tuesday 3 March",
    "note": "Your check-in will come with the lesson.",
    "key": "Empathy",
    "feedback": "Try appreciation <i>instead</i> & see.",
    "helplines": ("Samaritans: 116 123 (free, day and night)", "<b>&"),
    "country": "the United Kingdom <&>",
    "others": "/sos NL, /sos BE",
    "first": "07:00",
    "city": "Amsterdam",
    "care": False,
    "open": True,
    "question": "How easy was it <today>?",
    "low": "Hard & slow",
    "high": "Easy",
    "second": "19:00",
}


def _raw(language: str) -> dict[str, str]:
    data = yaml.safe_load((TEXTS_DIR / f"{language}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_both_languages_have_the_same_ids_and_placeholders():
    english, dutch = _raw("en"), _raw("nl")
    assert english
    assert set(english) == set(dutch)
    for text_id, value in english.items():
        assert set(PLACEHOLDER.findall(value)) == set(PLACEHOLDER.findall(dutch[text_id])), text_id


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_renders_as_html_telegram_accepts(language: str):
    texts = Texts()
    ids = texts.ids(language)
    assert ids, language
    for text_id in ids:
        html = texts.get(language, text_id, **SAMPLE)
        assert message_problems(html) == [], (language, text_id, html)


def test_values_are_escaped():
    html = Texts().get("en", "welcome", name="<b>Bob</b> & Co")
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; Co" in html


@pytest.mark.parametrize(
    ("code", "language"),
    [("nl", "nl"), ("nl-BE", "nl"), ("en-GB", "en"), ("de", "en"), (None, "en")],
)
def test_language_from_telegram(code: str | None, language: str):
    assert language_for(code) == language


@pytest.mark.parametrize("language", LANGUAGES)
def test_not_therapy_is_said_where_a_learner_looks(language: str):
    texts = Texts()
    marker = {"en": "not therapy", "nl": "geen therapie"}[language]
    for text_id in ("welcome", "help"):
        assert marker in texts.get(language, text_id, **SAMPLE), text_id


@pytest.mark.parametrize(
    ("language", "one", "many"),
    [("en", "1 day.", "2 days."), ("nl", "1 dag op pauze.", "2 dagen op pauze.")],
)
def test_pause_length_is_singular_or_plural(language: str, one: str, many: str):
    texts = Texts()
    assert one in texts.get(language, "paused-days", days=1, until="x")
    assert many in texts.get(language, "paused-days", days=2, until="x")
