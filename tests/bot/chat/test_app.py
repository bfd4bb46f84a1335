"""The Application: one repeating tick job at the configured interval, on the injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.chat.app import TICK_JOB, BridgesApp, build_application
from lessons.loader import load_course
from storage.repo import Repo
from tests.helpers import SettableClock

TOKEN = "123456:" + "A" * 35
NOON = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def _app(db: AsyncEngine, clock: SettableClock | None = None, **options: Any) -> BridgesApp:
    """The production Application on `db`, never started (no network is touched)."""
    return build_application(
        token=TOKEN,
        base_url="http://127.0.0.1:9/bot",
        repo=Repo(db),
        course=load_course(),
        clock=clock or SettableClock(NOON),
        **{"tick_seconds": 7.5, **options},
    )


async def test_one_repeating_tick_job_with_the_configured_interval(db: AsyncEngine) -> None:
    clock = SettableClock(NOON)
    app = _app(db, clock)
    assert app.job_queue is not None
    jobs = app.job_queue.jobs()
    assert [job.name for job in jobs] == [TICK_JOB]
    trigger = jobs[0].job.trigger
    assert trigger.interval == timedelta(seconds=7.5)
    services = app.bot_data.services
    assert services.clock() == datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    clock.advance(timedelta(days=1))
    assert services.clock() == datetime(2030, 1, 2, 12, 0, tzinfo=UTC)


async def test_auto_pause_after_reaches_the_tick(db: AsyncEngine) -> None:
    from bot.ops.settings import Settings

    settings = Settings(_env_file=None, auto_pause_after=3)
    app = _app(db, auto_pause_after=settings.auto_pause_after)
    services = app.bot_data.services
    assert services.delivery.auto_pause_after == 3
    assert Settings(_env_file=None).auto_pause_after == 5


async def test_handlers_and_jobs_get_the_typed_context(db: AsyncEngine) -> None:
    """Every callback's context is a BridgesContext whose services are the app's own."""
    from telegram.ext import CallbackContext

    from bot.chat.services import BotData, BridgesContext

    app = _app(db)
    assert isinstance(app.bot_data, BotData)
    context = app.context_types.context.from_job(app.job_queue.jobs()[0], app)  # type: ignore[union-attr]
    assert isinstance(context, BridgesContext) and type(context) is not CallbackContext
    assert context.services is app.bot_data.services
    assert context.services.clock() == datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
