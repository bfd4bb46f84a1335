"""The HTTP side over real HTTP: /healthz verdicts, /metrics moving after a tick, the webhook."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.chat.activity import Activity
from bot.chat.app import build_application
from bot.ops.metrics import METRICS, Metrics
from bot.ops.runner import running_webhook, running_worker
from bot.ops.web import (
    SECRET_HEADER,
    TICK_STUCK_SECONDS,
    Health,
    Webhook,
    bound_port,
    build_web_app,
    serving,
)
from bot.tools.sandbox import Sandbox
from lessons.loader import Course, load_course
from scheduler.claims import DEFAULT_LEASE
from scheduler.tick import DEFAULT_TICK_BUDGET_S, TickReport
from storage.db import create_engine, upgrade_schema
from storage.health import HealthProbe
from storage.repo import Repo
from tests.helpers import SettableClock, make_learner

SECRET = "s3cret-Webhook_token"
NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
DUE = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)  # half an hour after 08:00 in Amsterdam


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course()


@asynccontextmanager
async def server(health: Health, metrics: Metrics, clock: SettableClock) -> AsyncIterator[str]:
    async with serving(build_web_app(health, metrics, clock), "127.0.0.1", 0) as runner:
        yield f"http://127.0.0.1:{bound_port(runner)}"


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


def sample(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
    assert match is not None, f"{name}{labels} not in /metrics"
    return float(match[1])


async def wait_until(condition: Callable[[], bool]) -> None:
    """Poll a condition with a deadline (never a fixed sleep): the JobQueue ticks on its own."""
    async with asyncio.timeout(15):
        while not condition():  # noqa: ASYNC110 - no event exists for "the tick finished"
            await asyncio.sleep(0.01)


async def test_healthz_is_200_when_migrated_and_ticking(db: AsyncEngine):
    metrics = Metrics()
    wall = [1_000_000.0]
    health = Health(HealthProbe(db), metrics, tick_seconds=5, wall=lambda: wall[0])
    metrics.tick_finished(TickReport(), 0.01, at=wall[0] - 14)
    async with server(health, metrics, SettableClock(NOW)) as base:
        status, body = await get(f"{base}/healthz")
    assert status == 200, body
    assert '"status": "ok"' in body


async def test_healthz_names_a_stale_tick(db: AsyncEngine):
    metrics = Metrics()
    wall = [1_000_000.0]
    health = Health(HealthProbe(db), metrics, tick_seconds=5, wall=lambda: wall[0])
    metrics.tick_finished(TickReport(), 0.01, at=wall[0] - 16)  # more than 3 intervals ago
    async with server(health, metrics, SettableClock(NOW)) as base:
        status, body = await get(f"{base}/healthz")
    assert status == 503
    assert '"failing": ["tick"]' in body


async def test_healthz_names_unapplied_migrations(tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        health = Health(HealthProbe(engine), Metrics(), tick_seconds=None)
        async with server(health, Metrics(), SettableClock(NOW)) as base:
            status, body = await get(f"{base}/healthz")
    finally:
        await engine.dispose()
    assert status == 503
    assert '"failing": ["migrations"]' in body and "no schema" in body


async def test_healthz_names_a_database_that_is_down():
    engine = create_engine("postgresql://postgres@127.0.0.1:1/nothing")
    try:
        health = Health(HealthProbe(engine), Metrics(), tick_seconds=None)
        async with server(health, Metrics(), SettableClock(NOW)) as base:
            status, body = await get(f"{base}/healthz")
            metrics_status, _ = await get(f"{base}/metrics")
    finally:
        await engine.dispose()
    assert status == 503
    assert '"failing": ["database"]' in body
    assert metrics_status == 200  # metrics still answer, with the backlog left as it was


async def test_metrics_show_the_backlog_from_the_database(repo: Repo, db: AsyncEngine):
    await make_learner(repo, NOW, learner_id=1, zone="Europe/Amsterdam", daily_time="08:00")
    await make_learner(repo, NOW, learner_id=2, zone="Asia/Tokyo", daily_time="08:00")
    metrics = Metrics()
    health = Health(HealthProbe(db), metrics, tick_seconds=None)
    async with server(health, metrics, SettableClock(DUE)) as base:
        status, text = await get(f"{base}/metrics")
    assert status == 200
    assert sample(text, "bridges_due_backlog") == 1  # Tokyo's 08:00 is a day away
    assert sample(text, "bridges_oldest_due_lateness_seconds") == 30 * 60
    for name in (
        "bridges_lessons_total",
        "bridges_telegram_429_total",
        "bridges_tick_seconds_bucket",
        "bridges_answers_total",
        "bridges_together_total",
        "bridges_update_seconds_bucket",
        "bridges_last_tick_timestamp_seconds",
    ):
        assert name in text, name
    for outcome in ("sent", "blocked", "failed", "resent", "unknown"):
        assert f'bridges_lessons_total{{outcome="{outcome}"}} 0.0' in text


async def test_the_tick_job_moves_the_metrics(tmp_path: Path, course: Course):
    """The JobQueue's tick (the shim in bot.chat.app) counts the lesson and stamps its finish."""
    engine = create_engine(f"sqlite:///{tmp_path / 'tick.db'}")
    await upgrade_schema(engine)
    repo = Repo(engine)
    clock = SettableClock(NOW)
    await make_learner(repo, NOW, zone="Europe/Amsterdam", daily_time="08:00")
    clock.now = DUE
    health = Health(HealthProbe(engine), METRICS, tick_seconds=3600)
    try:
        async with Sandbox() as sandbox, server(health, METRICS, clock) as base:
            alex = sandbox.user(1001, "Alex")
            _, before = await get(f"{base}/metrics")
            app = build_application(
                token=sandbox.token,
                base_url=sandbox.base_url,
                repo=repo,
                course=course,
                clock=clock,
                tick_seconds=3600,  # the job's first run comes at once, the next in an hour
                activity=Activity(),
            )
            async with running_worker(app):
                await wait_until(lambda: len(alex.inbox) >= 1)
                await wait_until(lambda: METRICS.tick_started_at is None)
                _, after = await get(f"{base}/metrics")
                status, _ = await get(f"{base}/healthz")
            assert sandbox.calls("getUpdates") == []  # a worker takes no updates
    finally:
        await engine.dispose()
    assert status == 200
    sent = 'bridges_lessons_total{outcome="sent"}'
    assert sample(after, sent) == sample(before, sent) + 1
    count = "bridges_tick_seconds_count"
    assert sample(after, count) > sample(before, count)
    assert sample(after, "bridges_last_tick_timestamp_seconds") > 0
    assert sample(after, "bridges_due_backlog") == 0


def start_update(update_id: int, user_id: int, first_name: str) -> dict[str, object]:
    """The JSON Telegram posts when a user sends /start."""
    user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_770_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": first_name},
            "from": user,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def test_webhook_takes_updates_only_with_the_secret(tmp_path: Path, course: Course):
    engine = create_engine(f"sqlite:///{tmp_path / 'hook.db'}")
    await upgrade_schema(engine)
    clock = SettableClock(NOW)
    try:
        async with Sandbox() as sandbox:
            alex = sandbox.user(1001, "Alex")
            arrived = asyncio.Event()
            loop = asyncio.get_running_loop()
            sandbox.add_listener(lambda *_: loop.call_soon_threadsafe(arrived.set))
            app = build_application(
                token=sandbox.token,
                base_url=sandbox.base_url,
                repo=Repo(engine),
                course=course,
                clock=clock,
                tick_seconds=3600,
            )
            health = Health(HealthProbe(engine), Metrics(), tick_seconds=None)
            web_app = build_web_app(health, Metrics(), clock, Webhook("/telegram", SECRET, app))
            url = "https://bridges.example/telegram"
            async with running_webhook(
                app, web_app, url=url, secret=SECRET, host="127.0.0.1", port=0
            ) as runner:
                hook = f"http://127.0.0.1:{bound_port(runner)}/telegram"
                async with aiohttp.ClientSession() as session:
                    async with session.post(hook, json=start_update(1, 1001, "Alex")) as r:
                        assert r.status == 403
                    wrong = {SECRET_HEADER: "guess"}
                    async with session.post(
                        hook, json=start_update(2, 1001, "Alex"), headers=wrong
                    ) as r:
                        assert r.status == 403
                    right = {SECRET_HEADER: SECRET}
                    async with session.post(hook, data="not json", headers=right) as r:
                        assert r.status == 400
                    assert alex.inbox == []
                    async with session.post(
                        hook, json=start_update(3, 1001, "Alex"), headers=right
                    ) as r:
                        assert r.status == 200
                    async with asyncio.timeout(15):
                        while not alex.inbox:
                            arrived.clear()
                            await arrived.wait()
                    status, body = await get(f"http://127.0.0.1:{bound_port(runner)}/healthz")
            [set_webhook] = sandbox.calls("setWebhook")
            assert set_webhook.params["url"] == url
            assert set_webhook.params["secret_token"] == SECRET
            assert "message" in set_webhook.params["allowed_updates"]
            assert sandbox.calls("getUpdates") == []
    finally:
        await engine.dispose()
    assert "not therapy" in alex.inbox[0].text
    assert status == 200, body


async def test_healthz_keeps_the_database_error_out_of_its_body(
    caplog: pytest.LogCaptureFixture,
):
    """/healthz may be public behind a proxy: the failing check's name only, detail in the log."""
    engine = create_engine("postgresql://postgres@127.0.0.1:1/secret_db_name")
    try:
        health = Health(HealthProbe(engine), Metrics(), tick_seconds=None)
        async with server(health, Metrics(), SettableClock(NOW)) as base:
            with caplog.at_level("WARNING", logger="bot.ops.web"):
                status, body = await get(f"{base}/healthz")
    finally:
        await engine.dispose()
    assert status == 503
    assert json.loads(body)["checks"] == {"database": "unreachable"}
    assert "127.0.0.1" not in body and "Error" not in body and "secret_db_name" not in body
    assert any("did not answer" in record.getMessage() for record in caplog.records)


async def test_healthz_fails_a_tick_running_past_twice_budget_and_lease(db: AsyncEngine):
    metrics = Metrics()
    wall = [1_000_000.0]
    health = Health(HealthProbe(db), metrics, tick_seconds=5, wall=lambda: wall[0])
    metrics.tick_started(at=wall[0] - (TICK_STUCK_SECONDS - 1))
    async with server(health, metrics, SettableClock(NOW)) as base:
        busy_status, _ = await get(f"{base}/healthz")
        wall[0] += 2  # now one second past the limit
        stuck_status, body = await get(f"{base}/healthz")
    assert 2 * (DEFAULT_TICK_BUDGET_S + DEFAULT_LEASE.total_seconds()) == TICK_STUCK_SECONDS
    assert busy_status == 200
    assert stuck_status == 503
    verdict = json.loads(body)["checks"]["tick"]
    assert verdict.startswith(f"running for {TICK_STUCK_SECONDS + 1:.0f} s"), verdict


async def test_healthz_says_the_database_is_newer_than_the_code(tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path / 'newer.db'}")
    await upgrade_schema(engine)
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    try:
        health = Health(HealthProbe(engine), Metrics(), tick_seconds=None)
        async with server(health, Metrics(), SettableClock(NOW)) as base:
            status, body = await get(f"{base}/healthz")
    finally:
        await engine.dispose()
    assert status == 503
    assert "newer than this code" in json.loads(body)["checks"]["migrations"]


async def test_metrics_have_no_created_series_and_say_resent_is_a_subset(db: AsyncEngine):
    metrics = Metrics()
    health = Health(HealthProbe(db), metrics, tick_seconds=None)
    async with server(health, metrics, SettableClock(NOW)) as base:
        _, text_ = await get(f"{base}/metrics")
    assert "_created" not in text_
    assert re.search(r"^# HELP bridges_lessons_total .*subset", text_, re.MULTILINE)


def test_lesson_recorded_counts_each_delivery_and_the_tick_does_not_count_it_again():
    metrics = Metrics()
    metrics.tick_started(at=1.0)
    metrics.lesson_recorded("sent")
    metrics.lesson_recorded("sent")
    metrics.lesson_recorded("resent")
    during = metrics.render().decode()
    assert sample(during, "bridges_lessons_total", '{outcome="sent"}') == 2
    metrics.tick_finished(TickReport(sent=2, resent=1), 0.5, at=2.0)
    after = metrics.render().decode()
    assert sample(after, "bridges_lessons_total", '{outcome="sent"}') == 2
    assert sample(after, "bridges_lessons_total", '{outcome="resent"}') == 1
    assert sample(after, "bridges_tick_seconds_count") == 1
    with pytest.raises(ValueError, match="unknown lesson outcome"):
        metrics.lesson_recorded("lost")  # type: ignore[arg-type]


def test_tick_finished_counts_outcomes_while_nothing_counts_per_delivery():
    metrics = Metrics()
    metrics.tick_finished(TickReport(sent=3, failed=1), 0.5, at=2.0)
    text_ = metrics.render().decode()
    assert sample(text_, "bridges_lessons_total", '{outcome="sent"}') == 3
    assert sample(text_, "bridges_lessons_total", '{outcome="failed"}') == 1
