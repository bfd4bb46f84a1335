"""UI text per language, addressed by id; handlers hold no prose.

Each language is one YAML file of Jinja2 templates (autoescape on, undefined
names are errors), so values such as a learner's name are escaped before they
meet Telegram HTML. English is the fallback language.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import yaml
from jinja2 import Environment, StrictUndefined, Template
from markupsafe import Markup

TEXTS_DIR = Path(str(files("bot.chat.texts")))  # the installed package's own files
LANGUAGES = ("en", "nl")
FALLBACK = "en"


class Texts:
    """All UI text; `get(language, id, **values)` returns Telegram HTML."""

    def __init__(self, folder: Path = TEXTS_DIR) -> None:
        env = Environment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=False)
        self._templates: dict[str, dict[str, Template]] = {}
        for language in LANGUAGES:
            raw = yaml.safe_load((folder / f"{language}.yaml").read_text(encoding="utf-8"))
            self._templates[language] = {
                key: env.from_string(str(value).strip()) for key, value in raw.items()
            }

    def ids(self, language: str) -> set[str]:
        return set(self._templates[language])

    def get(self, language: str, text_id: str, **values: object) -> Markup:
        """Rendered Telegram HTML; Markup, so a text placed inside another is not escaped twice."""
        templates = self._templates.get(language) or self._templates[FALLBACK]
        template = templates.get(text_id) or self._templates[FALLBACK][text_id]
        return Markup(template.render(**values).strip())  # noqa: S704 - autoescaped template


@lru_cache(maxsize=1)
def texts() -> Texts:
    """The texts shipped with Bridges, read once."""
    return Texts()


def language_for(language_code: str | None) -> str:
    """The course language for a Telegram language_code: Dutch for nl*, else English."""
    if language_code and language_code.lower().startswith("nl"):
        return "nl"
    return FALLBACK
