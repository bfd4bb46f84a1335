"""Starts and stops an Application by hand, inside a loop we own, in one of three roles.

`bridges run`, `bridges demo` and the end-to-end tests share this runner, so
they all start the bot the same way: never `run_polling()` or `run_webhook()`
inside another loop. The roles differ only in where updates come from:

- `running`: long polling (Telegram allows one poller per bot) plus the tick;
- `running_webhook`: updates posted to our aiohttp server, so any number of
  processes can sit behind a load balancer, plus the tick;
- `running_worker`: the tick only, for more sending capacity.

Every role runs the tick; on PostgreSQL the claim's SKIP LOCKED lets any mix
share the work without sending a lesson twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from telegram import Update

from bot.chat.app import BridgesApp, register_commands
from bot.ops.web import serving

POLL_TIMEOUT_SECONDS = 10


def stop_claiming(app: BridgesApp) -> None:
    """Make a tick under way claim nothing more.

    Stopping the job queue then waits for the tick to send and record what it
    already holds (at most one batch), well inside the service manager's stop
    timeout, instead of looping until nobody is due and being killed mid-send.
    """
    app.bot_data.services.delivery.stopping.set()


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
            stop_claiming(app)
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()


@asynccontextmanager
async def running_webhook(
    app: BridgesApp,
    web_app: web.Application,
    *,
    url: str,
    secret: str,
    host: str,
    port: int,
) -> AsyncIterator[web.AppRunner]:
    """Start handlers and jobs, then the web server, then tell Telegram where to post.

    The webhook is set last, once something listens. It is not deleted on
    the way out: other replicas behind the same URL keep taking updates, and
    Telegram keeps what it cannot deliver for a while.
    """
    async with app:
        await register_commands(app)
        await app.start()
        try:
            async with serving(web_app, host, port) as runner:
                await app.bot.set_webhook(
                    url, secret_token=secret, allowed_updates=Update.ALL_TYPES
                )
                yield runner
        finally:
            stop_claiming(app)
            if app.running:
                await app.stop()


@asynccontextmanager
async def running_worker(app: BridgesApp) -> AsyncIterator[BridgesApp]:
    """Start the job queue (the tick) and nothing that takes updates."""
    async with app:
        await app.start()
        try:
            yield app
        finally:
            stop_claiming(app)
            if app.running:
                await app.stop()
