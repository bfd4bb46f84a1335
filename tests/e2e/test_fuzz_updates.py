"""Thousands of generated updates against the running bot: nothing unhandled, no refused reply.

Hypothesis writes the updates (any unicode, very long texts, known and unknown
commands with odd arguments, forged and stale button data, edited messages,
group and channel posts) and the sandbox delivers them to the real
Application over HTTP. After each batch the bot must be idle with no error
having reached python-telegram-bot's error handler, no ERROR logged, and every
reply accepted by the sandbox, whose HTML parser is as strict as Telegram's.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.chat.commands import COMMANDS
from bot.tools.sandbox import Sandbox, SandboxUser
from tests.e2e.harness import Bridges

USERS = (1001, 1002, 1003, 1004)  # onboarded with a lesson, mid-onboarding, stopped, a stranger
KNOWN = [command.name for command in COMMANDS]
# Replies the bot may see refused without anything being wrong: clearing a keyboard twice.
BENIGN_400 = ("message is not modified", "message can't be edited")
FED = [0]  # updates fed in this run, printed with -s for the record
HANDLER_ERRORS: list[BaseException] = []  # what the recording error handler saw


@dataclass(frozen=True)
class Action:
    kind: str  # text, callback, edited, group, channel
    user: int
    text: str


def _long_text() -> st.SearchStrategy[str]:
    return st.builds(
        lambda piece, length: (piece * (length // len(piece) + 1))[:length],
        st.text(min_size=1, max_size=12),
        st.integers(min_value=1000, max_value=4096),
    )


def _command() -> st.SearchStrategy[str]:
    name = st.one_of(st.sampled_from(KNOWN), st.from_regex(r"[a-z_]{1,20}", fullmatch=True))
    suffix = st.sampled_from(["", "@BridgesBot", "@OtherBot"])
    return st.builds(lambda n, s, a: f"/{n}{s} {a}".rstrip(), name, suffix, st.text(max_size=40))


def _callback_data() -> st.SearchStrategy[str]:
    forged = st.builds(
        lambda action, delivery, value: f"v1:{action}:{delivery}:{value}",
        st.sampled_from(["a", "lang", "first", "del", "zz", ""]),
        st.one_of(st.integers(-5, 10**12).map(str), st.text(max_size=5)),
        st.text(max_size=12),
    )
    return st.one_of(forged, st.text(max_size=64))


TEXTS = st.one_of(st.text(min_size=1, max_size=200), _long_text(), _command())
ACTIONS = st.one_of(
    st.builds(Action, st.just("text"), st.sampled_from(USERS), TEXTS),
    st.builds(Action, st.just("callback"), st.sampled_from(USERS), _callback_data()),
    st.builds(Action, st.just("edited"), st.sampled_from(USERS), TEXTS),
    st.builds(Action, st.just("group"), st.sampled_from(USERS), TEXTS),
    st.builds(Action, st.just("channel"), st.sampled_from(USERS), TEXTS),
)


def _enqueue(sandbox: Sandbox, kind: str, payload: dict[str, Any], user: SandboxUser | None):
    # The sandbox's users only type into private chats; other update kinds go in directly.
    sandbox._world.enqueue(kind, payload, user)  # noqa: SLF001


def feed(sandbox: Sandbox, action: Action) -> None:
    """Put one generated update where the bot's getUpdates will find it."""
    user = sandbox.user(action.user, f"Fuzz {action.user}")
    if action.kind == "text":
        user.send(action.text)
        return
    if action.kind == "callback":
        message: dict[str, Any] = (
            sandbox._world.message_dict(user, user.last)  # noqa: SLF001
            if user.inbox
            else {"message_id": 999_999, "date": 0, "chat": user.as_chat(), "text": "gone"}
        )
        _enqueue(
            sandbox,
            "callback_query",
            {
                "id": sandbox._world.new_callback_query(user.id),  # noqa: SLF001
                "from": user.as_user(),
                "message": message,
                "chat_instance": str(user.id),
                "data": action.text,
            },
            user,
        )
        return
    message = {"message_id": user.next_message_id(), "date": 0, "text": action.text}
    if action.kind == "edited":
        message |= {"chat": user.as_chat(), "from": user.as_user(), "edit_date": 1}
        _enqueue(sandbox, "edited_message", message, user)
    elif action.kind == "group":
        group = {"id": -4000 - action.user, "type": "supergroup", "title": "Fuzz group"}
        message |= {"chat": group, "from": user.as_user()}
        _enqueue(sandbox, "message", message, None)
    else:
        channel = {"id": -100_000 - action.user, "type": "channel", "title": "Fuzz channel"}
        _enqueue(sandbox, "channel_post", message | {"chat": channel}, None)


class _Errors(logging.Handler):
    """Every ERROR logged anywhere while the fuzzer runs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """Flood limits off: pacing has its own tests (test_flood.py, test_telegram_faults.py), and
    a fuzzer hammering one chat would only measure them; here every refusal is a bad reply.
    """
    async with Sandbox(flood="off") as running:
        yield running


@pytest.fixture
def logged_errors() -> Iterator[_Errors]:
    handler = _Errors()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


@pytest.fixture
async def fuzz_bot(bridges: Bridges, sandbox: Sandbox) -> Bridges:
    """Learners in every state the fuzzer should meet, then a recording error handler."""
    await bridges.onboard(sandbox.user(1001, "Fuzz 1001"))  # a lesson with an open check-in
    await bridges.say(sandbox.user(1002, "Fuzz 1002"), "/start")  # asked for a language
    stopped = sandbox.user(1003, "Fuzz 1003")
    await bridges.onboard(stopped)
    await bridges.say(stopped, "/stop")
    assert bridges.app is not None
    HANDLER_ERRORS.clear()

    async def record(_update: object, context: Any) -> None:
        HANDLER_ERRORS.append(context.error)

    bridges.app.add_error_handler(record)
    return bridges


@settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(ACTIONS, min_size=1, max_size=12))
async def test_generated_updates_are_all_handled_and_every_reply_accepted(
    fuzz_bot: Bridges, sandbox: Sandbox, logged_errors: _Errors, batch: list[Action]
):
    before = len(sandbox.requests)
    FED[0] += len(batch)
    # The bot paces each chat at about one message a second after a burst, on the flood
    # clock; moving the test clock refills those buckets instead of waiting them out.
    fuzz_bot.clock.advance(timedelta(seconds=30))
    for action in batch:
        feed(sandbox, action)
    await fuzz_bot.settle()
    assert HANDLER_ERRORS == []
    assert [record.getMessage() for record in logged_errors.records] == []
    refused = [
        (call.method, call.status, call.description)
        for call in list(sandbox.requests)[before:]
        if call.status >= 400 and not any(text in call.description for text in BENIGN_400)
    ]
    assert refused == []
    print(f"fuzz: {FED[0]} updates fed so far", end="\r")
