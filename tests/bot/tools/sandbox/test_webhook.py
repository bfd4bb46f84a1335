"""bot/tools/sandbox webhooks: updates pushed with the secret header, retried until a 2xx."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import BadRequest, Conflict

from bot.tools.sandbox import Sandbox, SandboxUser
from bot.tools.sandbox.server import SECRET_HEADER


class Receiver:
    """A tiny webhook endpoint: answers ``status`` and keeps what it got."""

    def __init__(self) -> None:
        self.status = 200
        self.received: list[tuple[str | None, dict[str, Any]]] = []
        self.attempts = 0
        self.changed = asyncio.Event()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        self.changed.set()
        if self.status >= 300:
            return web.Response(status=self.status)
        self.received.append((request.headers.get(SECRET_HEADER), await request.json()))
        return web.Response(text="ok")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, condition: Any, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while not condition():
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    running = Receiver()
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(webhook_backoff=(0.01, 0.05)) as running:
        yield running


async def test_updates_are_pushed_with_the_secret(
    bot: Bot, sandbox: Sandbox, alex: SandboxUser, receiver: Receiver
) -> None:
    alex.send("before the webhook")
    assert await bot.set_webhook(
        receiver.url, secret_token="s3cret-T0ken", drop_pending_updates=True
    )
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == (receiver.url, 0)
    alex.send("/start")
    alex.send("hello")
    await receiver.wait_for(lambda: len(receiver.received) == 2)
    await sandbox.wait_idle(timeout=5)
    assert [secret for secret, _ in receiver.received] == ["s3cret-T0ken"] * 2
    texts = [update["message"]["text"] for _, update in receiver.received]
    assert texts == ["/start", "hello"]
    assert receiver.received[0][1]["update_id"] < receiver.received[1][1]["update_id"]
    assert (await bot.get_webhook_info()).pending_update_count == 0
    assert sandbox.stats()["webhook"]["posts"] == 2


async def test_no_secret_no_header(
    bot: Bot, sandbox: Sandbox, alex: SandboxUser, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url)
    alex.send("hi")
    await receiver.wait_for(lambda: len(receiver.received) == 1)
    assert receiver.received[0][0] is None


async def test_failures_are_retried_and_count_as_pending(
    bot: Bot, sandbox: Sandbox, alex: SandboxUser, receiver: Receiver
) -> None:
    receiver.status = 500
    await bot.set_webhook(receiver.url, secret_token="s")
    alex.send("keep trying")
    await receiver.wait_for(lambda: receiver.attempts >= 3)
    with pytest.raises(TimeoutError, match="not confirmed"):
        await sandbox.wait_idle(timeout=0.05)
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1
    assert info.last_error_message is not None
    assert "500" in info.last_error_message
    assert info.last_error_date is not None
    receiver.status = 200
    await receiver.wait_for(lambda: len(receiver.received) == 1)
    await sandbox.wait_idle(timeout=5)
    assert receiver.received[0][1]["message"]["text"] == "keep trying"
    assert sandbox.counters.webhook_failures >= 3


async def test_unreachable_receiver_is_an_error_not_a_crash(
    bot: Bot, sandbox: Sandbox, alex: SandboxUser, receiver: Receiver
) -> None:
    url = receiver.url
    await receiver.stop()
    await bot.set_webhook(url)
    alex.send("anyone?")
    async with asyncio.timeout(5):  # poll getWebhookInfo as an operator would
        while True:
            info = await bot.get_webhook_info()
            if info.last_error_message is not None:
                break
            await asyncio.sleep(0.01)
    assert "Connection failed" in info.last_error_message
    assert sandbox.pending_updates == 1


async def test_get_updates_conflicts_while_a_webhook_is_set(
    bot: Bot, sandbox: Sandbox, alex: SandboxUser, receiver: Receiver
) -> None:
    receiver.status = 503
    await bot.set_webhook(receiver.url)
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    alex.send("waiting in the queue")
    await receiver.wait_for(lambda: receiver.attempts >= 1)
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    (update,) = await bot.get_updates()
    assert update.message is not None
    assert update.message.text == "waiting in the queue"
    assert sandbox.counters.conflicts == 1


async def test_bad_webhook_settings_are_refused(bot: Bot, receiver: Receiver) -> None:
    with pytest.raises(BadRequest, match="(?i)secret token"):
        await bot.set_webhook(receiver.url, secret_token="has spaces")
    with pytest.raises(BadRequest, match="(?i)bad webhook"):
        await bot.set_webhook("ftp://example.org/hook")
