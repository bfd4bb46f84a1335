"""A local stand-in for the Telegram Bot API, for the end-to-end tests and ``bridges demo``.

See :class:`bot.sandbox.server.Sandbox`; ``python -m bot.sandbox`` runs one by hand.
"""

from bot.sandbox.server import Sandbox
from bot.sandbox.state import (
    BotMessage,
    Button,
    CallbackAnswer,
    RequestRecord,
    SandboxUser,
    Upload,
)

__all__ = [
    "BotMessage",
    "Button",
    "CallbackAnswer",
    "RequestRecord",
    "Sandbox",
    "SandboxUser",
    "Upload",
]
