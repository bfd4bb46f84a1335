"""The sandbox's faults, flood modes, auto users and measurements, through the real PTB client."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import pytest
from telegram import Bot
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bot.tools.sandbox import Sandbox, SandboxUser
from bot.tools.sandbox.faults import Fault
from bot.tools.sandbox.limits import StrictFloodControl
from tests.bot.tools.sandbox.support import FakeClock, retry_seconds

# -- 5xx ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "description"), [(500, "Internal"), (502, "Bad Gateway")])
async def test_5xx_is_a_network_error_and_nothing_is_sent(
    bot: Bot, sandbox: Sandbox, alex: SandboxUser, status: int, description: str
) -> None:
    sandbox.add_fault("sendMessage", "error", status=status, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match=description) as caught:
            await bot.send_message(alex.id, "lost")
        assert not isinstance(caught.value, TimedOut)
    assert alex.inbox == []
    await bot.send_message(alex.id, "third time lucky")  # the fault is used up
    assert [m.text for m in alex.inbox] == ["third time lucky"]
    failed = sandbox.calls("sendMessage")[0]
    assert (failed.status, failed.fault) == (status, "error")
    assert sandbox.counters.injected_errors == 2
    assert sandbox.stats()["statuses"][str(status)] == 2
    assert sandbox.faults == []


async def test_faults_touch_only_their_method_and_star_touches_all(
    bot: Bot, sandbox: Sandbox, alex: SandboxUser
) -> None:
    sandbox.add_fault("sendMessage", "error")
    await bot.get_me()  # another method is untouched
    with pytest.raises(NetworkError):
        await bot.send_message(alex.id, "x")
    sandbox.add_fault("*", "error")
    with pytest.raises(NetworkError):
        await bot.get_me()
    await bot.get_me()


async def test_probability_faults_repeat_with_the_seed(alex: SandboxUser) -> None:
    async def pattern(seed: int) -> list[bool]:
        async with Sandbox(seed=seed) as sandbox:
            user = sandbox.user(alex.id)
            sandbox.add_fault("sendMessage", "error", count=None, probability=0.5)
            outcome: list[bool] = []
            async with Bot(sandbox.token, base_url=sandbox.base_url) as client:
                for index in range(16):
                    try:
                        await client.send_message(user.id, f"{index}")
                    except NetworkError:
                        outcome.append(False)
                    else:
                        outcome.append(True)
            assert len(user.inbox) == sum(outcome)
            return outcome

    first = await pattern(7)
    assert await pattern(7) == first
    assert 0 < sum(first) < 16


# -- lost replies ---------------------------------------------------------------------------


async def test_dropped_reply_is_a_network_error_but_the_message_arrived(
    bot: Bot, sandbox: Sandbox, alex: SandboxUser
) -> None:
    sandbox.add_fault("sendMessage", "drop")
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(alex.id, "did it go?")
    assert not isinstance(caught.value, TimedOut)
    assert [m.text for m in alex.inbox] == ["did it go?"]
    (record,) = sandbox.calls("sendMessage")
    assert (record.status, record.fault, record.answered) == (200, "drop", None)
    assert sandbox.counters.lost_replies == 1
    await sandbox.wait_idle(timeout=2)
    await bot.send_message(alex.id, "next one is fine")
    assert alex.sent_count == 2


async def test_delayed_reply_times_out_but_the_message_arrived(
    bot: Bot, sandbox: Sandbox, alex: SandboxUser
) -> None:
    sandbox.add_fault("sendMessage", "delay", delay=60)
    with pytest.raises(TimedOut):
        await bot.send_message(alex.id, "maybe delivered", read_timeout=0.2)
    assert [m.text for m in alex.inbox] == ["maybe delivered"]
    # The held reply is not "in flight": the call is done, only the client does not know.
    await sandbox.wait_idle(timeout=2)
    assert sandbox.stats()["lost_replies"] == 1
    # stop() releases the held reply at once instead of after 60 s.
    await asyncio.wait_for(sandbox.stop(), 10)


# -- 409 ------------------------------------------------------------------------------------


async def test_second_long_poller_ends_the_first_with_conflict(
    bot: Bot, sandbox: Sandbox, alex: SandboxUser
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await sandbox.wait_idle(extra=lambda: len(sandbox.calls("getUpdates")) == 1)
    assert not first.done()
    async with Bot(sandbox.token, base_url=sandbox.base_url) as other:
        assert await other.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(first, 5)
        alex.send("who gets me?")
        (update,) = await other.get_updates(timeout=5)
    assert update.message is not None
    assert update.message.text == "who gets me?"
    assert sandbox.counters.conflicts == 1
    statuses = [call.status for call in sandbox.calls("getUpdates")]
    assert statuses == [409, 200, 200]  # recorded in arrival order; the first ended 409


async def test_one_poller_at_a_time_has_no_conflict(bot: Bot, sandbox: Sandbox) -> None:
    for _ in range(3):
        assert await bot.get_updates(timeout=0) == ()
    assert sandbox.counters.conflicts == 0


# -- 403 / 400 and auto users ---------------------------------------------------------------


async def test_auto_users_are_created_on_first_send() -> None:
    async with Sandbox(auto_users=True) as sandbox:  # noqa: SIM117 - the client closes first
        async with Bot(sandbox.token, base_url=sandbox.base_url) as client:
            sent = await client.send_message(100_001, "hello, new learner")
            assert sent.chat.id == 100_001
            await client.send_message(100_001, "again")
            await client.send_message(100_002, "you too")
            with pytest.raises(BadRequest, match="Chat not found"):
                await client.send_message(-100, "a group nobody created")
            sandbox.user(100_003).block()
            with pytest.raises(Forbidden, match="blocked"):
                await client.send_message(100_003, "blocked stays blocked")
        assert [m.text for m in sandbox.users[100_001].inbox] == ["hello, new learner", "again"]
        assert sandbox.message_counts() == {100_001: 2, 100_002: 1}
        sandbox.auto_users = False
        async with Bot(sandbox.token, base_url=sandbox.base_url) as client:
            with pytest.raises(BadRequest, match="Chat not found"):
                await client.send_message(100_004, "off again")


async def test_message_counts_survive_deletes(
    bot: Bot, sandbox: Sandbox, alex: SandboxUser
) -> None:
    sent = await bot.send_message(alex.id, "one")
    await bot.send_message(alex.id, "two")
    await bot.delete_message(alex.id, sent.message_id)
    assert len(alex.inbox) == 1
    assert sandbox.message_counts() == {alex.id: 2}


# -- flood modes ----------------------------------------------------------------------------


async def test_strict_mode_allows_30_in_a_sliding_second() -> None:
    clock = FakeClock()
    async with Sandbox(flood="strict", clock=clock) as sandbox:  # noqa: SIM117
        async with Bot(sandbox.token, base_url=sandbox.base_url) as client:
            for chat in range(1, 31):
                sandbox.user(chat)
                await client.send_message(chat, "hi")
                clock.now += 0.01
            sandbox.user(31)
            with pytest.raises(RetryAfter) as caught:
                await client.send_message(31, "one too many")
            assert retry_seconds(caught.value) == 1
            clock.now = 1000.0 + 0.999  # the first send is still inside the window
            with pytest.raises(RetryAfter):
                await client.send_message(31, "still too many")
            clock.now = 1000.0 + 1.0  # the first send has left the window: one slot
            await client.send_message(31, "now")
            with pytest.raises(RetryAfter):
                await client.send_message(31, "and no more")
    assert sandbox.counters.flood_refusals == 3
    assert sandbox.stats()["flood_refusals"] == 3


async def test_strict_mode_paces_one_chat_after_its_burst() -> None:
    clock = FakeClock()
    async with Sandbox(flood="strict", strict_chat_burst=2, clock=clock) as sandbox:
        user = sandbox.user(5)
        async with Bot(sandbox.token, base_url=sandbox.base_url) as client:
            await client.send_message(user.id, "1")
            await client.send_message(user.id, "2")
            with pytest.raises(RetryAfter) as caught:
                await client.send_message(user.id, "3")
            assert retry_seconds(caught.value) == 1
            clock.now += 1.0
            await client.send_message(user.id, "3")
            with pytest.raises(RetryAfter):
                await client.send_message(user.id, "4")
    assert [m.text for m in user.inbox] == ["1", "2", "3"]


def test_strict_window_never_lets_31_through_in_any_second() -> None:
    clock = FakeClock()
    flood = StrictFloodControl(global_limit=30, chat_burst=1000, clock=clock)
    rng = random.Random(3)  # noqa: S311
    accepted: list[float] = []
    for _ in range(5000):
        clock.now += rng.choice((0.0, 0.001, 0.01, 0.05, 0.2))
        if flood.acquire(rng.randrange(50)) == 0:
            accepted.append(clock.now)
    assert len(accepted) > 300
    spans = [accepted[i + 30] - accepted[i] for i in range(len(accepted) - 30)]
    assert min(spans) >= 1.0


async def test_flood_off_never_answers_429(bot: Bot, sandbox: Sandbox, alex: SandboxUser) -> None:
    sandbox.set_flood("off")
    for index in range(60):
        await bot.send_message(alex.id, f"{index}")
    assert len(alex.inbox) == 60
    assert sandbox.counters.flood_refusals == 0
    sandbox.set_flood("strict", chat_burst=1)
    await bot.send_message(alex.id, "strict again: the burst of one")
    with pytest.raises(RetryAfter):
        await bot.send_message(alex.id, "strict again")
    with pytest.raises(ValueError, match="flood mode"):
        sandbox.set_flood("sometimes")  # type: ignore[arg-type]


# -- measurements ---------------------------------------------------------------------------


async def test_records_and_updates_carry_their_times(
    bot: Bot, sandbox: Sandbox, alex: SandboxUser
) -> None:
    alex.send("/start")
    alex.send("hello?")
    (first, second) = alex.updates
    assert first.kind == "message"
    assert first.created <= second.created
    assert first.created_utc.tzinfo is not None
    assert sandbox.reply_latencies() == []
    await bot.send_message(alex.id, "welcome")
    await bot.get_updates()
    latencies = sandbox.reply_latencies()
    assert len(latencies) == 2  # both waited for the same first answer
    assert all(latency >= 0 for latency in latencies)
    assert latencies[0] >= latencies[1]
    assert alex.last.sent >= second.created
    record = sandbox.calls("sendMessage")[0]
    assert record.answered is not None
    assert record.received <= record.answered
    assert record.received_utc is not None and record.answered_utc is not None
    assert record.received_utc <= record.answered_utc
    assert record.received_utc.utcoffset() == dt.timedelta(0)
    summary = sandbox.stats()["reply_latency"]
    assert summary["count"] == 2
    assert summary["max"] == max(latencies)

    sandbox.reset_stats()
    assert sandbox.requests == type(sandbox.requests)()
    assert sandbox.stats()["requests"] == {}
    assert sandbox.message_counts() == {alex.id: 1}


async def test_record_limit_keeps_the_newest() -> None:
    async with Sandbox(record_limit=3) as sandbox:
        async with Bot(sandbox.token, base_url=sandbox.base_url) as client:
            for _ in range(5):
                await client.get_me()
        assert len(sandbox.requests) == 3
        assert sandbox.stats()["requests"] == {"getMe": 6}  # 5 + the one in Bot.initialize


def test_fault_specs_parse_and_refuse() -> None:
    fault = Fault.from_spec("sendMessage,error,status=502,count=3")
    assert (fault.method, fault.kind, fault.status, fault.count) == ("sendMessage", "error", 502, 3)
    chance = Fault.from_spec("*,delay,delay=5,probability=0.1")
    assert (chance.count, chance.probability, chance.delay) == (None, 0.1, 5.0)
    for bad in ("sendMessage,explode", "sendMessage,error,status=418", "x,drop,count=0", "x"):
        with pytest.raises(ValueError):
            Fault.from_spec(bad)
    with pytest.raises(ValueError, match="unknown fault field"):
        Fault.from_json({"method": "x", "kind": "drop", "often": True})


async def test_slow_client_bot_sees_no_fault_on_other_requests(sandbox: Sandbox) -> None:
    """A fault on one request leaves the pooled connection usable for the next ones."""
    user = sandbox.user(9)
    sandbox.add_fault("sendMessage", "drop")
    request = HTTPXRequest(connection_pool_size=1)
    async with Bot(sandbox.token, base_url=sandbox.base_url, request=request) as client:
        with pytest.raises(NetworkError):
            await client.send_message(user.id, "dropped")
        for index in range(3):
            await client.send_message(user.id, f"after {index}")
    assert user.sent_count == 4
