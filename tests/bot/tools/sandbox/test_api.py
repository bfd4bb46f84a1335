"""bot/tools/sandbox: the local Bot API, driven by the real python-telegram-bot client over HTTP."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
)
from telegram.request import HTTPXRequest

from bot.tools.sandbox import BotMessage, Sandbox, SandboxUser
from tests.bot.tools.sandbox.support import FakeClock, keyboard, retry_seconds


async def test_get_me(bot: Bot, sandbox: Sandbox) -> None:
    me = await bot.get_me()
    assert me.id == 123456
    assert me.username == "BridgesBot"
    assert me.is_bot
    assert sandbox.base_url.startswith("http://127.0.0.1:")
    assert sandbox.base_url.endswith("/bot")
    assert sandbox.requests[0].method == "getMe"
    assert sandbox.requests[0].status == 200


async def test_wrong_token_is_invalid_token(sandbox: Sandbox) -> None:
    requests = (HTTPXRequest(), HTTPXRequest())
    stranger = Bot(
        "999:not-the-token",
        base_url=sandbox.base_url,
        request=requests[0],
        get_updates_request=requests[1],
    )
    try:
        with pytest.raises(InvalidToken, match="Unauthorized"):
            await stranger.get_me()
    finally:
        for request in requests:
            await request.shutdown()
    assert sandbox.requests[-1].status == 401


async def test_unknown_method_is_404(bot: Bot, sandbox: Sandbox) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendHugs", api_kwargs={"chat_id": 42})
    assert sandbox.requests[-1].status == 404


async def test_send_message_reaches_inbox_with_buttons(
    bot: Bot, sandbox: Sandbox, alex: SandboxUser
) -> None:
    sent = await bot.send_message(
        alex.id,
        "<b>Day 1</b>: empathy &amp; you",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard("Yes", "Not yet"),
    )
    assert sent.chat.id == alex.id
    assert sent.from_user is not None and sent.from_user.is_bot
    assert sent.text == "Day 1: empathy & you"
    assert sent.entities[0].type == "bold"
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][1].callback_data == "v1:Not yet"

    message = alex.last
    assert message.message_id == sent.message_id
    assert message.html == "<b>Day 1</b>: empathy &amp; you"
    assert message.text == "Day 1: empathy & you"
    assert message.entities == [{"type": "bold", "offset": 0, "length": 5}]
    assert message.parse_mode == "HTML"
    assert [[b.text for b in row] for row in message.buttons] == [["Yes", "Not yet"]]
    assert message.buttons[0][0].callback_data == "v1:Yes"
    assert message.edits == 0
    record = sandbox.calls("sendMessage")[0]
    assert record.params["chat_id"] == 42
    assert record.params["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Yes", "callback_data": "v1:Yes"},
                {"text": "Not yet", "callback_data": "v1:Not yet"},
            ]
        ]
    }


async def test_text_without_parse_mode_is_literal(bot: Bot, alex: SandboxUser) -> None:
    await bot.send_message(alex.id, "<b>not bold</b> & fine")
    assert alex.last.text == "<b>not bold</b> & fine"
    assert alex.last.entities == []
    assert alex.last.parse_mode is None


async def test_url_buttons(bot: Bot, alex: SandboxUser) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Read", url="https://example.org")]])
    await bot.send_message(alex.id, "link", reply_markup=markup)
    assert alex.last.buttons[0][0].url == "https://example.org"
    with pytest.raises(LookupError, match="Read"):
        alex.press("Read")


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ("line<br>next", 'unsupported start tag "br" at byte offset 4'),
        ("<b><i>x</b></i>", "unmatched end tag"),
        ("<b>open", "can't find end tag"),
        ("fish & chips", 'character "&" must be escaped'),
        ("&nbsp;", 'unsupported html entity "&nbsp;"'),
    ],
)
async def test_bad_html_is_bad_request(
    bot: Bot, sandbox: Sandbox, alex: SandboxUser, html: str, message: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(alex.id, html, parse_mode=ParseMode.HTML)
    assert caught.value.message.lower().startswith("can't parse entities: ")
    assert message in caught.value.message.lower()
    assert alex.inbox == []
    record = sandbox.requests[-1]
    assert record.status == 400
    assert record.description is not None
    assert record.description.startswith("Bad Request: can't parse entities: ")


async def test_length_counts_parsed_utf16_units(bot: Bot, alex: SandboxUser) -> None:
    await bot.send_message(alex.id, "&amp;" * 4096, parse_mode=ParseMode.HTML)
    assert alex.last.text == "&" * 4096
    await bot.send_message(alex.id, "😀" * 2048)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(alex.id, "&amp;" * 4097, parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(alex.id, "😀" * 2048 + "x")
    assert len(alex.inbox) == 2


@pytest.mark.parametrize("text", ["", "   ", "<b> </b>"])
async def test_empty_text_is_refused(bot: Bot, alex: SandboxUser, text: str) -> None:
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(alex.id, text, parse_mode=ParseMode.HTML)


async def test_callback_data_limit_is_64_bytes(bot: Bot, alex: SandboxUser) -> None:
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="é" * 32)]])
    await bot.send_message(alex.id, "fits", reply_markup=ok)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="a" * 65)]])
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(alex.id, "too long", reply_markup=too_long)
    multibyte = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(alex.id, "66 bytes", reply_markup=multibyte)
    assert len(alex.inbox) == 1


async def test_unknown_chat(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(777, "hello")


async def test_blocked_user_is_forbidden_and_announced(
    bot: Bot, sandbox: Sandbox, alex: SandboxUser
) -> None:
    alex.block()
    assert alex.blocked
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(alex.id, "hello")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(alex.id, "typing")
    (update,) = await bot.get_updates()
    assert update.my_chat_member is not None
    assert update.my_chat_member.chat.id == alex.id
    assert update.my_chat_member.old_chat_member.status == "member"
    assert update.my_chat_member.new_chat_member.status == "kicked"

    alex.unblock()
    (update,) = await bot.get_updates(offset=update.update_id + 1)
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "member"
    await bot.send_message(alex.id, "welcome back")
    assert alex.last.text == "welcome back"


async def test_flood_limit_per_chat_raises_retry_after(alex: SandboxUser) -> None:
    clock = FakeClock()
    async with Sandbox(chat_burst=2, chat_rate=0.5, clock=clock) as sandbox:
        user = sandbox.user(alex.id)
        async with Bot(sandbox.token, base_url=sandbox.base_url) as client:
            await client.send_message(user.id, "one")
            await client.send_message(user.id, "two")
            with pytest.raises(RetryAfter) as caught:
                await client.send_message(user.id, "three")
            assert retry_seconds(caught.value) >= 1
            assert sandbox.requests[-1].status == 429
            other = sandbox.user(7)
            await client.send_message(other.id, "another chat is not limited")

            clock.now += 2.0  # one token back at 0.5/s
            await client.send_message(user.id, "three, later")
    assert [m.text for m in user.inbox] == ["one", "two", "three, later"]


async def test_flood_limit_global() -> None:
    clock = FakeClock()
    async with Sandbox(global_burst=3, global_rate=1.0, clock=clock) as sandbox:
        users = [sandbox.user(user_id) for user_id in (1, 2, 3, 4)]
        async with Bot(sandbox.token, base_url=sandbox.base_url) as client:
            for user in users[:3]:
                await client.send_message(user.id, "hi")
            with pytest.raises(RetryAfter) as caught:
                await client.send_message(users[3].id, "hi")
            assert retry_seconds(caught.value) == 1
            clock.now += 1.0
            await client.send_message(users[3].id, "hi")


async def test_get_updates_delivers_text_and_commands(bot: Bot, alex: SandboxUser) -> None:
    first = alex.send("/start")
    second = alex.send("/pause@BridgesBot 7")
    alex.send("just words")
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [1, 2, 3]
    start, pause, words = (u.message for u in updates)
    assert start is not None and pause is not None and words is not None
    assert start.message_id == first
    assert start.text == "/start"
    assert start.from_user is not None
    assert start.from_user.id == alex.id
    assert start.from_user.language_code == "en"
    assert start.chat.type == "private"
    assert [(e.type, e.offset, e.length) for e in start.entities] == [("bot_command", 0, 6)]
    assert pause.message_id == second
    assert [(e.type, e.length) for e in pause.entities] == [("bot_command", 17)]
    assert words.entities == ()


async def test_press_sends_callback_query(bot: Bot, alex: SandboxUser) -> None:
    sent = await bot.send_message(alex.id, "Did you try it?", reply_markup=keyboard("Yes", "No"))
    await bot.send_message(alex.id, "no buttons here")
    query_id = alex.press("No")
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None
    assert query.id == query_id
    assert query.data == "v1:No"
    assert query.from_user.id == alex.id
    assert isinstance(query.message, Message)  # accessible, not MaybeInaccessibleMessage
    assert query.message.message_id == sent.message_id
    assert query.message.chat.id == alex.id
    assert query.message.text == "Did you try it?"

    alex.press("v1:Yes", message_id=sent.message_id)  # by callback data works too
    with pytest.raises(LookupError, match=r"\['Yes', 'No'\]"):
        alex.press("Maybe")
    with pytest.raises(LookupError):
        alex.press("Yes", message_id=999)


async def test_press_data_forges_callback_data(bot: Bot, alex: SandboxUser) -> None:
    with pytest.raises(LookupError):
        alex.press_data("v1:anything")
    await bot.send_message(alex.id, "plain")
    alex.press_data("v0:stale")
    (update,) = await bot.get_updates()
    assert update.callback_query is not None
    assert update.callback_query.data == "v0:stale"


async def test_answer_callback_query_is_recorded_once(bot: Bot, alex: SandboxUser) -> None:
    await bot.send_message(alex.id, "Q", reply_markup=keyboard("Yes"))
    query_id = alex.press("Yes")
    assert await bot.answer_callback_query(query_id, text="Noted", show_alert=True)
    (answer,) = alex.callback_answers
    assert (answer.query_id, answer.text, answer.show_alert) == (query_id, "Noted", True)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("nonsense")


async def test_confirming_offsets_drops_updates(
    bot: Bot, sandbox: Sandbox, alex: SandboxUser
) -> None:
    alex.send("one")
    alex.send("two")
    assert sandbox.pending_updates == 2
    assert len(await bot.get_updates()) == 2
    assert sandbox.pending_updates == 2  # delivered but not confirmed
    assert [u.update_id for u in await bot.get_updates(offset=2)] == [2]
    assert sandbox.pending_updates == 1
    assert await bot.get_updates(offset=3) == ()
    assert sandbox.pending_updates == 0


async def test_long_poll_answers_when_an_update_arrives(
    bot: Bot, sandbox: Sandbox, alex: SandboxUser
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    # A parked long poll does not count as busy; wait until it has arrived and parked.
    await sandbox.wait_idle(extra=lambda: len(sandbox.calls("getUpdates")) == 1)
    assert not poll.done()
    alex.send("hello")
    (update,) = await asyncio.wait_for(poll, 5)
    assert update.message is not None
    assert update.message.text == "hello"


async def test_long_poll_times_out_empty(bot: Bot) -> None:
    assert await bot.get_updates(timeout=0) == ()


async def test_wait_idle(bot: Bot, sandbox: Sandbox, alex: SandboxUser) -> None:
    await sandbox.wait_idle(timeout=1)
    alex.send("unconfirmed")
    with pytest.raises(TimeoutError, match="not confirmed"):
        await sandbox.wait_idle(timeout=0.05)
    (update,) = await bot.get_updates()
    with pytest.raises(TimeoutError, match="not confirmed"):
        await sandbox.wait_idle(timeout=0.05)
    await bot.get_updates(offset=update.update_id + 1)
    await sandbox.wait_idle(timeout=1)
    with pytest.raises(TimeoutError, match="extra"):
        await sandbox.wait_idle(timeout=0.05, extra=lambda: False)


async def test_edit_message_text_and_not_modified(
    bot: Bot, sandbox: Sandbox, alex: SandboxUser
) -> None:
    seen: list[tuple[int, str, str]] = []

    def listen(user: SandboxUser, message: BotMessage, kind: str) -> None:
        seen.append((user.id, message.text, kind))

    sandbox.add_listener(listen)
    sent = await bot.send_message(alex.id, "Did you try it?", reply_markup=keyboard("Yes"))
    edited = await bot.edit_message_text(
        "Did you try it? <i>Yes</i>",
        chat_id=alex.id,
        message_id=sent.message_id,
        parse_mode=ParseMode.HTML,
    )
    assert not isinstance(edited, bool)
    assert edited.text == "Did you try it? Yes"
    assert edited.edit_date is not None
    assert edited.reply_markup is None  # an edit without markup removes the keyboard
    assert len(alex.inbox) == 1
    assert alex.last.edits == 1
    assert alex.last.buttons == []
    assert alex.last.entities == [{"type": "italic", "offset": 16, "length": 3}]
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "Did you try it? <i>Yes</i>",
            chat_id=alex.id,
            message_id=sent.message_id,
            parse_mode=ParseMode.HTML,
        )
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat_id=alex.id, message_id=999)
    assert seen == [
        (42, "Did you try it?", "new"),
        (42, "Did you try it? Yes", "edit"),
    ]


async def test_edit_reply_markup(bot: Bot, alex: SandboxUser) -> None:
    sent = await bot.send_message(alex.id, "Q", reply_markup=keyboard("Yes", "No"))
    await bot.edit_message_reply_markup(alex.id, sent.message_id, reply_markup=keyboard("Yes"))
    assert alex.last.button_labels() == ["Yes"]
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(alex.id, sent.message_id, reply_markup=keyboard("Yes"))
    await bot.edit_message_reply_markup(alex.id, sent.message_id)
    assert alex.last.buttons == []
    assert alex.last.edits == 2
    with pytest.raises(LookupError):
        alex.press("Yes")


async def test_delete_message_and_chat_action(bot: Bot, alex: SandboxUser) -> None:
    sent = await bot.send_message(alex.id, "bye")
    assert await bot.send_chat_action(alex.id, "typing")
    assert await bot.delete_message(alex.id, sent.message_id)
    assert alex.inbox == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(alex.id, sent.message_id)


async def test_set_my_commands_per_language(bot: Bot, sandbox: Sandbox) -> None:
    await bot.set_my_commands([BotCommand("start", "Start the course")])
    await bot.set_my_commands([BotCommand("start", "Begin de cursus")], language_code="nl")
    await bot.set_my_commands(
        [BotCommand("pause", "Pause")], scope=BotCommandScopeAllPrivateChats()
    )
    assert sandbox.commands[("default", "")] == [
        {"command": "start", "description": "Start the course"}
    ]
    assert sandbox.commands[("default", "nl")] == [
        {"command": "start", "description": "Begin de cursus"}
    ]
    assert sandbox.commands[("all_private_chats", "")][0]["command"] == "pause"
    (command,) = await bot.get_my_commands(language_code="nl")
    assert command.description == "Begin de cursus"
    assert await bot.get_my_commands(language_code="de") == ()
    await bot.delete_my_commands(language_code="nl")
    assert ("default", "nl") not in sandbox.commands
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start!", "bad name")])


async def test_webhook_calls(bot: Bot, alex: SandboxUser) -> None:
    alex.send("old")
    assert (await bot.get_webhook_info()).pending_update_count == 1
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()


async def test_json_and_multipart_bodies(sandbox: Sandbox, alex: SandboxUser) -> None:
    url = f"{sandbox.base_url}{sandbox.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    async with httpx.AsyncClient() as http:
        response = await http.post(
            url,
            json={
                "chat_id": alex.id,
                "text": "<b>json</b>",
                "parse_mode": "html",
                "reply_markup": markup,
            },
        )
        assert response.status_code == 200
        assert response.json()["result"]["text"] == "json"
        response = await http.post(
            url,
            data={"chat_id": str(alex.id), "text": "multipart", "reply_markup": json.dumps(markup)},
            files={"unused": ("a.txt", b"x")},
        )
        assert response.status_code == 200, response.text
        response = await http.post(
            url, json={"chat_id": alex.id, "text": "a<br>b", "parse_mode": "HTML"}
        )
        assert response.status_code == 400
        assert response.json() == {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: can't parse entities: "
            'Unsupported start tag "br" at byte offset 1',
        }
        response = await http.get(f"{sandbox.base_url}wrong/getMe")
        assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert [m.text for m in alex.inbox] == ["json", "multipart"]
    assert alex.last.buttons[0][0].callback_data == "go"


async def test_user_is_created_once(sandbox: Sandbox) -> None:
    first = sandbox.user(5, "Sam", language_code="nl")
    assert sandbox.user(5) is first
    assert first.language_code == "nl"
    with pytest.raises(LookupError):
        _ = first.last


async def test_stop_releases_a_parked_long_poll() -> None:
    sandbox = Sandbox()
    await sandbox.start()
    async with Bot(sandbox.token, base_url=sandbox.base_url) as client:
        poll = asyncio.create_task(client.get_updates(timeout=30))
        await sandbox.wait_idle(extra=lambda: bool(sandbox.calls("getUpdates")))
        await asyncio.wait_for(sandbox.stop(), 5)
        assert await asyncio.wait_for(poll, 5) == ()


async def test_application_polls_the_sandbox(sandbox: Sandbox, alex: SandboxUser) -> None:
    """The same runner shape as the demo: start by hand, poll, wait for idle, stop."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Greet with a button."""
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id, "<b>Welcome</b>", reply_markup=keyboard("Go")
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer the button and edit the message."""
        query = update.callback_query
        assert query is not None
        await query.answer("Off we go")
        await query.edit_message_text("Going")

    app = (
        ApplicationBuilder()
        .token(sandbox.token)
        .base_url(sandbox.base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=10)
        alex.send("/start")
        await sandbox.wait_idle(extra=lambda: bool(alex.inbox))
        assert alex.last.text == "Welcome"
        alex.press("Go")
        await sandbox.wait_idle(extra=lambda: alex.last.edits == 1)
        assert alex.last.text == "Going"
        assert [a.text for a in alex.callback_answers] == ["Off we go"]
        await app.updater.stop()
        await app.stop()
    assert sandbox.pending_updates == 0
