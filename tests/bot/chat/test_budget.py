"""The send budget: Telegram's per-bot limit kept by even spacing, replies first, shared.

The budget's own arithmetic (spacing, per-chat pace, 429 pauses, the fallback) runs on a
fake monotonic clock: `fake_time` hands the budget that clock and makes its sleeps move
it, so those tests take no real time and their timings are exact. The pacing tests that
send through the real python-telegram-bot client to a sandbox enforcing Telegram's limit
strictly (never more than N in any sliding second, in a process of its own) and count its
429s stay on real time: that sandbox's clock is the point. So does the busy-loop test.
"""

from __future__ import annotations

import asyncio
import time
import types
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.error import RetryAfter
from telegram.ext import ExtBot

import bot.chat.budget as budget_module
from bot.chat.budget import BULK, LocalSlots, SendBudget, counts
from storage.budget import SharedSlots
from storage.db import create_engine, upgrade_schema
from tests.e2e.fleet import TOKEN, SandboxClient, sandbox_child


def _max_in_any_second(stamps: list[float]) -> int:
    stamps = sorted(stamps)
    best, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


class FakeTime:
    """A monotonic clock that only the budget's sleeps move: `sleep(d)` advances it by d.

    A sleep first lets every task that is ready at the present instant run (a send just
    given its slot makes its call then), and only then moves the clock. Exact while one
    task at a time sleeps, as here (the dispatcher, or one sequential sender).
    """

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        for _ in range(3):  # a released send's task wakes, then makes its call
            await _real_sleep(0)
        self.now += max(0.0, delay)


_real_sleep = asyncio.sleep


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """A FakeTime, and bot/chat/budget.py sleeping on it (only that module's asyncio.sleep)."""
    fake = FakeTime()
    patched = types.SimpleNamespace(**{**vars(asyncio), "sleep": fake.sleep})
    monkeypatch.setattr(budget_module, "asyncio", patched)
    return fake


@pytest.fixture
async def strict_sandbox() -> AsyncIterator[SandboxClient]:
    """Telegram's limit enforced strictly (never 31 in any sliding second) by a sandbox in its
    own process, so its clock measures arrivals, not this test's busy event loop."""
    async with sandbox_child("--flood", "strict", "--global-limit", "30", "--auto-users") as child:
        yield child


def _bot(sandbox: SandboxClient, budget: SendBudget) -> ExtBot[Any]:
    return ExtBot(TOKEN, base_url=sandbox.base_url, rate_limiter=budget)


async def _assert_within_the_limit(sandbox: SandboxClient, sent: int) -> None:
    """Every message arrived, and the strict limit never had to refuse one (no 429)."""
    stats = await sandbox.stats()
    assert stats["messages"] == sent
    assert stats["flood_refusals"] == 0, stats["statuses"]
    assert "429" not in stats["statuses"]


def test_only_message_methods_spend_the_budget():
    assert counts("sendMessage") and counts("editMessageText") and counts("sendPhoto")
    assert not counts("getUpdates") and not counts("answerCallbackQuery")
    assert not counts("sendChatAction")


async def test_released_sends_never_exceed_the_rate_in_any_second(fake_time: FakeTime):
    """The guarantee at its source: slots are spaced so that no second holds more than 30."""
    budget = SendBudget(30, clock=fake_time)
    stamps: list[float] = []

    async def call() -> bool:
        stamps.append(fake_time())
        return True

    await asyncio.gather(
        *(
            budget.process_request(call, (), {}, "sendMessage", {"chat_id": n}, BULK)
            for n in range(61)
        )
    )
    await budget.shutdown()
    assert len(stamps) == 61
    assert _max_in_any_second(stamps) <= 30
    assert stamps[-1] - stamps[0] <= 60 / (30 * 0.97) + 1e-6  # spaced, not slower than needed


@pytest.mark.serial
async def test_a_fan_out_stays_inside_telegrams_limit(strict_sandbox: SandboxClient):
    """75 lessons to 75 learners at once: no 429, never 31 in a second, and no time wasted."""
    budget = SendBudget(30)
    async with _bot(strict_sandbox, budget) as bot:
        started = time.monotonic()
        await asyncio.gather(
            *(bot.send_message(5000 + n, f"lesson {n}", rate_limit_args=BULK) for n in range(75))
        )
        elapsed = time.monotonic() - started
    await _assert_within_the_limit(strict_sandbox, 75)
    assert elapsed >= 2.0  # paced: 75 at 30 a second cannot all go in the first second


@pytest.mark.serial
async def test_two_processes_share_one_budget_through_postgresql(
    strict_sandbox: SandboxClient, postgres_database: str
):
    """Two budgets (two processes' worth) drawing from one row stay within one bot's limit."""
    engines: list[AsyncEngine] = []
    try:
        for _ in range(2):
            engine = create_engine(postgres_database)
            engines.append(engine)
        await upgrade_schema(engines[0])
        budgets = [SendBudget(30, slots=SharedSlots(engine)) for engine in engines]
        bots = [_bot(strict_sandbox, budget) for budget in budgets]
        for bot in bots:
            await bot.initialize()
        await asyncio.gather(
            *(
                bot.send_message(7000 + 100 * index + n, "lesson", rate_limit_args=BULK)
                for index, bot in enumerate(bots)
                for n in range(35)
            )
        )
        for bot in bots:
            await bot.shutdown()
    finally:
        for engine in engines:
            await engine.dispose()
    await _assert_within_the_limit(strict_sandbox, 70)


async def test_a_reply_to_a_learner_goes_ahead_of_queued_bulk_sends(fake_time: FakeTime):
    order: list[str] = []
    budget = SendBudget(200, slots=LocalSlots(fake_time), clock=fake_time)

    async def call(name: str) -> bool:
        order.append(name)
        return True

    async def send(name: str, chat: int, bulk: bool) -> None:
        await budget.process_request(
            call, (name,), {}, "sendMessage", {"chat_id": chat}, BULK if bulk else None
        )

    bulk = [asyncio.create_task(send(f"bulk-{n}", n, True)) for n in range(40)]
    await asyncio.sleep(0)  # the bulk sends are queued first
    reply = asyncio.create_task(send("reply", 999, False))
    await asyncio.gather(*bulk, reply)
    await budget.shutdown()
    assert len(order) == 41
    assert order.index("reply") < 10  # not behind the 40 queued lesson sends


async def test_a_429_pauses_every_send_then_retries_and_is_counted(fake_time: FakeTime):
    seen: list[float] = []
    refusals = 0
    budget = SendBudget(100, on_429=lambda: seen.append(fake_time()), clock=fake_time)

    async def call() -> bool:
        nonlocal refusals
        if refusals == 0:
            refusals += 1
            raise RetryAfter(1)
        return True

    started = fake_time()
    assert await budget.process_request(call, (), {}, "sendMessage", {"chat_id": 1}, None)
    await budget.shutdown()
    assert len(seen) == 1
    assert fake_time() - started >= 1.0  # waited Telegram's retry_after


async def test_a_429_that_keeps_coming_is_raised_after_max_retries(fake_time: FakeTime):
    budget = SendBudget(100, max_retries=1, clock=fake_time)
    attempts = 0

    async def call() -> bool:
        nonlocal attempts
        attempts += 1
        raise RetryAfter(0)

    with pytest.raises(RetryAfter):
        await budget.process_request(call, (), {}, "sendMessage", {"chat_id": 1}, None)
    await budget.shutdown()
    assert attempts == 2  # the first try and max_retries=1 retry


async def test_one_chat_is_paced_after_its_burst(fake_time: FakeTime):
    budget = SendBudget(1000, chat_burst=2, clock=fake_time)
    stamps: list[float] = []

    async def call() -> bool:
        stamps.append(fake_time())
        return True

    for _ in range(3):
        await budget.process_request(call, (), {}, "sendMessage", {"chat_id": 42}, None)
    await budget.shutdown()
    assert len(stamps) == 3
    assert stamps[1] - stamps[0] < 0.1  # the burst of two goes at once
    assert stamps[2] - stamps[0] >= 0.9  # the third message to one chat waits its turn


async def test_the_application_sends_through_the_budget():
    """Bridges' Application always builds its bot with the send budget, never without."""
    from bot.chat.app import build_application
    from lessons.loader import load_course
    from scheduler.clock import system_clock
    from storage.repo import Repo

    engine = create_engine("sqlite:///:memory:")
    try:
        app = build_application(
            token="123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            base_url="http://127.0.0.1:9/bot",
            repo=Repo(engine),
            course=load_course(),
            clock=system_clock,
            tick_seconds=5,
        )
        assert isinstance(app.bot, ExtBot) and isinstance(app.bot.rate_limiter, SendBudget)
    finally:
        await engine.dispose()


@pytest.mark.serial
async def test_a_busy_event_loop_slows_the_budget_but_never_stalls_it():
    """Each loop iteration takes 5 ms (a busy process): sends keep flowing near the rate.

    Real time on purpose: the point is how the real event loop oversleeps when it is busy
    (slots released late are let go), which a fake clock cannot reproduce.
    """
    budget = SendBudget(30)
    sent = 0
    stop = asyncio.Event()

    async def hog() -> None:
        while not stop.is_set():
            time.sleep(0.005)  # noqa: ASYNC251 - the point: a loop that is busy
            await asyncio.sleep(0)

    async def call() -> bool:
        nonlocal sent
        sent += 1
        return True

    busy = asyncio.create_task(hog())
    sends = [
        asyncio.create_task(
            budget.process_request(call, (), {}, "sendMessage", {"chat_id": n}, BULK)
        )
        for n in range(200)
    ]
    await asyncio.sleep(2.0)
    stop.set()
    await busy
    for task in sends:
        task.cancel()
    await asyncio.gather(*sends, return_exceptions=True)
    await budget.shutdown()
    assert sent >= 30  # about 58 are due in two seconds; a stalled budget sent almost none


async def test_a_429_holds_off_every_process_sharing_the_budget(postgres_database: str):
    engines = [create_engine(postgres_database) for _ in range(2)]
    try:
        await upgrade_schema(engines[0])
        first, second = (SharedSlots(engine) for engine in engines)
        await first.reserve(1, 0.01)
        await first.pause(2.0)  # Telegram said retry_after=2 to the first process
        assert await second.reserve(1, 0.01) >= 1.5
    finally:
        for engine in engines:
            await engine.dispose()


async def test_an_unreachable_shared_budget_is_tried_again_after_a_while(
    monkeypatch: pytest.MonkeyPatch, fake_time: FakeTime
):
    calls = 0

    class Flaky:
        async def reserve(self, count: int, interval: float) -> float:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise ConnectionError("database restarting")
            return 0.0

        async def pause(self, seconds: float) -> None:
            """Not used here."""

    monkeypatch.setattr("bot.chat.budget.FALLBACK_S", 0.2)
    budget = SendBudget(100, slots=Flaky(), clock=fake_time)

    async def call() -> bool:
        return True

    for n in range(30):
        await budget.process_request(call, (), {}, "sendMessage", {"chat_id": n}, None)
    await budget.shutdown()
    assert calls >= 2  # back on the shared budget once the fallback window passed
