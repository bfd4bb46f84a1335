"""lessons/telegram_html.py: what Telegram's HTML parse mode accepts, and how it counts."""

from __future__ import annotations

import pytest

from lessons.telegram_html import (
    MAX_CALLBACK_DATA_BYTES,
    MAX_MESSAGE_LENGTH,
    ParsedHtml,
    TelegramHtmlError,
    message_problems,
    parse_html,
    utf16_len,
)


def test_constants() -> None:
    assert MAX_MESSAGE_LENGTH == 4096
    assert MAX_CALLBACK_DATA_BYTES == 64


def test_plain_text_passes_through() -> None:
    assert parse_html("Hello > world\nsecond line") == ParsedHtml("Hello > world\nsecond line", [])


@pytest.mark.parametrize(
    ("tag", "entity_type"),
    [
        ("b", "bold"),
        ("strong", "bold"),
        ("i", "italic"),
        ("em", "italic"),
        ("u", "underline"),
        ("ins", "underline"),
        ("s", "strikethrough"),
        ("strike", "strikethrough"),
        ("del", "strikethrough"),
        ("tg-spoiler", "spoiler"),
        ("code", "code"),
        ("pre", "pre"),
        ("blockquote", "blockquote"),
    ],
)
def test_simple_tags(tag: str, entity_type: str) -> None:
    parsed = parse_html(f"ab <{tag}>cd</{tag}> ef")
    assert parsed.text == "ab cd ef"
    assert parsed.entities == [{"type": entity_type, "offset": 3, "length": 2}]


def test_tag_names_are_case_insensitive() -> None:
    assert parse_html("<B>x</b><EM>y</Em>").entities == [
        {"type": "bold", "offset": 0, "length": 1},
        {"type": "italic", "offset": 1, "length": 1},
    ]


def test_tags_with_attributes() -> None:
    parsed = parse_html(
        '<span class="tg-spoiler">s</span>'
        "<a href='https://example.org/?a=1&amp;b=2'>l</a>"
        "<a href=tg://user?id=1>m</a>"
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
        "<blockquote expandable>q</blockquote>"
    )
    assert parsed.text == "slm👍q"
    assert parsed.entities == [
        {"type": "spoiler", "offset": 0, "length": 1},
        {"type": "text_link", "offset": 1, "length": 1, "url": "https://example.org/?a=1&b=2"},
        {"type": "text_link", "offset": 2, "length": 1, "url": "tg://user?id=1"},
        {
            "type": "custom_emoji",
            "offset": 3,
            "length": 2,
            "custom_emoji_id": "5368324170671202286",
        },
        {"type": "expandable_blockquote", "offset": 5, "length": 1},
    ]


def test_pre_with_language() -> None:
    parsed = parse_html('<pre><code class="language-python">print(1)</code></pre>')
    assert parsed.text == "print(1)"
    assert parsed.entities == [{"type": "pre", "offset": 0, "length": 8, "language": "python"}]


def test_nesting_orders_entities_by_offset_then_outer_first() -> None:
    parsed = parse_html("<b>bold <i>both</i></b> <u>u</u>")
    assert parsed.text == "bold both u"
    assert parsed.entities == [
        {"type": "bold", "offset": 0, "length": 9},
        {"type": "italic", "offset": 5, "length": 4},
        {"type": "underline", "offset": 10, "length": 1},
    ]


def test_empty_entities_are_dropped() -> None:
    assert parse_html("<b></b>x") == ParsedHtml("x", [])


def test_entities_are_decoded() -> None:
    parsed = parse_html("&lt;b&gt; &amp; &quot;q&quot; it&#39;s &#x1F600; &#X41;")
    assert parsed.text == '<b> & "q" it\'s 😀 A'
    assert parsed.entities == []


def test_offsets_count_utf16_units() -> None:
    parsed = parse_html("😀😀 <b>héllo</b> &#x1F600;<i>x</i>")
    assert parsed.text == "😀😀 héllo 😀x"
    assert parsed.entities == [
        {"type": "bold", "offset": 5, "length": 5},
        {"type": "italic", "offset": 13, "length": 1},
    ]


def test_utf16_len() -> None:
    assert utf16_len("") == 0
    assert utf16_len("abc") == 3
    assert utf16_len("é") == 1
    assert utf16_len("😀") == 2
    assert utf16_len("👍🏽") == 4


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ("line<br>next", 'Unsupported start tag "br" at byte offset 4'),
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<blink>x</blink>", 'Unsupported start tag "blink" at byte offset 0'),
        ("é<br/>", 'Unsupported start tag "br/" at byte offset 2'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b><i>x</b></i>", "Unmatched end tag at byte offset 7"),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<a href="x>y</a>', "Unclosed start tag at byte offset 0"),
        ("fish & chips", 'Character "&" must be escaped as "&amp;" at byte offset 5'),
        ("&amp", 'Character "&" must be escaped'),
        ("&nbsp;", 'Unsupported HTML entity "&nbsp;" at byte offset 0'),
        ("&foo;", 'Unsupported HTML entity "&foo;"'),
        ("&#0;", 'Invalid HTML entity "&#0;"'),
        ("&#xD800;", 'Invalid HTML entity "&#xD800;"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("<a>x</a>", 'Tag "a" must have attribute "href"'),
        ("<tg-emoji>x</tg-emoji>", 'Tag "tg-emoji" must have a numeric attribute "emoji-id"'),
        ('<a href="&bad;">x</a>', 'Unsupported HTML entity "&bad;" at byte offset 9'),
    ],
)
def test_strict_errors(html: str, message: str) -> None:
    with pytest.raises(TelegramHtmlError) as caught:
        parse_html(html)
    assert str(caught.value).startswith("Can't parse entities: ")
    assert message in str(caught.value)
    assert message in f"Can't parse entities: {caught.value.detail}"


def test_crossing_tags_name_both() -> None:
    with pytest.raises(TelegramHtmlError, match=r'expected "</i>", found "</b>"'):
        parse_html("<b><i></b></i>")


def test_error_is_a_value_error_with_byte_offset() -> None:
    with pytest.raises(ValueError, match="byte offset") as caught:
        parse_html("😀<br>")
    assert isinstance(caught.value, TelegramHtmlError)
    assert caught.value.byte_offset == 4


def test_message_problems_accepts_a_good_message() -> None:
    assert message_problems("<b>Day 1</b>: empathy &amp; you") == []


def test_message_problems_reports_parse_errors() -> None:
    assert message_problems("a<br>b") == [
        'Can\'t parse entities: Unsupported start tag "br" at byte offset 1'
    ]


@pytest.mark.parametrize("html", ["", "   \n ", "<b> </b>", "<i></i>"])
def test_message_problems_empty(html: str) -> None:
    assert message_problems(html) == ["message text is empty"]


def test_message_problems_counts_parsed_utf16_units() -> None:
    assert message_problems("&amp;" * MAX_MESSAGE_LENGTH) == []
    assert message_problems("<b>" + "x" * MAX_MESSAGE_LENGTH + "</b>") == []
    assert message_problems("😀" * (MAX_MESSAGE_LENGTH // 2)) == []
    (problem,) = message_problems("😀" * (MAX_MESSAGE_LENGTH // 2) + "x")
    assert "too long" in problem
    assert "4097" in problem
