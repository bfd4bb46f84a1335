"""Telegram's failures, each through the real python-telegram-bot client against the sandbox.

The rules (bot/chat/sender.py, storage/outcome.py, storage/lease.py): a reply that never came
(5xx, a dropped connection, a reply later than the read timeout) is `unknown`:
the delivery stays `sending` and, once its lease runs out, is sent exactly
once more. A 429 is waited out and retried. A definite refusal (403, "chat not
found") fails the delivery and sets the learner aside as blocked; a learner
who said /stop stays stopped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bot.tools.sandbox import Sandbox, SandboxUser
from scheduler.claims import DEFAULT_LEASE
from scheduler.states import LearnerStatus
from scheduler.tick import TickReport
from tests.e2e.harness import Bridges
from tests.helpers import make_learner

# The clock fixture starts at 2026-03-02 06:00 UTC; 08:00 in Amsterdam is 07:00 UTC.
DUE = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
PAST_LEASE = DEFAULT_LEASE + timedelta(seconds=1)


async def _deliveries(bridges: Bridges, learner_id: int) -> list[tuple[str, int, str | None]]:
    """(state, resends, failure) of the learner's deliveries, oldest first."""
    assert bridges.repo is not None
    async with bridges.repo.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT state, resends, failure FROM delivery WHERE learner_id = :id ORDER BY id"),
            {"id": learner_id},
        )
        return [(state, resends, failure) for state, resends, failure in rows]


def _lessons(user: SandboxUser) -> int:
    return sum("Day 1 of" in message.text for message in user.inbox)


async def _due_learner(bridges: Bridges, sandbox: Sandbox, user_id: int = 1001) -> SandboxUser:
    user = sandbox.user(user_id, "Alex")
    await bridges.onboard(user, first_now=False)
    return user


async def _after_lease(bridges: Bridges) -> TickReport:
    return await bridges.next_day_at(bridges.clock.now + PAST_LEASE)


async def test_a_5xx_stays_sending_and_the_lease_sends_it_once(bridges: Bridges, sandbox: Sandbox):
    alex = await _due_learner(bridges, sandbox)
    sandbox.add_fault("sendMessage", "error", status=502)
    report = await bridges.next_day_at(DUE)
    assert (report.claimed, report.unknown, report.sent) == (1, 1, 0)
    assert await _deliveries(bridges, 1001) == [("sending", 0, None)]
    assert _lessons(alex) == 0  # a 5xx is not processed: nothing arrived

    report = await _after_lease(bridges)
    assert (report.resent, report.sent) == (1, 1)
    assert await _deliveries(bridges, 1001) == [("sent", 1, None)]
    assert _lessons(alex) == 1
    assert (await _after_lease(bridges)).claimed == 0  # sent once more, not again and again


async def test_a_dropped_reply_is_unknown_and_resent_once(bridges: Bridges, sandbox: Sandbox):
    alex = await _due_learner(bridges, sandbox)
    sandbox.add_fault("sendMessage", "drop")
    report = await bridges.next_day_at(DUE)
    assert (report.unknown, report.sent) == (1, 0)
    assert await _deliveries(bridges, 1001) == [("sending", 0, None)]
    assert _lessons(alex) == 1  # Telegram processed it; we could not know

    report = await _after_lease(bridges)
    assert (report.resent, report.sent) == (1, 1)
    assert await _deliveries(bridges, 1001) == [("sent", 1, None)]
    # The one duplicate a lost reply can cause, and no more.
    assert _lessons(alex) == 2
    assert (await _after_lease(bridges)).claimed == 0


async def test_a_reply_later_than_the_read_timeout_is_unknown(bridges: Bridges, sandbox: Sandbox):
    alex = await _due_learner(bridges, sandbox)
    sandbox.add_fault("sendMessage", "delay", delay=60)  # PTB gives up after its read timeout
    report = await bridges.next_day_at(DUE)
    assert (report.unknown, report.sent) == (1, 0)
    assert await _deliveries(bridges, 1001) == [("sending", 0, None)]
    report = await _after_lease(bridges)
    assert (report.resent, report.sent) == (1, 1)
    assert await _deliveries(bridges, 1001) == [("sent", 1, None)]
    assert _lessons(alex) == 2


async def test_strict_flood_429s_are_waited_out_and_nothing_doubles(
    bridges: Bridges, sandbox: Sandbox
):
    users = [await _due_learner(bridges, sandbox, 2000 + n) for n in range(6)]
    sandbox.reset_stats()
    # Telegram's strict shape, tighter than the bot's own budget: some sends get 429.
    sandbox.set_flood("strict", global_limit=3, chat_burst=3)
    report = await bridges.next_day_at(DUE)
    assert (report.sent, report.unknown) == (6, 0)
    assert sandbox.counters.flood_refusals > 0
    assert [_lessons(user) for user in users] == [1] * 6
    for user in users:
        assert await _deliveries(bridges, user.id) == [("sent", 0, None)]


async def test_403_fails_the_delivery_and_sets_the_learner_aside(
    bridges: Bridges, sandbox: Sandbox
):
    alex = await _due_learner(bridges, sandbox)
    alex.blocked = True  # blocked without the my_chat_member update reaching the bot
    report = await bridges.next_day_at(DUE)
    assert (report.blocked, report.unknown) == (1, 0)
    [(state, resends, failure)] = await _deliveries(bridges, 1001)
    assert (state, resends) == ("failed", 0) and failure and "blocked" in failure
    assert bridges.repo is not None
    learner = await bridges.repo.get_learner(1001)
    assert learner is not None
    assert learner.status == LearnerStatus.BLOCKED and learner.next_due_at is None
    assert (await bridges.next_day_at(DUE + timedelta(days=1))).claimed == 0


async def test_chat_not_found_sets_the_learner_aside(bridges: Bridges, sandbox: Sandbox):
    assert bridges.repo is not None
    # A learner Telegram no longer knows (the account is gone): no sandbox user with this id.
    await make_learner(bridges.repo, bridges.clock.now, learner_id=4242)
    report = await bridges.next_day_at(DUE)
    assert (report.blocked, report.unknown) == (1, 0)
    [(state, _, failure)] = await _deliveries(bridges, 4242)
    assert state == "failed" and failure and "chat not found" in failure.lower()
    learner = await bridges.repo.get_learner(4242)
    assert learner is not None and learner.status == LearnerStatus.BLOCKED


async def test_a_stopped_learner_who_blocks_stays_stopped(bridges: Bridges, sandbox: Sandbox):
    alex = await _due_learner(bridges, sandbox)
    assert bridges.app is not None and bridges.repo is not None
    services = bridges.app.bot_data.services
    bridges.clock.now = DUE
    # The tick has claimed Alex's lesson when he says /stop and blocks the bot.
    [claim] = await bridges.repo.claim_due(DUE, services.delivery.outline)
    await bridges.say(alex, "/stop")
    alex.blocked = True
    result = await services.delivery.deliver(claim, bridges.clock)
    assert result.status == "blocked"
    assert (await _deliveries(bridges, 1001))[0][0] == "failed"
    learner = await bridges.repo.get_learner(1001)
    assert learner is not None and learner.status == LearnerStatus.STOPPED
