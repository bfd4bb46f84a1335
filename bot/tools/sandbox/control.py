"""The sandbox's control endpoint: the Python knobs, over HTTP, for a bot in another process.

A scale-out test or a benchmark runs ``python -m bot.tools.sandbox`` and the bot as separate
processes; it arms faults, switches the flood limits, drives users and reads the counters
with plain JSON, outside the ``/bot<token>/`` prefix so no bot can call it by mistake:

    POST /sandbox/control  {"action": "fault", "method": "sendMessage", "kind": "error",
                            "status": 502, "count": 3}
    POST /sandbox/control  {"action": "flood", "mode": "strict", "chat_burst": 3}
    POST /sandbox/control  {"action": "send", "user": 42, "text": "/start"}
    GET  /sandbox/stats    (?per_chat=0 leaves out messages_per_chat)
    GET  /sandbox/idle

Answers are ``{"ok": true, "result": ...}``, or 400 with ``{"ok": false, "description": ...}``.
The sandbox listens on 127.0.0.1 by default; the endpoint has no authentication.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from bot.tools.sandbox.faults import Fault
from bot.tools.sandbox.limits import FloodMode
from bot.tools.sandbox.state import SandboxUser

CONTROL_PATH = "/sandbox/control"
STATS_PATH = "/sandbox/stats"
IDLE_PATH = "/sandbox/idle"


class Controls(Protocol):
    """The knobs a control command turns; `bot.tools.sandbox.server.Sandbox` has them.

    Named here, so this module never imports the server that imports it.
    """

    auto_users: bool

    @property
    def faults(self) -> list[Fault]: ...

    @property
    def flood_mode(self) -> FloodMode: ...

    def arm(self, fault: Fault) -> None: ...

    def clear_faults(self) -> None: ...

    def seed_faults(self, seed: int | None) -> None: ...

    def set_flood(
        self, mode: FloodMode, *, global_limit: int | None = None, chat_burst: int | None = None
    ) -> None: ...

    def user(
        self, user_id: int, first_name: str = "Alex", *, language_code: str | None = "en"
    ) -> SandboxUser: ...

    def reset_stats(self) -> None: ...


Action = Callable[[Controls, dict[str, Any]], Any]


def apply(sandbox: Controls, command: object) -> Any:
    """Run one control command; raises ValueError, TypeError or LookupError on bad input."""
    if not isinstance(command, dict):
        raise ValueError("the body must be a JSON object with an 'action'")
    name = command.get("action")
    action = ACTIONS.get(str(name))
    if action is None:
        raise ValueError(f"unknown action {name!r}; known: {', '.join(sorted(ACTIONS))}")
    return action(sandbox, {key: value for key, value in command.items() if key != "action"})


def _fault(sandbox: Controls, args: dict[str, Any]) -> Any:
    fault = Fault.from_json(args)
    sandbox.arm(fault)
    return [armed.to_json() for armed in sandbox.faults]


def _clear_faults(sandbox: Controls, _args: dict[str, Any]) -> Any:
    sandbox.clear_faults()
    return True


def _seed(sandbox: Controls, args: dict[str, Any]) -> Any:
    seed = args.get("seed")
    sandbox.seed_faults(None if seed is None else int(seed))
    return True


def _flood(sandbox: Controls, args: dict[str, Any]) -> Any:
    limit, burst = args.get("global_limit"), args.get("chat_burst")
    sandbox.set_flood(
        args.get("mode", "bucket"),
        global_limit=None if limit is None else int(limit),
        chat_burst=None if burst is None else int(burst),
    )
    return sandbox.flood_mode


def _auto_users(sandbox: Controls, args: dict[str, Any]) -> Any:
    sandbox.auto_users = bool(args.get("enabled", True))
    return sandbox.auto_users


def _user(sandbox: Controls, args: dict[str, Any]) -> SandboxUser:
    user_id = args.get("user")
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise ValueError("'user' must be a numeric user id")
    language = args.get("language_code", "en")
    return sandbox.user(
        user_id,
        str(args.get("first_name", "Alex")),
        language_code=None if language is None else str(language),
    )


def _send(sandbox: Controls, args: dict[str, Any]) -> Any:
    text = args.get("text")
    if not isinstance(text, str) or not text:
        raise ValueError("'text' must be a non-empty string")
    return {"message_id": _user(sandbox, args).send(text)}


def _press(sandbox: Controls, args: dict[str, Any]) -> Any:
    label = args.get("label")
    if not isinstance(label, str):
        raise ValueError("'label' must be a button label or callback data")
    message_id = args.get("message_id")
    return {"query_id": _user(sandbox, args).press(label, message_id=message_id)}


def _block(sandbox: Controls, args: dict[str, Any]) -> Any:
    _user(sandbox, args).block()
    return True


def _unblock(sandbox: Controls, args: dict[str, Any]) -> Any:
    _user(sandbox, args).unblock()
    return True


def _reset_stats(sandbox: Controls, _args: dict[str, Any]) -> Any:
    sandbox.reset_stats()
    return True


ACTIONS: dict[str, Action] = {
    "fault": _fault,
    "clear_faults": _clear_faults,
    "seed": _seed,
    "flood": _flood,
    "auto_users": _auto_users,
    "send": _send,
    "press": _press,
    "block": _block,
    "unblock": _unblock,
    "reset_stats": _reset_stats,
}
