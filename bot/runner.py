"""Starts and stops an Application by hand, inside a loop we own.

`bridges run`, `bridges demo` and the end-to-end tests share this runner, so
they all start the bot the same way: never `run_polling()` inside another loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Update

from bot.app import BridgesApp, register_commands
from bot.services import SERVICES_KEY, Services

POLL_TIMEOUT_SECONDS = 10


@asynccontextmanager
async def running(
    app: BridgesApp, *, poll_timeout: int = POLL_TIMEOUT_SECONDS
) -> AsyncIterator[BridgesApp]:
    """Initialise, register commands, start handlers, jobs and long polling; stop in reverse."""
    async with app:
        await register_commands(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0.0, timeout=poll_timeout, allowed_updates=Update.ALL_TYPES
        )
        try:
            yield app
        finally:
            # A tick under way claims nothing more; stopping the job queue waits for
            # it to send and record what it already holds.
            svc = app.bot_data.get(SERVICES_KEY)
            if isinstance(svc, Services):
                svc.lessons.stopping.set()
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
