"""What Telegram's HTML parse mode accepts, in one place.

The renderer, `bridges lessons check` and the sandbox all ask this module, so a lesson that
passes our checks is a lesson Telegram takes. The parser is deliberately as strict as Telegram
(stricter about a bare ``&``, which Telegram sometimes lets through as text): an unknown tag such
as ``<br>``, a crossing or unclosed tag, a bare ``<`` or an unknown entity is an error, and the
error reads like the description Telegram would send back.

Lengths are counted the way Telegram counts them: in UTF-16 code units of the parsed text, so
an emoji outside the Basic Multilingual Plane counts 2 and ``&amp;`` counts 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "MAX_BUTTON_TEXT_LENGTH",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_MESSAGE_LENGTH",
    "ParsedHtml",
    "TelegramHtmlError",
    "message_problems",
    "parse_html",
    "utf16_len",
]

MAX_MESSAGE_LENGTH = 4096
"""Longest message text Telegram accepts, in UTF-16 code units of the parsed text."""

MAX_CALLBACK_DATA_BYTES = 64
"""Longest callback_data of an inline button, in UTF-8 bytes."""

MAX_BUTTON_TEXT_LENGTH = 64
"""Our own ceiling for a button label (Telegram has none documented but truncates long ones)."""

# Tag name -> Bot API MessageEntity type.
_ENTITY_TYPES: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_TEXT_RUN = re.compile(r"[^<&]+")
_TAG_NAME = re.compile(r"[^\s>]*")
_ATTR_NAME = re.compile(r"[^\s=>]+")
_UNQUOTED_VALUE = re.compile(r"[^\s>]*")
_SPACES = re.compile(r"\s*")
_ENTITY = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[A-Za-z][A-Za-z0-9]{0,31});")


class TelegramHtmlError(ValueError):
    """HTML that Telegram would refuse; ``str()`` reads like Telegram's own description.

    ``detail`` is the part after "Can't parse entities: ", so the sandbox can build the exact
    Bot API description ("Bad Request: can't parse entities: <detail>").
    """

    def __init__(self, detail: str, byte_offset: int | None = None) -> None:
        self.detail = detail
        self.byte_offset = byte_offset
        super().__init__(f"Can't parse entities: {detail}")


@dataclass(frozen=True)
class ParsedHtml:
    """The plain text Telegram would show and the entities it would attach to it."""

    text: str
    entities: list[dict[str, object]] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of Telegram's lengths and entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@dataclass
class _OpenTag:
    name: str
    entity_type: str
    start: int  # UTF-16 offset in the output text
    order: int
    extra: dict[str, object]


class _Parser:
    """One pass over the HTML; keeps the open-tag stack and the UTF-16 cursor."""

    def __init__(self, html: str) -> None:
        self.html = html
        self.out: list[str] = []
        self.cursor = 0
        self.stack: list[_OpenTag] = []
        self.done: list[tuple[int, int, int, dict[str, object]]] = []
        self.opened = 0

    def error(self, message: str, pos: int | None = None) -> TelegramHtmlError:
        if pos is None:
            return TelegramHtmlError(message)
        offset = len(self.html[:pos].encode("utf-8", "surrogatepass"))
        return TelegramHtmlError(f"{message} at byte offset {offset}", offset)

    def emit(self, text: str) -> None:
        if text:
            self.out.append(text)
            self.cursor += utf16_len(text)

    def run(self) -> ParsedHtml:
        html, pos, end = self.html, 0, len(self.html)
        while pos < end:
            char = html[pos]
            if char == "<":
                pos = self.tag(pos)
            elif char == "&":
                decoded, pos = self.entity(pos)
                self.emit(decoded)
            else:
                match = _TEXT_RUN.match(html, pos)
                assert match is not None  # noqa: S101 - html[pos] is neither "<" nor "&"
                self.emit(match.group())
                pos = match.end()
        if self.stack:
            raise self.error(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        self.done.sort(key=lambda item: (item[0], -item[1], item[2]))
        return ParsedHtml(text="".join(self.out), entities=[item[3] for item in self.done])

    def entity(self, pos: int) -> tuple[str, int]:
        """Decode the entity at ``pos``; return its text and the position after it."""
        match = _ENTITY.match(self.html, pos)
        if match is None:
            raise self.error('Character "&" must be escaped as "&amp;"', pos)
        body = match.group(1)
        if body.startswith("#"):
            digits = body[1:]
            code = int(digits[1:], 16) if digits[:1] in ("x", "X") else int(digits)
            if not 0 < code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise self.error(f'Invalid HTML entity "{match.group()}"', pos)
            return chr(code), match.end()
        if body not in _NAMED_ENTITIES:
            raise self.error(f'Unsupported HTML entity "{match.group()}"', pos)
        return _NAMED_ENTITIES[body], match.end()

    def tag(self, pos: int) -> int:
        html = self.html
        if html.startswith("</", pos):
            close = html.find(">", pos + 2)
            if close < 0:
                raise self.error("Unclosed end tag", pos)
            name = html[pos + 2 : close].strip().lower()
            if not self.stack:
                raise self.error("Unexpected end tag", pos)
            top = self.stack[-1]
            if name != top.name:
                offset = len(html[:pos].encode("utf-8", "surrogatepass"))
                raise TelegramHtmlError(
                    f"Unmatched end tag at byte offset {offset}, "
                    f'expected "</{top.name}>", found "</{name}>"',
                    offset,
                )
            self.close(self.stack.pop())
            return close + 1

        name_match = _TAG_NAME.match(html, pos + 1)
        assert name_match is not None  # noqa: S101 - the pattern matches the empty string
        name = name_match.group().lower()
        if name not in _ENTITY_TYPES:
            raise self.error(f'Unsupported start tag "{name}"', pos)
        attrs, after = self.attributes(name_match.end(), pos)
        self.open(name, attrs, pos)
        return after

    def attributes(self, cursor: int, tag_pos: int) -> tuple[dict[str, str], int]:
        html, end = self.html, len(self.html)
        attrs: dict[str, str] = {}
        while True:
            cursor = self.skip_spaces(cursor)
            if cursor >= end:
                raise self.error("Unclosed start tag", tag_pos)
            if html[cursor] == ">":
                return attrs, cursor + 1
            name_match = _ATTR_NAME.match(html, cursor)
            assert name_match is not None  # noqa: S101 - html[cursor] is not space, "=", ">"
            if html[cursor] == "=":
                raise self.error("Empty attribute name in the tag", tag_pos)
            attr = name_match.group().lower()
            cursor = self.skip_spaces(name_match.end())
            value = ""
            if cursor < end and html[cursor] == "=":
                cursor = self.skip_spaces(cursor + 1)
                if cursor >= end:
                    raise self.error("Unclosed start tag", tag_pos)
                quote = html[cursor]
                if quote in "\"'":
                    close = html.find(quote, cursor + 1)
                    if close < 0:
                        raise self.error("Unclosed start tag", tag_pos)
                    raw, value_pos, cursor = html[cursor + 1 : close], cursor + 1, close + 1
                else:
                    value_match = _UNQUOTED_VALUE.match(html, cursor)
                    assert value_match is not None  # noqa: S101 - matches the empty string
                    raw, value_pos, cursor = value_match.group(), cursor, value_match.end()
                value = self.decode_value(raw, value_pos)
            attrs.setdefault(attr, value)

    def skip_spaces(self, cursor: int) -> int:
        match = _SPACES.match(self.html, cursor)
        assert match is not None  # noqa: S101 - matches the empty string
        return match.end()

    def decode_value(self, raw: str, value_pos: int) -> str:
        parts: list[str] = []
        index = 0
        while True:
            amp = raw.find("&", index)
            if amp < 0:
                parts.append(raw[index:])
                return "".join(parts)
            parts.append(raw[index:amp])
            decoded, index = self.entity(value_pos + amp)
            index -= value_pos
            parts.append(decoded)

    def open(self, name: str, attrs: dict[str, str], pos: int) -> None:
        entity_type = _ENTITY_TYPES[name]
        extra: dict[str, object] = {}
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise self.error('Tag "span" must have class "tg-spoiler"', pos)
        if name == "a":
            href = attrs.get("href", "").strip()
            if not href:
                raise self.error('Tag "a" must have attribute "href"', pos)
            extra["url"] = href
        if name == "tg-emoji":
            emoji_id = attrs.get("emoji-id", "").strip()
            if not emoji_id.isdigit():
                raise self.error('Tag "tg-emoji" must have a numeric attribute "emoji-id"', pos)
            extra["custom_emoji_id"] = emoji_id
        if name == "code":
            css = attrs.get("class", "")
            if css.startswith("language-") and len(css) > len("language-"):
                extra["language"] = css[len("language-") :]
        if name == "blockquote" and "expandable" in attrs:
            entity_type = "expandable_blockquote"
        self.stack.append(_OpenTag(name, entity_type, self.cursor, self.opened, extra))
        self.opened += 1

    def close(self, tag: _OpenTag) -> None:
        language = tag.extra.get("language")
        parent = self.stack[-1] if self.stack else None
        if tag.name == "code" and language is not None:
            if parent is not None and parent.name == "pre" and parent.start == tag.start:
                # <pre><code class="language-x">: one pre entity carrying the language.
                parent.extra["language"] = language
                return
            del tag.extra["language"]
        length = self.cursor - tag.start
        if length <= 0:
            return  # Telegram drops empty entities.
        entity: dict[str, object] = {"type": tag.entity_type, "offset": tag.start}
        entity["length"] = length
        entity.update(tag.extra)
        self.done.append((tag.start, length, tag.order, entity))


def parse_html(html: str) -> ParsedHtml:
    """Parse Telegram HTML the way Telegram does, or raise :class:`TelegramHtmlError`."""
    return _Parser(html).run()


def message_problems(html: str) -> list[str]:
    """Why Telegram would refuse ``html`` as a message text; empty when it would accept it."""
    try:
        parsed = parse_html(html)
    except TelegramHtmlError as exc:
        return [str(exc)]
    problems: list[str] = []
    if not parsed.text.strip():
        problems.append("message text is empty")
    length = utf16_len(parsed.text)
    if length > MAX_MESSAGE_LENGTH:
        problems.append(
            f"message is too long: {length} UTF-16 code units, the limit is {MAX_MESSAGE_LENGTH}"
        )
    return problems
