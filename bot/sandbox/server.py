"""A local, in-process stand-in for the Telegram Bot API, served over HTTP with aiohttp.

The real python-telegram-bot client talks to it through ``base_url``, so the end-to-end tests
and ``bridges demo`` exercise the same code path as production: PTB's request encoding, its
error mapping (BadRequest, Forbidden, RetryAfter, InvalidToken) and its long-polling updater.

    async with Sandbox() as sandbox:
        bot = telegram.Bot(sandbox.token, base_url=sandbox.base_url)
        alex = sandbox.user(42)
        alex.send("/start")
        ...
        await sandbox.wait_idle()
        assert "Welcome" in alex.last.text
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from bot.sandbox.api import ApiError, BotApi, decode_params
from bot.sandbox.limits import FloodControl
from bot.sandbox.state import JSONDict, Listener, RequestRecord, SandboxUser, World

_LOGGER = logging.getLogger(__name__)

SANDBOX_TOKEN = "123456:SANDBOX-token"  # noqa: S105 - a fixed fake token, valid only here

_PATH = re.compile(r"/bot(?P<token>[^/]*)/(?P<method>[A-Za-z]+)/?")
_POLL_INTERVAL = 0.005


class Sandbox:
    """The local Bot API: users to drive, a record of every call, and an idle detector."""

    def __init__(
        self,
        token: str = SANDBOX_TOKEN,
        *,
        bot_id: int = 123456,
        bot_username: str = "BridgesBot",
        bot_name: str = "Bridges",
        global_rate: float = 30.0,
        global_burst: int = 30,
        chat_rate: float = 1.0,
        chat_burst: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self._clock = clock
        self._world = World(bot_id=bot_id, bot_username=bot_username, bot_name=bot_name)
        self._world.on_update = self._notify_update
        self._api = BotApi(
            self._world,
            FloodControl(
                global_rate=global_rate,
                global_burst=global_burst,
                chat_rate=chat_rate,
                chat_burst=chat_burst,
                clock=clock,
            ),
        )
        self.requests: list[RequestRecord] = []
        self._in_flight: dict[int, str] = {}
        self._parked: set[int] = set()
        self._next_request = 0
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    def __repr__(self) -> str:
        # Never show the token: it ends up in logs and test reports.
        return f"Sandbox(base_url={self._base_url!r})"

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (port 0 picks a free one); returns once accepting."""
        if self._runner is not None:
            raise RuntimeError("the sandbox is already running")
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._stopping = False
        self._wakeup = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_port = runner.addresses[0][1]
        url_host = "127.0.0.1" if host in ("", "0.0.0.0") else host  # noqa: S104
        if ":" in url_host:
            url_host = f"[{url_host}]"
        self._base_url = f"http://{url_host}:{bound_port}/bot"
        _LOGGER.info("sandbox Bot API listening on %s", self._base_url)

    async def stop(self) -> None:
        """Release parked long polls and close the server."""
        if self._runner is None:
            return
        self._stopping = True
        self._wake()
        runner, self._runner = self._runner, None
        await runner.cleanup()
        self._base_url = None

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """PTB's ``base_url``: the token and the method name are appended to it."""
        if self._base_url is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        return self._base_url

    # -- the world ---------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Alex",
        *,
        language_code: str | None = "en",
        username: str | None = None,
        last_name: str | None = None,
    ) -> SandboxUser:
        """The user with this id, created on first use (later arguments are then ignored)."""
        return self._world.user(
            user_id,
            first_name,
            language_code=language_code,
            username=username,
            last_name=last_name,
        )

    @property
    def users(self) -> dict[int, SandboxUser]:
        return self._world.users

    @property
    def commands(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """setMyCommands results by (scope type, language code or "")."""
        return self._world.commands

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by a getUpdates with a greater offset."""
        self._world.drop_disallowed()
        return len(self._world.updates)

    def add_listener(self, callback: Listener) -> None:
        """Call ``callback(user, message, kind)`` for each bot message: "new", "edit", "delete"."""
        self._world.listeners.append(callback)

    def calls(self, method: str) -> list[RequestRecord]:
        """The recorded calls of one Bot API method (case-insensitive)."""
        return [r for r in self.requests if r.method.lower() == method.lower()]

    # -- idleness ----------------------------------------------------------------------------

    def _busy_reason(self, extra: Callable[[], bool] | None) -> str | None:
        reasons: list[str] = []
        pending = self.pending_updates
        if pending:
            ids = [update["update_id"] for update in self._world.updates]
            reasons.append(f"{pending} update(s) not confirmed by getUpdates (ids {ids})")
        active = [m for key, m in self._in_flight.items() if key not in self._parked]
        if active:
            reasons.append(f"Bot API request(s) in flight: {', '.join(active)}")
        if extra is not None and not extra():
            reasons.append("extra() is false")
        return "; ".join(reasons) or None

    async def wait_idle(
        self,
        timeout: float = 10.0,  # noqa: ASYNC109 - a deadline for polling, not an I/O timeout
        *,
        extra: Callable[[], bool] | None = None,
    ) -> None:
        """Return once nothing is pending, on two checks in a row a few milliseconds apart.

        Idle means: every update confirmed (the bot called getUpdates with a greater offset),
        no Bot API request in flight except a parked long poll, and ``extra()`` true. PTB's
        updater confirms an update as soon as it has queued it, before a handler has run, so
        pass ``extra`` (e.g. "the Application's update queue is empty and no handler is
        running") when a handler may take a while before its first request.
        Raises TimeoutError naming what is still pending.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        idle_checks = 0
        while True:
            reason = self._busy_reason(extra)
            if reason is None:
                idle_checks += 1
                if idle_checks >= 2:
                    return
            else:
                idle_checks = 0
                if loop.time() >= deadline:
                    raise TimeoutError(f"sandbox not idle after {timeout}s: {reason}")
            await asyncio.sleep(_POLL_INTERVAL)

    # -- HTTP --------------------------------------------------------------------------------

    def _notify_update(self) -> None:
        """A new update exists: wake a parked getUpdates, from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if threading.get_ident() == self._loop_thread:
            self._wake()
        else:
            loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.Response:
        match = _PATH.fullmatch(request.path)
        if match is None:
            return _json(ApiError(404, "Not Found").payload(), 404)
        method = match["method"]
        record = RequestRecord(method=method, params={}, status=0, time=self._clock())
        self.requests.append(record)
        key = self._next_request
        self._next_request += 1
        self._in_flight[key] = method
        try:
            if match["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            record.params = decode_params(await _read_params(request))
            result = await self._call(key, method, record.params)
        except ApiError as exc:
            status, payload = exc.status, exc.payload()
            record.description = exc.description
        except Exception:
            _LOGGER.exception("sandbox failed on %s", method)
            status = 500
            payload = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        else:
            status, payload = 200, {"ok": True, "result": result}
        finally:
            self._in_flight.pop(key, None)
        record.status = status
        return _json(payload, status)

    async def _call(self, key: int, method: str, params: JSONDict) -> object:
        name = method.lower()
        if name == "getupdates":
            return await self._get_updates(key, params)
        handler = self._api.methods.get(name)
        if handler is None:
            raise ApiError(404, "Not Found")
        return handler(params)

    async def _get_updates(self, key: int, params: JSONDict) -> list[JSONDict]:
        """Answer at once when updates exist; else park until one arrives or the timeout."""
        loop = asyncio.get_running_loop()
        timeout = params.get("timeout", 0)
        wait = float(timeout) if isinstance(timeout, int | float) else 0.0
        deadline = loop.time() + max(0.0, wait)
        while True:
            wakeup = self._wakeup
            updates = self._api.poll(params)
            remaining = deadline - loop.time()
            if updates or self._stopping or remaining <= 0:
                return updates
            self._parked.add(key)
            try:
                await asyncio.wait_for(wakeup.wait(), remaining)
            except TimeoutError:
                pass
            finally:
                self._parked.discard(key)


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Query string plus a form, multipart or JSON body, as PTB or curl would send them."""
    params: dict[str, Any] = dict(request.query)
    if not request.can_read_body:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise ApiError(400, "Bad Request: can't parse JSON request body") from exc
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: request body must be a JSON object")
        params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for name, value in form.items():
            params[name] = value if isinstance(value, str) else getattr(value, "filename", "")
    return params


def _json(payload: JSONDict, status: int) -> web.Response:
    return web.Response(
        text=json.dumps(payload, ensure_ascii=False),
        status=status,
        content_type="application/json",
    )
