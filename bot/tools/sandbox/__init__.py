"""A local stand-in for the Telegram Bot API, for the end-to-end tests and ``bridges demo``.

See :class:`bot.tools.sandbox.server.Sandbox`; ``python -m bot.tools.sandbox`` runs one by hand.
"""

from bot.tools.sandbox.server import Sandbox
from bot.tools.sandbox.state import (
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
