"""The bot's side of the sandbox: Bot API methods with Telegram's checks and descriptions.

Each method takes the decoded parameters and returns the ``result`` of a successful call or
raises :class:`ApiError` with the status and description Telegram would send. The descriptions
matter: python-telegram-bot turns 400/401/403/429 into BadRequest, InvalidToken, Forbidden and
RetryAfter, and Bridges reacts to the exception and sometimes to the text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from bot.tools.sandbox.limits import Flood
from bot.tools.sandbox.state import (
    DEFAULT_UPDATE_TYPES,
    BotMessage,
    Button,
    CallbackAnswer,
    JSONDict,
    SandboxUser,
    Upload,
    World,
)
from lessons.telegram_html import (
    MAX_CALLBACK_DATA_BYTES,
    MAX_MESSAGE_LENGTH,
    TelegramHtmlError,
    parse_html,
    utf16_len,
)

# Telegram's limits for uploads through the Bot API, and for a caption.
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
MAX_CAPTION_LENGTH = 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
OTHER_POLLER = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_WEBHOOK_URL = re.compile(r"https?://\S+", re.IGNORECASE)

# How form values (always strings) are turned back into the types PTB JSON-encoded them from.
_INT_PARAMS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "cache_time",
        "user_id",
        "message_thread_id",
        "max_connections",
    }
)
_FLOAT_PARAMS = frozenset({"timeout"})
_BOOL_PARAMS = frozenset(
    {
        "show_alert",
        "disable_web_page_preview",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "allow_sending_without_reply",
    }
)
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "link_preview_options",
        "reply_parameters",
        "allowed_updates",
        "commands",
        "scope",
        "entities",
    }
)
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_BUTTON_URL = re.compile(r"(https?|tg)://\S+", re.IGNORECASE)
# Inline button kinds other than callback_data and url; accepted and otherwise ignored.
_OTHER_BUTTON_KINDS = (
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


class ApiError(Exception):
    """A Bot API error response: HTTP status, description and optional parameters."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSONDict:
        data: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            data["parameters"] = self.parameters
        return data


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def decode_params(raw: Mapping[str, Any]) -> JSONDict:
    """Undo PTB's encoding: form values are strings, non-strings were JSON-dumped.

    Values of a JSON body are already typed; strings in it go through the same coercion, so
    ``chat_id="123"`` works either way. Anything that does not decode stays as it came, and the
    method refuses it with Telegram's description.
    """
    params: JSONDict = {}
    for key, value in raw.items():
        if isinstance(value, str):
            params[key] = _coerce(key, value)
        else:
            params[key] = value
    return params


def _coerce(key: str, value: str) -> object:
    try:
        if key in _INT_PARAMS:
            return int(value)
        if key in _FLOAT_PARAMS:
            return float(value)
        if key in _JSON_PARAMS:
            decoded: object = json.loads(value)
            return decoded
    except ValueError:
        return value
    if key in _BOOL_PARAMS and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    return value


class BotApi:
    """The Bot API methods, over one :class:`World` and its flood control."""

    def __init__(self, world: World, flood: Flood, on_flood: Callable[[], None]) -> None:
        self.world = world
        self.flood = flood
        self._on_flood = on_flood
        self.methods: dict[str, Callable[[JSONDict], object]] = {
            "getme": self.get_me,
            "setwebhook": self.set_webhook,
            "deletewebhook": self.delete_webhook,
            "getwebhookinfo": self.get_webhook_info,
            "setmycommands": self.set_my_commands,
            "getmycommands": self.get_my_commands,
            "deletemycommands": self.delete_my_commands,
            "sendmessage": self.send_message,
            "sendphoto": self.send_photo,
            "senddocument": self.send_document,
            "editmessagetext": self.edit_message_text,
            "editmessagereplymarkup": self.edit_message_reply_markup,
            "answercallbackquery": self.answer_callback_query,
            "deletemessage": self.delete_message,
            "sendchataction": self.send_chat_action,
            "close": lambda _params: True,
            "logout": lambda _params: True,
        }

    # -- helpers -----------------------------------------------------------------------------

    def _chat(self, params: JSONDict) -> SandboxUser:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        user = self.world.users.get(chat_id) if isinstance(chat_id, int) else None
        if user is None and self.world.auto_users and isinstance(chat_id, int) and chat_id > 0:
            user = self.world.user(
                chat_id, f"Learner {chat_id}", language_code="en", username=None, last_name=None
            )
        if user is None:
            raise bad_request("chat not found")
        if user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return user

    def _flood(self, chat_id: int) -> None:
        wait = self.flood.acquire(chat_id)
        if wait:
            self._on_flood()
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})

    @staticmethod
    def _text(params: JSONDict) -> tuple[str, str, list[dict[str, Any]], str | None]:
        """Return (html as sent, plain text, entities, parse mode) or raise Telegram's error."""
        html = params.get("text")
        if not isinstance(html, str):
            raise bad_request("message text is empty")
        parse_mode = params.get("parse_mode")
        if not isinstance(parse_mode, str) or not parse_mode:
            parse_mode = None
        entities: list[dict[str, Any]] = []
        text = html
        if parse_mode is not None:
            if parse_mode.lower() != "html":
                raise bad_request(
                    f"unsupported parse_mode {parse_mode!r} (the sandbox speaks HTML)"
                )
            try:
                parsed = parse_html(html)
            except TelegramHtmlError as exc:
                raise bad_request(f"can't parse entities: {exc.detail}") from exc
            text, entities = parsed.text, list(parsed.entities)
        elif isinstance(params.get("entities"), list):
            entities = list(params["entities"])
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_MESSAGE_LENGTH:
            raise bad_request("message is too long")
        return html, text, entities, parse_mode

    @staticmethod
    def _markup(params: JSONDict) -> tuple[list[list[Button]], JSONDict | None]:
        """Validate reply_markup; return the inline buttons and the markup Telegram echoes."""
        markup = params.get("reply_markup")
        if markup is None:
            return [], None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        keyboard = markup.get("inline_keyboard")
        if keyboard is None:
            return [], None  # reply keyboards and ForceReply: accepted, not shown on the message
        if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
            raise bad_request(
                'can\'t parse inline keyboard: field "inline_keyboard" must be an array of arrays'
            )
        rows: list[list[Button]] = []
        echo: list[list[JSONDict]] = []
        for row in keyboard:
            buttons: list[Button] = []
            echo_row: list[JSONDict] = []
            for raw in row:
                if not isinstance(raw, dict):
                    raise bad_request("can't parse inline keyboard button: object expected")
                button, echoed = _button(raw)
                buttons.append(button)
                echo_row.append(echoed)
            if buttons:
                rows.append(buttons)
                echo.append(echo_row)
        if not rows:
            return [], None
        return rows, {"inline_keyboard": echo}

    def _own_message(self, user: SandboxUser, params: JSONDict, verb: str) -> BotMessage:
        if params.get("inline_message_id") is not None:
            raise bad_request("inline messages are not supported by the sandbox")
        message_id = params.get("message_id")
        for message in user.inbox:
            if message.message_id == message_id:
                return message
        if isinstance(message_id, int) and message_id in user.message_ids:
            raise bad_request(f"message can't be {verb}ed")
        raise bad_request(f"message to {verb} not found")

    # -- methods -----------------------------------------------------------------------------

    def get_me(self, _params: JSONDict) -> JSONDict:
        return {
            **self.world.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def set_webhook(self, params: JSONDict) -> bool:
        """Push updates to ``url`` from now on (the server runs the pusher); "" deletes it.

        Unlike Telegram, plain http and any port are accepted: the receiver is a local test.
        """
        url = params.get("url")
        if not isinstance(url, str):
            raise bad_request("bad webhook: an HTTP URL must be provided for webhook")
        if url and not _WEBHOOK_URL.fullmatch(url):
            raise bad_request("bad webhook: an HTTP URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and secret != "":
            if not isinstance(secret, str) or not _SECRET_TOKEN.fullmatch(secret):
                raise bad_request("secret token contains unallowed characters")
        else:
            secret = None
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self.world.allowed_updates = (
                frozenset(str(kind) for kind in allowed) or DEFAULT_UPDATE_TYPES
            )
        if params.get("drop_pending_updates") is True:
            self.world.updates.clear()
        if url != self.world.webhook_url:
            self.world.webhook_last_error = None
        self.world.webhook_url, self.world.webhook_secret = url, secret
        return True

    def delete_webhook(self, params: JSONDict) -> bool:
        self.world.webhook_url, self.world.webhook_secret = "", None
        self.world.webhook_last_error = None
        if params.get("drop_pending_updates") is True:
            self.world.updates.clear()
        return True

    def get_webhook_info(self, _params: JSONDict) -> JSONDict:
        self.world.drop_disallowed()
        info: JSONDict = {
            "url": self.world.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.world.updates),
        }
        if self.world.webhook_url:
            info["max_connections"] = 1
        if self.world.webhook_last_error is not None:
            info["last_error_date"], info["last_error_message"] = self.world.webhook_last_error
        return info

    def poll(self, params: JSONDict) -> list[JSONDict]:
        """The non-waiting half of getUpdates: confirm, filter, and take what is there."""
        offset = params.get("offset")
        if isinstance(offset, int):
            self.world.confirm(offset)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self.world.allowed_updates = (
                frozenset(str(kind) for kind in allowed) or DEFAULT_UPDATE_TYPES
            )
        self.world.drop_disallowed()
        limit = params.get("limit", 100)
        limit = min(max(limit, 1), 100) if isinstance(limit, int) else 100
        return self.world.updates[:limit]

    @staticmethod
    def _scope(params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        if "chat_id" in scope:
            kind = f"{kind}:{scope['chat_id']}"
        if "user_id" in scope:
            kind = f"{kind}:{scope['user_id']}"
        language = params.get("language_code") or ""
        if not isinstance(language, str):
            raise bad_request("invalid language code specified")
        return kind, language

    def set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        stored: list[dict[str, Any]] = []
        for item in commands:
            if not isinstance(item, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name, description = item.get("command"), item.get("description")
            if not isinstance(name, str) or not _COMMAND_NAME.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            stored.append({"command": name, "description": description})
        key = self._scope(params)
        if stored:
            self.world.commands[key] = stored
        else:
            self.world.commands.pop(key, None)
        return True

    def get_my_commands(self, params: JSONDict) -> list[dict[str, Any]]:
        return list(self.world.commands.get(self._scope(params), []))

    def delete_my_commands(self, params: JSONDict) -> bool:
        self.world.commands.pop(self._scope(params), None)
        return True

    def send_message(self, params: JSONDict) -> JSONDict:
        user = self._chat(params)
        html, text, entities, parse_mode = self._text(params)
        buttons, markup = self._markup(params)
        self._flood(user.id)
        message = BotMessage(
            message_id=user.next_message_id(),
            html=html,
            text=text,
            entities=entities,
            buttons=buttons,
            parse_mode=parse_mode,
            chat_id=user.id,
            date=self.world.now(),
            reply_markup=markup,
        )
        user.inbox.append(message)
        self.world.record_reply(user, message)
        self.world.notify(user, message, "new")
        return self.world.message_dict(user, message)

    def send_photo(self, params: JSONDict) -> JSONDict:
        """A PNG or JPEG upload (multipart) with an optional HTML caption, as Telegram takes it."""
        upload = self._upload(params, "photo", MAX_PHOTO_BYTES)
        if not upload.data.startswith((PNG_MAGIC, JPEG_MAGIC)):
            raise bad_request("IMAGE_PROCESS_FAILED")
        return self._send_media(params, photo=upload)

    def send_document(self, params: JSONDict) -> JSONDict:
        """Any file upload (multipart) with an optional HTML caption."""
        return self._send_media(
            params, document=self._upload(params, "document", MAX_DOCUMENT_BYTES)
        )

    @staticmethod
    def _upload(params: JSONDict, name: str, limit: int) -> Upload:
        upload = params.get(name)
        if not isinstance(upload, Upload):
            raise bad_request(f"there is no {name} in the request")
        if not upload.data:
            raise bad_request("file must be non-empty")
        if len(upload.data) > limit:
            raise ApiError(413, "Request Entity Too Large")
        return upload

    def _send_media(
        self, params: JSONDict, *, photo: Upload | None = None, document: Upload | None = None
    ) -> JSONDict:
        user = self._chat(params)
        html, text, parse_mode = "", "", None
        entities: list[dict[str, Any]] = []
        if params.get("caption"):
            caption = {"text": params["caption"], "parse_mode": params.get("parse_mode")}
            html, text, entities, parse_mode = self._text(caption)
            if utf16_len(text) > MAX_CAPTION_LENGTH:
                raise bad_request("message caption is too long")
        buttons, markup = self._markup(params)
        self._flood(user.id)
        message = BotMessage(
            message_id=user.next_message_id(),
            html=html,
            text=text,
            entities=entities,
            buttons=buttons,
            parse_mode=parse_mode,
            chat_id=user.id,
            date=self.world.now(),
            reply_markup=markup,
            photo=photo,
            document=document,
        )
        user.inbox.append(message)
        self.world.record_reply(user, message)
        self.world.notify(user, message, "new")
        return self.world.message_dict(user, message)

    def edit_message_text(self, params: JSONDict) -> JSONDict:
        user = self._chat(params)
        message = self._own_message(user, params, "edit")
        html, text, entities, parse_mode = self._text(params)
        buttons, markup = self._markup(params)
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        self._flood(user.id)
        message.html, message.text, message.entities = html, text, entities
        message.parse_mode = parse_mode
        return self._edited(user, message, buttons, markup)

    def edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        user = self._chat(params)
        message = self._own_message(user, params, "edit")
        buttons, markup = self._markup(params)
        if markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        self._flood(user.id)
        return self._edited(user, message, buttons, markup)

    def _edited(
        self,
        user: SandboxUser,
        message: BotMessage,
        buttons: list[list[Button]],
        markup: JSONDict | None,
    ) -> JSONDict:
        message.buttons, message.reply_markup = buttons, markup
        message.edits += 1
        message.edit_date = self.world.now()
        self.world.record_reply(user, None)
        self.world.notify(user, message, "edit")
        return self.world.message_dict(user, message)

    def delete_message(self, params: JSONDict) -> bool:
        user = self._chat(params)
        message_id = params.get("message_id")
        for index, message in enumerate(user.inbox):
            if message.message_id == message_id:
                del user.inbox[index]
                self.world.notify(user, message, "delete")
                return True
        if isinstance(message_id, int) and message_id in user.message_ids:
            user.message_ids.discard(message_id)
            return True
        raise bad_request("message to delete not found")

    def answer_callback_query(self, params: JSONDict) -> bool:
        query_id = params.get("callback_query_id")
        known = self.world.callback_queries.get(str(query_id))
        if known is None or known[1]:
            raise bad_request(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        user_id, _answered = known
        self.world.callback_queries[str(query_id)] = (user_id, True)
        text = params.get("text")
        url = params.get("url")
        if isinstance(text, str) and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        user = self.world.users[user_id]
        self.world.record_reply(user, None)
        user.callback_answers.append(
            CallbackAnswer(
                query_id=str(query_id),
                text=text if isinstance(text, str) else None,
                show_alert=params.get("show_alert") is True,
                url=url if isinstance(url, str) else None,
            )
        )
        return True

    def send_chat_action(self, params: JSONDict) -> bool:
        self._chat(params)
        if not isinstance(params.get("action"), str) or not params["action"]:
            raise bad_request("wrong parameter action in request")
        return True


def _button(raw: JSONDict) -> tuple[Button, JSONDict]:
    """Validate one inline button; return it and the dict Telegram echoes back."""
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    data = raw.get("callback_data")
    url = raw.get("url")
    if data is not None:
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
        return Button(text=text, callback_data=data), {"text": text, "callback_data": data}
    if url is not None:
        if not isinstance(url, str) or not _BUTTON_URL.fullmatch(url):
            raise bad_request("BUTTON_URL_INVALID")
        return Button(text=text, url=url), {"text": text, "url": url}
    for kind in _OTHER_BUTTON_KINDS:
        if kind in raw:
            return Button(text=text), {"text": text, kind: raw[kind]}
    raise bad_request(
        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
    )
