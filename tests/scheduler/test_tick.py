"""The tick's hot path on the real repository with a scripted `Send`: every outcome and fault.

The `Send` here is a test double at the protocol seam (scheduler.tick.Send);
what python-telegram-bot raises for each Telegram answer is tested against the
sandbox in tests/bot and tests/e2e.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from lessons.loader import Course, load_course
from lessons.render import RenderedLesson, Renderer
from scheduler.claims import DEFAULT_LEASE, Claim, Outcome
from scheduler.delivery import DeliveryService, SendResult, course_outline
from scheduler.states import ClaimKind, DeliveryState, SendStatus
from scheduler.tick import run_tick
from storage.repo import Repo
from tests.helpers import SettableClock, make_learner, record_sent

DUE = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 in Amsterdam
COURSE: Course = load_course()


class ScriptedSend:
    """Answers each send with `outcome(claim)`; records who was sent what."""

    def __init__(self, outcome: Callable[[Claim], SendResult]) -> None:
        self.outcome = outcome
        self.sent: list[Claim] = []

    async def __call__(
        self, claim: Claim, rendered: RenderedLesson, *, bulk: bool = True
    ) -> SendResult:
        self.sent.append(claim)
        return self.outcome(claim)


def _service(repo: Repo, send: ScriptedSend) -> DeliveryService:
    return DeliveryService(repo, Renderer(COURSE), send)


async def _states(repo: Repo) -> dict[int, str]:
    async with repo.engine.connect() as connection:
        rows = await connection.exec_driver_sql("SELECT learner_id, state FROM delivery")
        return {int(learner): str(state) for learner, state in rows.all()}


async def test_a_lost_reply_stays_sending_and_the_lease_sends_it_once_more(
    repo: Repo, clock: SettableClock
):
    await make_learner(repo, clock.now)
    lost = ScriptedSend(lambda _: SendResult(SendStatus.UNKNOWN, reason="TimedOut"))
    clock.now = DUE
    report = await run_tick(clock, _service(repo, lost))
    assert (report.claimed, report.unknown, report.failed) == (1, 1, 0)
    assert await _states(repo) == {1001: DeliveryState.SENDING}  # not `failed`: it may have arrived
    clock.now = DUE + DEFAULT_LEASE + timedelta(seconds=1)
    delivered = ScriptedSend(lambda _: SendResult(SendStatus.SENT, message_id=9))
    report = await run_tick(clock, _service(repo, delivered))
    assert (report.claimed, report.resent, report.sent) == (1, 1, 1)
    assert await _states(repo) == {1001: DeliveryState.SENT}


async def test_definite_refusals_are_recorded_and_one_learner_never_stops_the_others(
    repo: Repo, clock: SettableClock
):
    for learner_id in (1, 2, 3, 4):
        await make_learner(repo, clock.now, learner_id=learner_id)
    outcomes = {
        1: SendResult(SendStatus.SENT, message_id=1),
        2: SendResult(SendStatus.BLOCKED, reason="Forbidden: bot was blocked by the user"),
        3: SendResult(SendStatus.FAILED, reason="Bad Request: message is too long"),
    }

    def outcome(claim: Claim) -> SendResult:
        if claim.learner_id == 4:
            raise RuntimeError("a bug in one send")
        return outcomes[claim.learner_id]

    clock.now = DUE
    report = await run_tick(clock, _service(repo, ScriptedSend(outcome)))
    assert (report.sent, report.blocked, report.failed, report.unknown) == (1, 1, 1, 1)
    assert await _states(repo) == {
        1: DeliveryState.SENT,
        2: DeliveryState.FAILED,
        3: DeliveryState.FAILED,
        4: DeliveryState.SENDING,  # an exception is an unknown outcome: the lease decides
    }


async def test_a_record_that_fails_does_not_abort_the_tick(repo: Repo, clock: SettableClock):
    for learner_id in (1, 2):
        await make_learner(repo, clock.now, learner_id=learner_id)
    original = repo.record_outcome

    async def flaky_record(claim: Claim, outcome: Outcome) -> bool:
        if claim.learner_id == 1:
            raise ConnectionResetError("database went away")
        return await original(claim, outcome)

    repo.record_outcome = flaky_record  # type: ignore[method-assign]
    clock.now = DUE
    sent = ScriptedSend(lambda _: SendResult(SendStatus.SENT, message_id=3))
    report = await run_tick(clock, _service(repo, sent))
    assert report.sent == 2 and len(sent.sent) == 2 and report.unrecorded == 1
    assert await _states(repo) == {1: DeliveryState.SENDING, 2: DeliveryState.SENT}


async def test_stopping_hands_back_what_it_has_not_sent_and_claims_nothing_more(
    repo: Repo, clock: SettableClock
):
    for learner_id in range(1, 7):
        await make_learner(repo, clock.now, learner_id=learner_id)
    service: DeliveryService

    def outcome(_: Claim) -> SendResult:
        service.stopping.set()  # SIGTERM arrives while the first send is in flight
        return SendResult(SendStatus.SENT, message_id=1)

    send = ScriptedSend(outcome)
    service = _service(repo, send)
    clock.now = DUE
    report = await run_tick(clock, service, batch=4, concurrency=1)
    assert report.stopped and (report.claimed, report.sent, report.released) == (4, 1, 3)
    states = await _states(repo)
    assert sorted(states.values()) == [DeliveryState.SENDING] * 3 + [DeliveryState.SENT]
    # The next process to tick sends the three handed back at once (same day, no lease wait)
    # and the two never claimed; nothing twice.
    again = ScriptedSend(lambda _: SendResult(SendStatus.SENT, message_id=2))
    report = await run_tick(clock, _service(repo, again))
    assert (report.claimed, report.sent, report.resent) == (5, 5, 3)
    assert sorted(c.learner_id for c in send.sent + again.sent) == [1, 2, 3, 4, 5, 6]
    assert set((await _states(repo)).values()) == {DeliveryState.SENT}


async def test_a_spent_time_budget_leaves_the_rest_to_the_next_tick(
    repo: Repo, clock: SettableClock
):
    for learner_id in range(1, 6):
        await make_learner(repo, clock.now, learner_id=learner_id)
    send = ScriptedSend(lambda _: SendResult(SendStatus.SENT, message_id=1))
    clock.now = DUE
    first = await run_tick(clock, _service(repo, send), batch=2, budget_s=0.0)
    assert first.stopped and first.claimed == 0
    second = await run_tick(clock, _service(repo, send), batch=2)
    assert second.claimed == 5 and not second.stopped


async def test_the_tick_reports_how_late_its_oldest_due_learner_is(
    repo: Repo, clock: SettableClock
):
    await make_learner(repo, clock.now)
    clock.now = DUE + timedelta(minutes=3)
    send = ScriptedSend(lambda _: SendResult(SendStatus.SENT, message_id=1))
    report = await run_tick(clock, _service(repo, send))
    assert report.lateness_s == 180.0
    assert report.lateness == [180.0]


async def test_leases_are_renewed_while_a_slow_batch_is_in_flight(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    clock.now = DUE
    release = asyncio.Event()
    renewed = asyncio.Event()
    original = repo.renew_leases

    async def watching_renew(claims: list[Claim], now: datetime) -> None:
        await original(claims, now)
        renewed.set()

    repo.renew_leases = watching_renew  # type: ignore[method-assign]

    class SlowSend(ScriptedSend):
        async def __call__(
            self, claim: Claim, rendered: RenderedLesson, *, bulk: bool = True
        ) -> SendResult:
            await release.wait()
            return SendResult(SendStatus.SENT, message_id=1)

    tick = asyncio.create_task(
        run_tick(
            clock,
            _service(repo, SlowSend(lambda _: SendResult(SendStatus.SENT))),
            lease=timedelta(seconds=0.3),
        )
    )
    async with asyncio.timeout(10):
        await renewed.wait()  # renewed every third of the lease while the send hangs
    release.set()
    report = await tick
    assert report.sent == 1


def test_the_outline_is_the_course_in_order():
    outline = course_outline(COURSE)
    assert [entry.lesson_id for entry in outline] == [lesson.id for lesson in COURSE.lessons["en"]]


async def test_a_lesson_removed_after_its_claim_is_not_replaced_by_another(
    repo: Repo, clock: SettableClock
):
    await make_learner(repo, clock.now)
    clock.now = DUE
    [claim] = await repo.claim_due(DUE, course_outline(COURSE))
    gone = Claim(**{**claim.__dict__, "lesson_id": "removed-1"})
    send = ScriptedSend(lambda _: SendResult(SendStatus.SENT, message_id=1))
    result = await _service(repo, send).deliver(gone, clock)
    assert result.status == SendStatus.FAILED and send.sent == []


async def test_the_send_window_opens_only_as_far_as_the_backlog_needs(
    repo: Repo, clock: SettableClock
):
    for learner_id in range(1, 4):
        await make_learner(repo, clock.now, learner_id=learner_id)
    send = ScriptedSend(lambda _: SendResult(SendStatus.SENT, message_id=1))
    clock.now = DUE - timedelta(minutes=5)
    # Three learners take a tenth of a second at 30 a second: no reason to start early.
    report = await run_tick(clock, _service(repo, send), early=timedelta(minutes=10))
    assert report.claimed == 0
    # At one a minute, three learners take three minutes: start a minute and a half early.
    report = await run_tick(
        clock, _service(repo, send), early=timedelta(minutes=10), per_second=1 / 60
    )
    assert report.claimed == 0  # five minutes before is still too early
    clock.now = DUE - timedelta(seconds=80)
    report = await run_tick(
        clock, _service(repo, send), early=timedelta(minutes=10), per_second=1 / 60
    )
    assert report.claimed == 3


async def test_each_recorded_outcome_is_reported_as_it_happens(repo: Repo, clock: SettableClock):
    """Metrics move during a long tick, not only at its end (and a killed tick still counted)."""
    await make_learner(repo, clock.now)
    seen: list[tuple[str, bool]] = []
    service = DeliveryService(
        repo,
        Renderer(COURSE),
        ScriptedSend(lambda _: SendResult(SendStatus.SENT, message_id=1)),
        on_outcome=lambda status, resend: seen.append((str(status), resend)),
    )
    clock.now = DUE
    await run_tick(clock, service)
    assert seen == [("sent", False)]


async def test_stopping_still_sends_the_auto_pause_notes_it_claimed(
    repo: Repo, clock: SettableClock
):
    """The pause is committed with the claim: a note handed back would be lost for good."""
    for learner_id in (1, 2):
        await make_learner(repo, clock.now, learner_id=learner_id)
    claims = await repo.claim_due(DUE, course_outline(COURSE))
    assert len(claims) == 2
    for claim in claims:
        assert await record_sent(repo, claim, now=DUE, message_id=1)
    service: DeliveryService

    def outcome(_: Claim) -> SendResult:
        service.stopping.set()  # SIGTERM arrives while the first note is in flight
        return SendResult(SendStatus.SENT, message_id=2)

    send = ScriptedSend(outcome)
    service = DeliveryService(repo, Renderer(COURSE), send, auto_pause_after=1)
    clock.now = DUE + timedelta(days=1)
    report = await run_tick(clock, service, concurrency=1)
    assert [claim.kind for claim in send.sent] == [ClaimKind.PAUSE_NOTE] * 2
    assert (report.sent, report.released) == (2, 0)


async def test_a_follow_up_taken_over_after_its_lease_is_not_counted_recorded(
    repo: Repo, clock: SettableClock
):
    await make_learner(repo, clock.now, checkin_time="20:00")
    (lesson,) = await repo.claim_due(DUE, course_outline(COURSE))
    assert await record_sent(repo, lesson, now=DUE, message_id=1)
    evening = DUE + timedelta(hours=12)
    (held,) = await repo.claim_due(evening, course_outline(COURSE))
    (taken,) = await repo.claim_due(evening + DEFAULT_LEASE * 2, course_outline(COURSE))
    assert taken.kind == ClaimKind.CHECKIN and taken.attempt == held.attempt + 1
    service = _service(repo, ScriptedSend(lambda _: SendResult(SendStatus.SENT)))
    assert not await service.record(held, SendResult(SendStatus.SENT, message_id=3), clock)
    assert await service.record(taken, SendResult(SendStatus.SENT, message_id=4), clock)


async def test_a_lesson_taken_over_after_its_lease_is_neither_recorded_nor_counted(
    repo: Repo, clock: SettableClock
):
    await make_learner(repo, clock.now)
    (held,) = await repo.claim_due(DUE, course_outline(COURSE))
    (taken,) = await repo.claim_due(DUE + DEFAULT_LEASE * 2, course_outline(COURSE))
    assert taken.kind == ClaimKind.LESSON and taken.attempt == held.attempt + 1
    counted: list[tuple[SendStatus, bool]] = []
    service = DeliveryService(
        repo,
        Renderer(COURSE),
        ScriptedSend(lambda _: SendResult(SendStatus.SENT)),
        on_outcome=lambda status, resend: counted.append((status, resend)),
    )
    late = await service.deliver(held, clock)  # the stale holder's send
    assert late.status == SendStatus.SENT and not late.recorded
    assert counted == []  # the metrics count only what was stored
    assert (await service.deliver(taken, clock)).recorded
    assert counted == [(SendStatus.SENT, True)]


async def test_rendering_reads_nothing_but_the_claim(repo: Repo, clock: SettableClock):
    """Recalled answers come with the claim: the delivery renders without the database."""
    review = next(lesson for lesson in COURSE.lessons["en"] if len(lesson.recall) > 1)
    answers = {lesson_id: "my own <words>" for lesson_id in review.recall}

    class NoDatabase:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"rendering asked storage for {name}")

    service = DeliveryService(
        NoDatabase(), Renderer(COURSE), ScriptedSend(lambda _: SendResult(SendStatus.SENT))
    )
    claim = Claim(
        delivery_id=1,
        attempt=1,
        learner_id=1,
        first_name="Alex",
        language="en",
        lesson_id=review.id,
        lesson_day=1,
        local_date=DUE.date(),
        recalls=answers,
    )
    rendered = service.render(claim)
    assert "my own &lt;words&gt;" in rendered.lesson_html


async def test_the_send_window_leaves_out_the_spread_the_learners_chose(
    repo: Repo, clock: SettableClock
):
    """Due across two minutes, four learners at one a minute need only one minute early."""
    for learner_id, daily in ((1, "08:00"), (2, "08:00"), (3, "08:02"), (4, "08:02")):
        await make_learner(repo, clock.now, learner_id=learner_id, daily_time=daily)
    send = ScriptedSend(lambda _: SendResult(SendStatus.SENT, message_id=1))
    clock.now = DUE - timedelta(seconds=70)  # (4 min of sending - 2 min of spread) / 2 = 60 s
    report = await run_tick(
        clock, _service(repo, send), early=timedelta(minutes=10), per_second=1 / 60
    )
    assert report.claimed == 0
    clock.now = DUE - timedelta(seconds=50)
    report = await run_tick(
        clock, _service(repo, send), early=timedelta(minutes=10), per_second=1 / 60
    )
    assert report.claimed == 2  # the two due at 08:00; the 08:02 ones wait their turn
