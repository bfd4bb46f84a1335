"""A learner who taps a check-in during a morning's fan-out is answered ahead of the bulk sends.

Ordering, not timing: the test counts how many lesson sends reached Telegram
between the tap and the reply. Replies take the next send slot, so at most a
few lessons (those already released to the network) go first; without the
priority every queued lesson would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot.tools.sandbox import Sandbox
from tests.e2e.harness import Bridges
from tests.helpers import make_learner

FANOUT = 90  # three seconds of sends at Telegram's 30 a second


async def _until(sandbox: Sandbox, condition: Callable[[], bool]) -> None:
    """Wait, woken by each message the sandbox delivers, until `condition` holds."""
    loop = asyncio.get_running_loop()
    changed = asyncio.Event()
    sandbox.add_listener(lambda *_: loop.call_soon_threadsafe(changed.set))
    async with asyncio.timeout(30):
        while not condition():
            await changed.wait()
            changed.clear()


@pytest.mark.serial
async def test_a_check_in_answer_is_not_queued_behind_the_fan_out(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex, time="09:00")  # today's lesson now; the others come at 08:00
    assert bridges.repo is not None
    for learner_id in range(2000, 2000 + FANOUT):
        sandbox.user(learner_id, f"Learner {learner_id}")
        await make_learner(bridges.repo, bridges.clock.now, learner_id=learner_id)
    bridges.clock.now = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 Amsterdam: 90 due
    fanout = asyncio.create_task(bridges.tick())

    def lessons_out() -> int:
        return sum(
            1
            for r in sandbox.requests
            if r.method == "sendMessage" and int(r.params["chat_id"]) >= 2000
        )

    await _until(sandbox, lambda: lessons_out() >= 10)
    tapped_at = lessons_out()
    alex.press(alex.last.button_labels()[0])
    await _until(sandbox, lambda: "Your answer" in alex.last.text)
    answered_at = lessons_out()
    report = await fanout
    assert report.sent == FANOUT
    assert answered_at - tapped_at <= 5, (tapped_at, answered_at)
    assert answered_at < FANOUT  # answered while the fan-out was still under way
