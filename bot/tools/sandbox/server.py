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

Beyond the happy path it can misbehave the way Telegram does, on demand (:meth:`Sandbox.add_fault`,
:meth:`Sandbox.set_flood`), push updates to a webhook, and measure itself (:meth:`Sandbox.stats`,
:meth:`Sandbox.reply_latencies`). A bot or benchmark in another process reaches the same knobs
over HTTP, outside the ``/bot<token>/`` prefix (see :mod:`bot.tools.sandbox.control`):

    POST /sandbox/control   {"action": "fault", "method": "sendMessage", "kind": "drop"}
    GET  /sandbox/stats     counts per method, 429s, injected 5xx, lost replies, per chat
    GET  /sandbox/idle      {"idle": true} once nothing is pending
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web

from bot.tools.sandbox import control
from bot.tools.sandbox.api import OTHER_POLLER, WEBHOOK_ACTIVE, ApiError, BotApi, decode_params
from bot.tools.sandbox.faults import Fault, FaultKind, Faults
from bot.tools.sandbox.limits import (
    FLOOD_MODES,
    Flood,
    FloodControl,
    FloodMode,
    NoFlood,
    StrictFloodControl,
)
from bot.tools.sandbox.state import JSONDict, Listener, RequestRecord, SandboxUser, Upload, World
from bot.tools.sandbox.stats import Counters, reply_latencies, summarise
from scheduler.clock import system_clock

_LOGGER = logging.getLogger(__name__)

# Shaped like a real token (digits, a colon, 20+ of A-Za-z0-9_-) so `bridges run` and
# `bridges doctor` accept it; it means nothing anywhere but a sandbox.
SANDBOX_TOKEN = "123456:SANDBOX-token-valid-only-here"  # noqa: S105 - a fixed fake token

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
        flood: FloodMode = "bucket",
        strict_global_limit: int = 30,
        strict_chat_burst: int = 3,
        auto_users: bool = False,
        seed: int | None = 0,
        record_limit: int | None = None,
        webhook_backoff: tuple[float, float] = (0.05, 1.0),
    ) -> None:
        """``flood`` picks the limiter (see :mod:`bot.tools.sandbox.limits`): ``bucket`` uses the
        ``global_*``/``chat_*`` token buckets, ``strict`` Telegram's sliding second with
        ``strict_*``, ``off`` none. ``seed`` seeds the probabilistic faults.
        ``record_limit`` keeps only the newest records in :attr:`requests`, so a long
        benchmark does not grow memory with every call. ``webhook_backoff`` is the first and
        the longest pause between failed webhook posts.
        """
        self.token = token
        self._clock = clock
        self._bucket_args = {
            "global_rate": global_rate,
            "global_burst": global_burst,
            "chat_rate": chat_rate,
            "chat_burst": chat_burst,
        }
        self._strict_args = {"global_limit": strict_global_limit, "chat_burst": strict_chat_burst}
        self._world = World(
            bot_id=bot_id, bot_username=bot_username, bot_name=bot_name, auto_users=auto_users
        )
        self._world.on_update = self._notify_update
        self.counters = Counters()
        self._flood_mode: FloodMode = flood
        self._api = BotApi(self._world, self._make_flood(flood), self._count_flood)
        self._faults = Faults(seed)
        self._webhook_backoff = webhook_backoff
        self.requests: deque[RequestRecord] = deque(maxlen=record_limit)
        self._in_flight: dict[int, str] = {}
        self._parked: set[int] = set()
        self._next_request = 0
        self._poll_generation = 0
        self._wakeup = asyncio.Event()
        self._stopped = asyncio.Event()
        self._pusher: asyncio.Task[None] | None = None
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
        self._stopped = asyncio.Event()
        app = web.Application()
        app.router.add_post(control.CONTROL_PATH, self._handle_control)
        app.router.add_get(control.STATS_PATH, self._handle_stats)
        app.router.add_get(control.IDLE_PATH, self._handle_idle)
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
        self._stopped.set()
        self._wake()
        pusher, self._pusher = self._pusher, None
        if pusher is not None:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher
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

    @property
    def auto_users(self) -> bool:
        """When true, a send to an unknown positive chat id creates that user (benchmarks)."""
        return self._world.auto_users

    @auto_users.setter
    def auto_users(self, enabled: bool) -> None:
        self._world.auto_users = enabled

    @property
    def webhook_url(self) -> str:
        """The URL set by setWebhook, "" while the bot polls."""
        return self._world.webhook_url

    # -- faults and limits -------------------------------------------------------------------

    def add_fault(
        self,
        method: str,
        kind: FaultKind,
        *,
        count: int | None = 1,
        probability: float = 1.0,
        status: int = 500,
        delay: float = 30.0,
    ) -> Fault:
        """Arm a fault for ``method`` ("*" for any): the next ``count`` calls, or, with
        ``count=None``, each call with ``probability`` (seeded RNG).
        See :mod:`bot.tools.sandbox.faults`.
        """
        fault = Fault(method, kind, count, probability, status, delay)
        self.arm(fault)
        return fault

    def arm(self, fault: Fault) -> None:
        self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    def seed_faults(self, seed: int | None) -> None:
        self._faults.seed(seed)

    @property
    def faults(self) -> list[Fault]:
        """The faults still armed."""
        return self._faults.armed

    @property
    def flood_mode(self) -> FloodMode:
        return self._flood_mode

    def set_flood(
        self,
        mode: FloodMode,
        *,
        global_limit: int | None = None,
        chat_burst: int | None = None,
    ) -> None:
        """Switch the limiter: "bucket" (default), "strict" or "off"; starts with fresh counts.

        ``global_limit`` and ``chat_burst`` change the strict mode's sends per sliding second
        and per-chat burst.
        """
        if mode not in FLOOD_MODES:
            raise ValueError(f"unknown flood mode {mode!r}; use one of {FLOOD_MODES}")
        if global_limit is not None:
            self._strict_args["global_limit"] = global_limit
        if chat_burst is not None:
            self._strict_args["chat_burst"] = chat_burst
        self._api.flood = self._make_flood(mode)
        self._flood_mode = mode

    def _make_flood(self, mode: FloodMode) -> Flood:
        if mode == "off":
            return NoFlood()
        if mode == "strict":
            return StrictFloodControl(
                global_limit=int(self._strict_args["global_limit"]),
                chat_burst=int(self._strict_args["chat_burst"]),
                clock=self._clock,
            )
        return FloodControl(
            global_rate=float(self._bucket_args["global_rate"]),
            global_burst=int(self._bucket_args["global_burst"]),
            chat_rate=float(self._bucket_args["chat_rate"]),
            chat_burst=int(self._bucket_args["chat_burst"]),
            clock=self._clock,
        )

    def _count_flood(self) -> None:
        self.counters.flood_refusals += 1

    # -- measurements ------------------------------------------------------------------------

    def message_counts(self) -> dict[int, int]:
        """New bot messages per chat id (deletes do not lower it), kept up as they happen."""
        return dict(self._world.message_counts)

    def reply_latencies(self) -> list[float]:
        """Seconds from each update a user caused to the bot's next answer in that chat."""
        return reply_latencies(self._world.users.values())

    def reset_stats(self) -> None:
        """Start a new measurement: counters, request records and latency stamps go;
        chats, messages and per-chat message counts stay.
        """
        self.counters.reset()
        self.requests.clear()
        for user in self._world.users.values():
            user.updates.clear()
            user.reply_times.clear()

    def stats(self, *, per_chat: bool = True) -> JSONDict:
        """Everything a benchmark reads after a run, as JSON-ready values."""
        counts = self._world.message_counts
        data: JSONDict = {
            "requests": dict(self.counters.calls),
            "statuses": {str(status): n for status, n in self.counters.statuses.items()},
            "flood_mode": self._flood_mode,
            "flood_refusals": self.counters.flood_refusals,
            "injected_errors": self.counters.injected_errors,
            "lost_replies": self.counters.lost_replies,
            "conflicts": self.counters.conflicts,
            "webhook": {
                "url": self._world.webhook_url,
                "posts": self.counters.webhook_posts,
                "failures": self.counters.webhook_failures,
            },
            "pending_updates": self.pending_updates,
            "in_flight": len(self._in_flight) - len(self._parked),
            "users": len(self._world.users),
            "messages": sum(counts.values()),
            "chats_with_messages": len(counts),
            "max_messages_per_chat": max(counts.values(), default=0),
            "reply_latency": summarise(self.reply_latencies()),
            "faults_armed": [fault.to_json() for fault in self._faults.armed],
            "process_cpu_seconds": time.process_time(),
        }
        if per_chat:
            data["messages_per_chat"] = {str(chat): n for chat, n in counts.items()}
        return data

    # -- idleness ----------------------------------------------------------------------------

    def busy_reason(self, extra: Callable[[], bool] | None = None) -> str | None:
        """What keeps the sandbox from being idle right now, or None (see :meth:`wait_idle`)."""
        return self._busy_reason(extra)

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

        Idle means: every update confirmed (the bot called getUpdates with a greater offset,
        or the webhook receiver answered 2xx), no Bot API request in flight except a parked
        long poll or a reply a fault is holding back, and ``extra()`` true. PTB's
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
        record = RequestRecord(
            method=method,
            params={},
            status=0,
            time=self._clock(),
            received=time.monotonic(),
            received_utc=system_clock(),
        )
        self.requests.append(record)
        self.counters.calls[method] += 1
        key = self._next_request
        self._next_request += 1
        self._in_flight[key] = method
        fault: Fault | None = None
        try:
            if match["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            record.params = decode_params(await _read_params(request))
            fault = self._faults.pick(method)
            if fault is not None and fault.kind == "error":
                self.counters.injected_errors += 1
                raise ApiError(fault.status, fault.description)
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
            # A reply a fault loses is no longer "in flight": the call is done, only the
            # client does not know it, so wait_idle does not wait for the held reply.
            self._in_flight.pop(key, None)
        record.status = status
        self.counters.statuses[status] += 1
        if fault is not None:
            record.fault = fault.kind
        if fault is not None and fault.kind != "error":
            self.counters.lost_replies += 1
            if fault.kind == "drop":
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=status)  # never reaches the client
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), fault.delay)
        record.answered, record.answered_utc = time.monotonic(), system_clock()
        return _json(payload, status)

    async def _call(self, key: int, method: str, params: JSONDict) -> object:
        name = method.lower()
        if name == "getupdates":
            return await self._get_updates(key, params)
        handler = self._api.methods.get(name)
        if handler is None:
            raise ApiError(404, "Not Found")
        result = handler(params)
        if name in ("setwebhook", "deletewebhook"):
            self._ensure_pusher()
        return result

    async def _get_updates(self, key: int, params: JSONDict) -> list[JSONDict]:
        """Answer at once when updates exist; else park until one arrives or the timeout.

        As Telegram does, a getUpdates that arrives while another is parked ends the older
        one with 409, and none is served while a webhook is set.
        """
        if self._world.webhook_url:
            self.counters.conflicts += 1
            raise ApiError(409, WEBHOOK_ACTIVE)
        self._poll_generation += 1
        generation = self._poll_generation
        if self._parked:
            self._wake()
        loop = asyncio.get_running_loop()
        timeout = params.get("timeout", 0)
        wait = float(timeout) if isinstance(timeout, int | float) else 0.0
        deadline = loop.time() + max(0.0, wait)
        while True:
            if generation != self._poll_generation:
                self.counters.conflicts += 1
                raise ApiError(409, OTHER_POLLER)
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

    # -- webhook -----------------------------------------------------------------------------

    def _ensure_pusher(self) -> None:
        """Run the webhook pusher while a webhook is set; it ends itself when deleted."""
        self._wake()
        if self._world.webhook_url and (self._pusher is None or self._pusher.done()):
            self._pusher = asyncio.get_running_loop().create_task(self._push_updates())

    async def _push_updates(self) -> None:
        """POST each pending update, oldest first, until the receiver answers 2xx.

        An update leaves the queue only on 2xx, so ``wait_idle`` and pending_update_count
        count it until then; a failure is kept as last_error_message and retried after a
        backoff that doubles up to the configured maximum. One connection, in order.
        """
        first, longest = self._webhook_backoff
        backoff = first
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while not self._stopping and self._world.webhook_url:
                wakeup = self._wakeup
                self._world.drop_disallowed()
                if not self._world.updates:
                    await wakeup.wait()
                    continue
                update = self._world.updates[0]
                url, secret = self._world.webhook_url, self._world.webhook_secret
                headers = {SECRET_HEADER: secret} if secret else {}
                error = await _post(session, url, update, headers)
                self.counters.webhook_posts += 1
                if error is None:
                    backoff = first
                    if self._world.updates and self._world.updates[0] is update:
                        self._world.updates.pop(0)
                    continue
                self.counters.webhook_failures += 1
                self._world.webhook_last_error = (self._world.now(), error)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopped.wait(), backoff)
                backoff = min(longest, backoff * 2)

    # -- control -----------------------------------------------------------------------------

    async def _handle_control(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _json({"ok": False, "description": "the body must be a JSON object"}, 400)
        try:
            result = control.apply(self, body)
        except (ValueError, TypeError, LookupError) as exc:
            return _json({"ok": False, "description": str(exc)}, 400)
        return _json({"ok": True, "result": result}, 200)

    async def _handle_stats(self, request: web.Request) -> web.Response:
        per_chat = request.query.get("per_chat", "1").lower() not in ("0", "false", "no")
        return _json({"ok": True, "result": self.stats(per_chat=per_chat)}, 200)

    async def _handle_idle(self, _request: web.Request) -> web.Response:
        reason = self.busy_reason()
        return _json({"ok": True, "result": {"idle": reason is None, "reason": reason}}, 200)


SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


async def _post(
    session: aiohttp.ClientSession, url: str, update: JSONDict, headers: dict[str, str]
) -> str | None:
    """POST one update; None on 2xx, else the error Telegram would show in getWebhookInfo."""
    try:
        async with session.post(url, json=update, headers=headers) as response:
            await response.read()
            if 200 <= response.status < 300:
                return None
            return f"Wrong response from the webhook: {response.status} {response.reason}"
    except TimeoutError:
        return "Read timeout expired"
    except aiohttp.ClientError as exc:
        return f"Connection failed: {type(exc).__name__}"


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
            if isinstance(value, str):
                params[name] = value
            elif isinstance(value, web.FileField):  # an upload: keep its bytes for the tests
                params[name] = Upload(value.filename, value.content_type, value.file.read())
            else:
                params[name] = getattr(value, "filename", "")
    return params


def _json(payload: JSONDict, status: int) -> web.Response:
    return web.Response(
        text=json.dumps(payload, ensure_ascii=False),
        status=status,
        content_type="application/json",
    )
