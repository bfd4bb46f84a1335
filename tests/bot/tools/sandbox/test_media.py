"""The sandbox takes sendPhoto and sendDocument as Telegram does: multipart uploads, an HTML
caption held to Telegram's rules, and files the tests (and the demo) can read back."""

from __future__ import annotations

import pytest
from telegram import Bot, InputFile
from telegram.error import BadRequest

from bot.tools.sandbox import SandboxUser
from lessons.chart import progress_chart

PNG = progress_chart({"Empathy": [(2, 3)]}, title="t", x_label="x", y_label="y", total_days=40)


async def test_a_photo_arrives_with_its_caption(bot: Bot, alex: SandboxUser) -> None:
    message = await bot.send_photo(
        alex.id,
        InputFile(PNG, filename="progress.png"),
        caption="<b>Your</b> chart",
        parse_mode="HTML",
    )
    assert message.photo and message.caption == "Your chart"
    arrived = alex.last
    assert arrived.photo is not None and arrived.photo.data == PNG
    assert arrived.text == "Your chart" and arrived.entities[0]["type"] == "bold"


async def test_a_document_arrives_whole(bot: Bot, alex: SandboxUser) -> None:
    body = b'{"settings": {}}'
    message = await bot.send_document(alex.id, InputFile(body, filename="export.json"))
    assert message.document is not None and message.document.file_name == "export.json"
    assert alex.last.document is not None and alex.last.document.data == body


async def test_what_telegram_refuses_the_sandbox_refuses(bot: Bot, alex: SandboxUser) -> None:
    with pytest.raises(BadRequest, match="(?i)image_process_failed"):
        await bot.send_photo(alex.id, InputFile(b"not a picture", filename="x.png"))
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_photo(
            alex.id, InputFile(PNG, filename="p.png"), caption="<b>open", parse_mode="HTML"
        )
    with pytest.raises(BadRequest, match="(?i)caption is too long"):
        await bot.send_document(alex.id, InputFile(b"x", filename="x.txt"), caption="x" * 1025)
    assert alex.inbox == []
