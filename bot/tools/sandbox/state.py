"""The sandbox's little Telegram world: users, their chats with the bot, and pending updates.

Nothing here speaks HTTP. :class:`World` holds what Telegram's servers would hold for one bot;
:class:`SandboxUser` is the learner's side of a private chat (type a message, press a button,
block the bot). The Bot API methods in :mod:`bot.tools.sandbox.api` are the bot's side.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lessons.telegram_html import utf16_len
from scheduler.clock import system_clock

_LOGGER = logging.getLogger(__name__)

JSONDict = dict[str, Any]
Listener = Callable[["SandboxUser", "BotMessage", str], None]

_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,64})?")

# Update types Telegram sends when allowed_updates is empty or was never set.
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)


@dataclass
class Button:
    """One inline keyboard button as the bot sent it."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Upload:
    """A file the bot uploaded in a multipart request (sendPhoto, sendDocument)."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class BotMessage:
    """A message the bot sent into a private chat; edits change it in place."""

    message_id: int
    html: str
    text: str
    entities: list[dict[str, Any]]
    buttons: list[list[Button]] = field(default_factory=list)
    edits: int = 0
    parse_mode: str | None = None
    chat_id: int = 0
    date: int = 0
    edit_date: int | None = None
    reply_markup: JSONDict | None = None
    sent: float = 0.0
    """Monotonic seconds when the sandbox accepted it (for update -> reply latency)."""
    sent_utc: datetime | None = None
    # sendPhoto / sendDocument: the uploaded file; `text` and `html` hold the caption.
    photo: Upload | None = None
    document: Upload | None = None

    def button_labels(self) -> list[str]:
        return [button.text for row in self.buttons for button in row]


@dataclass
class CallbackAnswer:
    """One answerCallbackQuery call for a query this user made."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None = None


@dataclass
class RequestRecord:
    """One Bot API call as the sandbox received it; ``status`` is 0 while still in flight.

    ``time`` is the (injectable) flood clock; ``received``/``answered`` are monotonic seconds
    and ``*_utc`` wall-clock instants, so a benchmark can line them up with its own logs.
    ``fault`` names an injected fault ("error", "drop", "delay"); for a lost reply ``status``
    is what the sandbox would have answered, and ``answered`` stays None.
    """

    method: str
    params: JSONDict
    status: int
    time: float
    description: str | None = None
    received: float = 0.0
    received_utc: datetime | None = None
    answered: float | None = None
    answered_utc: datetime | None = None
    fault: str | None = None


@dataclass(frozen=True)
class UpdateStamp:
    """When the sandbox created an update (a user typed or pressed): latency starts here."""

    update_id: int
    kind: str
    created: float
    created_utc: datetime


class SandboxUser:
    """A Telegram user in a private chat with the bot, driven by a test or the demo.

    Call its methods on the sandbox's event loop thread, or from another thread when the loop
    only reads the results through the Bot API (the demo's terminal thread): waking a parked
    long poll is thread-safe.
    """

    def __init__(
        self,
        world: World,
        user_id: int,
        first_name: str,
        *,
        language_code: str | None,
        username: str | None,
        last_name: str | None,
    ) -> None:
        self._world = world
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.blocked = False
        self.inbox: list[BotMessage] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.message_ids: set[int] = set()
        self.updates: list[UpdateStamp] = []
        """The updates this user caused, oldest first."""
        self.reply_times: list[float] = []
        """Monotonic instants of the bot's answers here: new messages, edits, callback answers."""
        self.sent_count = 0
        """New messages the bot sent here (deletes do not lower it): the duplicates check."""
        self._last_message_id = 0

    def __repr__(self) -> str:
        return f"SandboxUser(id={self.id}, blocked={self.blocked})"

    @property
    def last(self) -> BotMessage:
        """The newest bot message in this chat."""
        if not self.inbox:
            raise LookupError(f"the bot has sent nothing to user {self.id}")
        return self.inbox[-1]

    def next_message_id(self) -> int:
        """Message ids are per chat and shared by both sides, as in Telegram's private chats."""
        self._last_message_id += 1
        return self._last_message_id

    def as_user(self) -> JSONDict:
        user: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name is not None:
            user["last_name"] = self.last_name
        if self.username is not None:
            user["username"] = self.username
        if self.language_code is not None:
            user["language_code"] = self.language_code
        return user

    def as_chat(self) -> JSONDict:
        chat: JSONDict = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name is not None:
            chat["last_name"] = self.last_name
        if self.username is not None:
            chat["username"] = self.username
        return chat

    def send(self, text: str) -> int:
        """Type ``text`` into the chat; commands get a bot_command entity. Returns the id.

        Writing to a bot you blocked unblocks it first, as Telegram's "Restart" button does.
        """
        if self.blocked:
            self.unblock()
        content: JSONDict = {"text": text}
        command = _COMMAND.match(text)
        if command is not None:
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}
            ]
        return self._send_message(content)

    def send_location(self, latitude: float, longitude: float) -> int:
        """Share a location (Telegram's 📎 → Location). Returns the message id."""
        return self._send_message({"location": {"latitude": latitude, "longitude": longitude}})

    def send_photo(self, caption: str | None = None) -> int:
        """Send a photo (a made-up file), with an optional caption. Returns the message id."""
        serial = len(self.message_ids) + 1
        photo = {
            "file_id": f"photo-{self.id}-{serial}",
            "file_unique_id": f"p{self.id}x{serial}",
            "width": 90,
            "height": 90,
        }
        content: JSONDict = {"photo": [photo]}
        if caption is not None:
            content["caption"] = caption
        return self._send_message(content)

    def send_sticker(self, emoji: str = "👍") -> int:
        """Send a sticker (a made-up file) standing for `emoji`. Returns the message id."""
        serial = len(self.message_ids) + 1
        sticker = {
            "file_id": f"sticker-{self.id}-{serial}",
            "file_unique_id": f"s{self.id}x{serial}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._send_message({"sticker": sticker})

    def forward(self, text: str, *, from_name: str = "Sam") -> int:
        """Forward someone else's text message into the chat, as Telegram shapes it."""
        origin = {
            "type": "hidden_user",
            "date": self._world.now() - 3600,
            "sender_user_name": from_name,
        }
        return self._send_message({"text": text, "forward_origin": origin})

    def send_voice(self, seconds: int = 12, *, caption: str | None = None) -> int:
        """Send a voice note (a made-up file) of `seconds`, with a caption if given. Returns
        the message id."""
        serial = len(self.message_ids) + 1
        voice = {
            "file_id": f"voice-{self.id}-{serial}",
            "file_unique_id": f"v{self.id}x{serial}",
            "duration": seconds,
            "mime_type": "audio/ogg",
        }
        content: JSONDict = {"voice": voice}
        if caption is not None:
            content["caption"] = caption
        return self._send_message(content)

    def send_contact(self, phone: str = "+31 6 12345678", first_name: str = "Sam") -> int:
        """Share a contact card."""
        return self._send_message({"contact": {"phone_number": phone, "first_name": first_name}})

    def send_poll(
        self, question: str = "Pizza or pasta?", options: tuple[str, ...] = ("Pizza", "Pasta")
    ) -> int:
        """Send a poll of my own, as Telegram shapes it (anonymous, open, one answer)."""
        serial = len(self.message_ids) + 1
        poll = {
            "id": f"poll-{self.id}-{serial}",
            "question": question,
            "options": [
                {"persistent_id": f"{serial}-{index}", "text": option, "voter_count": 0}
                for index, option in enumerate(options)
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": True,  # required since Bot API 9.6
            "members_only": False,  # required since Bot API 10.0
        }
        return self._send_message({"poll": poll})

    def edit_message(self, message_id: int, text: str) -> None:
        """Edit one of my earlier messages: the bot gets an edited_message update."""
        if message_id not in self.message_ids:
            raise LookupError(f"user {self.id} sent no message {message_id}")
        now = self._world.now()
        message: JSONDict = {
            "message_id": message_id,
            "date": now,
            "edit_date": now,
            "chat": self.as_chat(),
            "from": self.as_user(),
            "text": text,
        }
        self._world.enqueue("edited_message", message, self)

    def _send_message(self, content: JSONDict) -> int:
        """One message from this user with `content` (text, location, photo …); its id."""
        message_id = self.next_message_id()
        self.message_ids.add(message_id)
        message: JSONDict = {
            "message_id": message_id,
            "date": self._world.now(),
            "chat": self.as_chat(),
            "from": self.as_user(),
            **content,
        }
        self._world.enqueue("message", message, self)
        return message_id

    def _find_message(self, message_id: int | None, *, with_buttons: bool) -> BotMessage:
        if message_id is not None:
            for message in self.inbox:
                if message.message_id == message_id:
                    return message
            raise LookupError(f"no bot message {message_id} in the chat with user {self.id}")
        for message in reversed(self.inbox):
            if message.buttons or not with_buttons:
                return message
        what = "with an inline keyboard " if with_buttons else ""
        raise LookupError(f"no bot message {what}in the chat with user {self.id}")

    def press(self, label: str, *, message_id: int | None = None) -> str:
        """Press the button labelled ``label`` (or carrying that callback data).

        Looks on ``message_id``, by default on the newest bot message with an inline keyboard.
        Returns the callback query id.
        """
        message = self._find_message(message_id, with_buttons=True)
        for row in message.buttons:
            for button in row:
                if label in (button.text, button.callback_data) and button.callback_data:
                    return self._callback(message, button.callback_data)
        raise LookupError(
            f"no callback button {label!r} on message {message.message_id}; "
            f"available: {message.button_labels()!r}"
        )

    def press_data(self, data: str, *, message_id: int | None = None) -> str:
        """Send arbitrary callback data from a message (forged or replayed buttons)."""
        message = self._find_message(message_id, with_buttons=False)
        return self._callback(message, data)

    def _callback(self, message: BotMessage, data: str) -> str:
        query_id = self._world.new_callback_query(self.id)
        self._world.enqueue(
            "callback_query",
            {
                "id": query_id,
                "from": self.as_user(),
                "message": self._world.message_dict(self, message),
                "chat_instance": str(self.id * 7919 + 17),
                "data": data,
            },
            self,
        )
        return query_id

    def block(self) -> None:
        """Block the bot: sends to this chat now fail with 403; the bot gets my_chat_member."""
        if not self.blocked:
            self.blocked = True
            self._member_update("member", "kicked")

    def unblock(self) -> None:
        """Unblock (restart) the bot; the bot gets my_chat_member kicked -> member."""
        if self.blocked:
            self.blocked = False
            self._member_update("kicked", "member")

    def _member_update(self, old: str, new: str) -> None:
        bot = self._world.bot_user

        def member(status: str) -> JSONDict:
            data: JSONDict = {"status": status, "user": bot}
            if status == "kicked":
                data["until_date"] = 0
            return data

        self._world.enqueue(
            "my_chat_member",
            {
                "chat": self.as_chat(),
                "from": self.as_user(),
                "date": self._world.now(),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
            self,
        )


class World:
    """Everything Telegram would remember for one bot: chats, messages, updates, commands."""

    def __init__(
        self, *, bot_id: int, bot_username: str, bot_name: str, auto_users: bool = False
    ) -> None:
        self.bot_user: JSONDict = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self.users: dict[int, SandboxUser] = {}
        self.updates: list[JSONDict] = []
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.listeners: list[Listener] = []
        self.callback_queries: dict[str, tuple[int, bool]] = {}
        self.on_update: Callable[[], None] = lambda: None
        self.auto_users = auto_users
        """Create a user on the fly for a send to any unknown positive chat id (benchmarks)."""
        self.message_counts: dict[int, int] = {}
        """New bot messages per chat id, kept as they happen so reading them is cheap."""
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_last_error: tuple[int, str] | None = None
        self._next_update_id = 1
        self._next_query_id = 1

    @staticmethod
    def now() -> int:
        """Message dates are wall-clock epoch seconds, as Telegram sends them."""
        return int(time.time())

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        language_code: str | None,
        username: str | None,
        last_name: str | None,
    ) -> SandboxUser:
        existing = self.users.get(user_id)
        if existing is not None:
            return existing
        created = SandboxUser(
            self,
            user_id,
            first_name,
            language_code=language_code,
            username=username,
            last_name=last_name,
        )
        self.users[user_id] = created
        return created

    def enqueue(self, kind: str, payload: JSONDict, user: SandboxUser | None = None) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        if user is not None:
            user.updates.append(UpdateStamp(update_id, kind, time.monotonic(), system_clock()))
        self.updates.append({"update_id": update_id, kind: payload})
        self.on_update()
        return update_id

    def record_reply(self, user: SandboxUser, message: BotMessage | None) -> None:
        """The bot answered in this chat: stamp it; a new message also counts for the chat."""
        now = time.monotonic()
        user.reply_times.append(now)
        if message is not None:
            message.sent, message.sent_utc = now, system_clock()
            user.sent_count += 1
            self.message_counts[user.id] = user.sent_count

    def confirm(self, offset: int) -> None:
        """getUpdates with ``offset`` confirms every update with a smaller id."""
        if offset < 0:
            keep = -offset
            self.updates = self.updates[-keep:] if keep else []
        else:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]

    def drop_disallowed(self) -> None:
        """Updates of types the bot did not ask for are never delivered (nor pending)."""
        self.updates = [u for u in self.updates if _update_type(u) in self.allowed_updates]

    def new_callback_query(self, user_id: int) -> str:
        query_id = f"{self._next_query_id}{user_id}"
        self._next_query_id += 1
        self.callback_queries[query_id] = (user_id, False)
        return query_id

    def message_dict(self, user: SandboxUser, message: BotMessage) -> JSONDict:
        data: JSONDict = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": user.as_chat(),
            "from": self.bot_user,
        }
        media = message.photo or message.document
        if media is None:
            data["text"] = message.text
        else:
            unique = f"{user.id}-{message.message_id}"
            if message.photo is not None:
                data["photo"] = [
                    {
                        "file_id": f"photo-{unique}",
                        "file_unique_id": unique,
                        "width": 1,
                        "height": 1,
                    }
                ]
            else:
                data["document"] = {
                    "file_id": f"document-{unique}",
                    "file_unique_id": unique,
                    "file_name": media.filename,
                    "mime_type": media.content_type,
                    "file_size": len(media.data),
                }
            if message.text:
                data["caption"] = message.text
        if message.entities:
            data["caption_entities" if media is not None else "entities"] = message.entities
        if message.reply_markup is not None:
            data["reply_markup"] = message.reply_markup
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        return data

    def notify(self, user: SandboxUser, message: BotMessage, kind: str) -> None:
        """Tell the listeners (the demo's terminal) about a new, edited or deleted message."""
        for listener in list(self.listeners):
            try:
                listener(user, message, kind)
            except Exception:
                _LOGGER.exception("sandbox listener failed on %s message", kind)


def _update_type(update: JSONDict) -> str:
    return next(key for key in update if key != "update_id")
