"""`bridges bench checkin`: how long a learner waits for the answer to a check-in tap.

Learners get their lesson first; then each presses the first button of their
check-in and the clock runs until the bot's reply reaches the sandbox. Once
with nothing else going on (idle), once during a fan-out at Telegram's limit:
sandbox flood limits at their defaults and the bot's real send budget, so
the replies queue behind bulk lesson sends for the same 30 messages a second.
Taps are spaced (IDLE_GAP_SECONDS, FANOUT_GAP_SECONDS) as real learners' are.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.tools.bench.common import Progress, machine, percentile, pyplot, save, say
from bot.tools.bench.fanout import BENCH_TOKEN, add_chats, running_bridges, services_of
from bot.tools.sandbox import BotMessage, Sandbox, SandboxUser
from scheduler.clock import ShiftedClock
from scheduler.tick import run_tick
from storage.seed import DEFAULT_POSTGRES_URL, bench_database

REPLY_TIMEOUT = 60.0
# Learners tap now and then, not all in the same second: answering 100 taps a second
# would itself exceed Telegram's 30 messages a second (each answer edits and replies).
IDLE_GAP_SECONDS = 0.1
FANOUT_GAP_SECONDS = 0.25


@dataclass
class CheckinRun:
    idle_ms: list[float] = field(default_factory=list)
    fanout_ms: list[float] = field(default_factory=list)
    fanout_sent_during: int = 0

    def result(self) -> dict[str, Any]:
        return {
            "idle_p99_ms": round(percentile(self.idle_ms, 99), 1),
            "idle_p50_ms": round(percentile(self.idle_ms, 50), 1),
            "fanout_p99_ms": round(percentile(self.fanout_ms, 99), 1),
            "fanout_p50_ms": round(percentile(self.fanout_ms, 50), 1),
            "machine": machine(),
            "answers": len(self.idle_ms) + len(self.fanout_ms),
            "lessons_sent_during_fanout_phase": self.fanout_sent_during,
        }


class Replies:
    """Wakes the waiting presser when the bot's next message reaches a given chat."""

    def __init__(self) -> None:
        self.waiting: dict[int, asyncio.Future[float]] = {}
        self.lessons = 0
        self.first_lesson = asyncio.Event()

    def __call__(self, user: SandboxUser, _message: BotMessage, kind: str) -> None:
        if kind != "new":
            return
        future = self.waiting.pop(user.id, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())
        elif len(user.inbox) == 1:
            self.lessons += 1
            self.first_lesson.set()

    async def answer(self, user: SandboxUser) -> float:
        """Tap the first button of the newest check-in; ms until the reply arrives."""
        checkin = user.last
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[user.id] = future
        began = time.perf_counter()
        if checkin.buttons:
            user.press(checkin.buttons[0][0].text, message_id=checkin.message_id)
        else:
            user.send("I listened first.")
        arrived = await asyncio.wait_for(future, REPLY_TIMEOUT)
        return (arrived - began) * 1000


async def bench_checkin(
    *,
    answers: int = 100,
    fanout_learners: int = 3000,
    db: str = "sqlite",
    postgres_url: str = DEFAULT_POSTGRES_URL,
) -> CheckinRun:
    run = CheckinRun()
    clock = ShiftedClock()
    start = clock()
    async with bench_database(db, postgres_url=postgres_url) as database:
        answerers = await database.seed(2 * answers, start - timedelta(minutes=1))
        crowd_due = start + timedelta(hours=1)
        crowd = await database.seed(fanout_learners, crowd_due, first_id=2 * answers)
        async with Sandbox(BENCH_TOKEN) as sandbox:  # Telegram's default flood limits
            add_chats(sandbox, answerers)
            add_chats(sandbox, crowd)
            replies = Replies()
            sandbox.add_listener(replies)
            async with running_bridges(sandbox, database, clock, telegram_pace=True) as app:
                lessons = services_of(app).delivery
                say(f"sending {len(answerers)} first lessons at Telegram's pace ...")
                await run_tick(clock, lessons)
                replies.lessons = 0
                replies.first_lesson.clear()
                users = [sandbox.users[i] for i in answerers]
                progress = Progress("checkin", len(users))
                for index, user in enumerate(users[:answers]):
                    run.idle_ms.append(await replies.answer(user))
                    await asyncio.sleep(IDLE_GAP_SECONDS)
                    progress.update(index + 1, "idle")
                clock.jump_to(crowd_due + timedelta(seconds=1))
                # No time budget: the fan-out must outlast the taps (a real bot's next tick
                # would go on where this one's 20 s budget stopped it).
                tick = asyncio.create_task(run_tick(clock, lessons, budget_s=math.inf))
                # Until the fan-out is under way: its first lesson reached the sandbox.
                await asyncio.wait(
                    {tick, asyncio.ensure_future(replies.first_lesson.wait())},
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for index, user in enumerate(users[answers:]):
                    if tick.done():
                        say("the fan-out ended before every answer; use more --fanout-learners")
                        break
                    run.fanout_ms.append(await replies.answer(user))
                    await asyncio.sleep(FANOUT_GAP_SECONDS)
                    progress.update(answers + index + 1, "during fan-out")
                run.fanout_sent_during = replies.lessons
                tick.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await tick
                progress.finish()
    return run


def plot(run: CheckinRun, path: str) -> None:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(8, 4.5))
    for values, label in ((run.idle_ms, "idle"), (run.fanout_ms, "during a fan-out at 30 msg/s")):
        ordered = sorted(values)
        if ordered:
            share = [100 * (i + 1) / len(ordered) for i in range(len(ordered))]
            axes.step(ordered, share, where="post", label=label)
    axes.axvline(1000, color="#c44", linestyle=":", label="target p99 1 s")
    axes.set_xlabel("tap -> reply in the sandbox, ms")
    axes.set_ylabel("% of answers")
    axes.legend()
    axes.set_title("check-in answer latency (CDF)")
    save(figure, path)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    run = await bench_checkin(
        answers=args.answers,
        fanout_learners=args.fanout_learners,
        db=args.db,
        postgres_url=args.postgres_url,
    )
    if args.plot:
        plot(run, args.plot)
    return run.result()
