"""The HTTP side of a Bridges process: Telegram's webhook, `/healthz` and `/metrics`.

One small aiohttp server per process. `bridges run --webhook` mounts the
webhook path on it (Telegram posts each update there with our secret in
`X-Telegram-Bot-Api-Secret-Token`; anything else gets 403); `--metrics-port`
on `run` or `worker` serves only the two operator paths. The webhook hands
each update to the Application's own `update_queue`, exactly where long
polling would put it, so handlers cannot tell the two apart. We never use
PTB's tornado webhook server: one web stack (aiohttp) for the sandbox and
production.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update

from bot.ops.metrics import CONTENT_TYPE, Metrics
from scheduler.claims import DEFAULT_LEASE
from scheduler.clock import Clock
from scheduler.tick import DEFAULT_TICK_BUDGET_S
from storage.health import DatabaseUnavailable, HealthProbe

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
# /healthz fails once the last tick finished longer ago than this many intervals.
TICK_GRACE_INTERVALS = 3
# A tick stops claiming after its budget and finishes its last batch within a lease:
# still running after twice that, it is stuck, not busy.
TICK_STUCK_SECONDS = 2 * (DEFAULT_TICK_BUDGET_S + DEFAULT_LEASE.total_seconds())
# Telegram's updates are small; a body beyond this is not one of them.
MAX_UPDATE_BYTES = 1 << 20


@dataclass(frozen=True)
class Webhook:
    """Where updates arrive and what proves they come from Telegram."""

    path: str
    secret: str
    app: Any  # bot.chat.app.BridgesApp; Any keeps this module free of the Application's generics


class Health:
    """The checks behind /healthz: database reachable, schema at head, tick recent."""

    def __init__(
        self,
        probe: HealthProbe,
        metrics: Metrics,
        *,
        tick_seconds: float | None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.probe = probe
        self.metrics = metrics
        self.tick_seconds = tick_seconds  # None: this process runs no tick
        self.wall = wall
        self.started_at = wall()

    async def check(self) -> tuple[bool, dict[str, str]]:
        """Each check's verdict ("ok" or why not), in order; True when all are ok.

        The verdicts may reach the public through a proxy, so the database's own error
        (host names, driver messages) goes to the log, never into a verdict.
        """
        checks: dict[str, str] = {}
        try:
            schema = await self.probe.schema()
        except DatabaseUnavailable as error:
            log.warning("healthz: the database did not answer: %s", error)
            checks["database"] = "unreachable"
        else:
            checks["database"] = "ok"
            if schema.at_head:
                checks["migrations"] = "ok"
            elif schema.newer_than_code:
                checks["migrations"] = (
                    f"database at {schema.current}, newer than this code ({schema.head}): "
                    "upgrade Bridges"
                )
            else:
                checks["migrations"] = (
                    f"database at {schema.current or 'no schema'}, code at {schema.head}"
                )
        if self.tick_seconds is not None:
            checks["tick"] = self._tick()
        return all(verdict == "ok" for verdict in checks.values()), checks

    def _tick(self) -> str:
        assert self.tick_seconds is not None
        now = self.wall()
        started = self.metrics.tick_started_at
        if started is not None:
            running = now - started
            if running < TICK_STUCK_SECONDS:
                return "ok"  # a long tick at a busy hour is working, not dead
            return f"running for {running:.0f} s (limit {TICK_STUCK_SECONDS:.0f} s)"
        last = self.metrics.last_tick_at or self.started_at
        age = now - last
        limit = TICK_GRACE_INTERVALS * self.tick_seconds
        if age <= limit:
            return "ok"
        return f"last finished {age:.0f}s ago (limit {limit:.0f}s)"


def build_web_app(
    health: Health, metrics: Metrics, clock: Clock, webhook: Webhook | None = None
) -> web.Application:
    """The aiohttp application: /healthz, /metrics and, for `run --webhook`, the webhook path."""

    async def healthz(_request: web.Request) -> web.Response:
        ok, checks = await health.check()
        body: dict[str, object] = {"status": "ok" if ok else "fail", "checks": checks}
        if not ok:
            body["failing"] = [name for name, verdict in checks.items() if verdict != "ok"]
        return web.json_response(body, status=200 if ok else 503)

    async def metrics_page(_request: web.Request) -> web.Response:
        try:
            backlog = await health.probe.backlog(clock())
        except DatabaseUnavailable as error:
            log.warning("metrics: backlog unknown: %s", error)
        else:
            metrics.set_backlog(backlog.due, backlog.lateness_seconds(clock()))
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    if webhook is not None:
        app.router.add_post(webhook.path, _webhook_handler(webhook))
    return app


def _webhook_handler(webhook: Webhook) -> Callable[[web.Request], Any]:
    expected = webhook.secret.encode()

    async def receive(request: web.Request) -> web.Response:
        """Telegram posts one update; queue it for the Application and answer at once."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            log.warning("webhook: request without the right secret from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        try:
            data = await request.json(loads=json.loads)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            update = Update.de_json(data, webhook.app.bot)
        except (ValueError, TypeError, KeyError) as error:
            log.warning("webhook: unreadable update (%s)", type(error).__name__)
            return web.Response(status=400, text="bad update")
        await webhook.app.update_queue.put(update)
        return web.Response(text="ok")

    return receive


def webhook_path(url: str) -> str:
    """The path part of the public webhook URL; a reverse proxy passes it through unchanged."""
    return urlsplit(url).path or "/"


@asynccontextmanager
async def serving(web_app: web.Application, host: str, port: int) -> AsyncIterator[web.AppRunner]:
    """Serve `web_app` on host:port until the block ends; port 0 picks a free one."""
    runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("listening on %s", ", ".join(str(address) for address in runner.addresses))
    try:
        yield runner
    finally:
        await runner.cleanup()


def bound_port(runner: web.AppRunner) -> int:
    """The port the server actually listens on (after asking for port 0)."""
    address = runner.addresses[0]
    return int(address[1])
