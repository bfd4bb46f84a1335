"""The repository on both engines: schedule, exactly-once delivery, answers, streaks, pause."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text

from scheduler.states import DeliveryState, LearnerStatus, Step
from storage.repo import DEFAULT_LEASE, MAX_RESENDS, Repo
from tests.helpers import COURSE, SettableClock, make_learner, record_failed, record_sent

# 2026-03-02 06:00 UTC is 07:00 in Amsterdam (CET, UTC+1).


def _accept_all(_lesson_id: str, _value: str) -> bool:
    return True


async def _deliver(repo: Repo, now: datetime) -> list[int]:
    claims = await repo.claim_due(now, COURSE)
    for claim in claims:
        await record_sent(repo, claim, now=now, message_id=1)
    return [claim.delivery_id for claim in claims]


async def test_onboarding_schedules_the_next_local_occurrence(repo: Repo, clock: SettableClock):
    learner = await make_learner(repo, clock.now, zone="Europe/Amsterdam", daily_time=None)
    assert learner.onboarding_step == Step.TIME
    assert learner.next_due_at is None
    await repo.set_daily_time(learner.id, "08:00", clock.now)
    learner = await repo.get_learner(learner.id)
    assert learner is not None
    assert learner.onboarding_step == Step.DONE
    assert learner.next_due_at == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


async def test_claim_reserves_once_and_advances_to_tomorrow(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    assert await repo.claim_due(clock.now, COURSE) == []  # not due yet
    clock.now = datetime(2026, 3, 2, 7, 0, 5, tzinfo=UTC)
    claims = await repo.claim_due(clock.now, COURSE)
    assert [claim.lesson_id for claim in claims] == ["opening-1"]
    assert claims[0].local_date == date(2026, 3, 2)
    assert await repo.claim_due(clock.now, COURSE) == []  # a second tick finds nothing
    learner = await repo.get_learner(1001)
    assert learner is not None
    assert learner.next_due_at == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)


async def test_after_downtime_one_lesson_not_a_pile(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    later = clock.now + timedelta(days=5, hours=3)
    assert len(await _deliver(repo, later)) == 1
    assert await repo.claim_due(later, COURSE) == []
    progress = await repo.progress(1001)
    assert progress is not None
    assert progress.delivered == ["opening-1"]


async def test_course_moves_on_only_after_a_sent_lesson(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    day1 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    [claim] = await repo.claim_due(day1, COURSE)
    await record_failed(repo, claim, reason="network down")
    day2 = day1 + timedelta(days=1)
    [again] = await repo.claim_due(day2, COURSE)
    assert again.lesson_id == "opening-1"  # the failed lesson is tried again, same row
    assert again.delivery_id == claim.delivery_id
    await record_sent(repo, again, now=day2, message_id=5)
    [third] = await repo.claim_due(day2 + timedelta(days=1), COURSE)
    assert third.lesson_id == "empathy-1"


async def test_expired_lease_is_sent_again_then_given_up(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    day1 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    [claim] = await repo.claim_due(day1, COURSE)
    assert await repo.claim_due(day1 + timedelta(seconds=30), COURSE) == []  # lease still held
    at = day1
    for resend in range(1, MAX_RESENDS + 1):
        at += DEFAULT_LEASE + timedelta(seconds=1)
        [lost] = await repo.claim_due(at, COURSE)
        assert (lost.delivery_id, lost.resend) == (claim.delivery_id, True)
        assert lost.attempt == claim.attempt + resend  # a new fence for every resend
    at += DEFAULT_LEASE + timedelta(seconds=1)
    assert await repo.claim_due(at, COURSE) == []  # given up


async def test_today_counts_once_and_moves_the_next_lesson_to_tomorrow(
    repo: Repo, clock: SettableClock
):
    await make_learner(repo, clock.now, daily_time="20:00")
    first = await repo.deliver_today(1001, clock.now, COURSE)
    assert first.kind == "new" and first.claim is not None
    await record_sent(repo, first.claim, now=clock.now, message_id=1)
    second = await repo.deliver_today(1001, clock.now + timedelta(hours=1), COURSE)
    assert second.kind == "again" and second.claim is not None
    assert second.claim.delivery_id == first.claim.delivery_id
    # 20:00 today has not come yet, but today's lesson is out: the tick waits for tomorrow.
    assert await repo.claim_due(datetime(2026, 3, 2, 19, 0, 1, tzinfo=UTC), COURSE) == []
    [tomorrow] = await repo.claim_due(datetime(2026, 3, 3, 19, 0, 1, tzinfo=UTC), COURSE)
    assert tomorrow.lesson_id == "empathy-1"


async def test_today_before_onboarding_is_not_ready(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now, daily_time=None)
    assert (await repo.deliver_today(1001, clock.now, COURSE)).kind == "not_ready"


async def test_finished_course_stops_the_schedule(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    now = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    for _ in COURSE:
        assert len(await _deliver(repo, now)) == 1
        now += timedelta(days=1)
    learner = await repo.get_learner(1001)
    assert learner is not None and learner.next_due_at is None
    assert (await repo.deliver_today(1001, now, COURSE)).kind == "finished"


async def test_answers_count_once_and_only_while_open(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    day1 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    [first] = await _deliver(repo, day1)
    outcome = await repo.record_answer(1001, first, "tried", day1, accepts=_accept_all)
    assert outcome.status == "recorded" and outcome.streaks.current == 1
    again = await repo.record_answer(1001, first, "tried", day1, accepts=_accept_all)
    assert again.status == "already"
    await _deliver(repo, day1 + timedelta(days=1))
    # The first check-in closed when the second lesson came; its answer still stands.
    progress = await repo.progress(1001)
    assert progress is not None and progress.answers == 1


async def test_stale_and_forged_answers_change_nothing(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    await make_learner(repo, clock.now, learner_id=2002)
    day1 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    first, other = await _deliver(repo, day1)
    forged = await repo.record_answer(1001, other, "3", day1, accepts=_accept_all)
    assert forged.status == "unknown"
    refused = await repo.record_answer(1001, first, "x", day1, accepts=lambda _l, _v: False)
    assert refused.status == "unknown"
    await _deliver(repo, day1 + timedelta(days=1))
    stale = await repo.record_answer(1001, first, "3", day1, accepts=_accept_all)
    assert stale.status == "closed"
    progress = await repo.progress(1001)
    assert progress is not None and progress.answers == 0


async def test_free_text_answers_only_an_open_text_checkin(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    day = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    await _deliver(repo, day)  # opening-1: a choice check-in
    assert (await repo.record_text_answer(1001, "hello", day)).status == "closed"
    await _deliver(repo, day + timedelta(days=1))
    await _deliver(repo, day + timedelta(days=2))  # empathy-2: text
    long_text = "<&>🙂" * 2000
    outcome = await repo.record_text_answer(1001, long_text, day + timedelta(days=2))
    assert outcome.status == "recorded" and outcome.lesson_id == "empathy-2"
    recalled, private = await repo.recalled_answers(1001, ["empathy-2", "empathy-1"])
    assert recalled == {"empathy-2": long_text[:4096]}
    assert private == frozenset()
    # The answer is full: more words are kept as a note on the day, never thrown away.
    assert (await repo.record_text_answer(1001, "more", day)).status == "noted"
    exported = await repo.export(1001)
    assert exported is not None
    kept = exported["deliveries"][-1]["messages"]
    assert [(m["role"], m["words"]) for m in kept] == [
        ("answer", long_text[:4096]),
        ("note", "more"),
    ]


async def test_streak_counts_answered_lesson_days(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    day = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    streaks = []
    for answered in (True, False, True, True):
        [delivery] = await _deliver(repo, day)
        if answered:
            outcome = await repo.record_answer(1001, delivery, "1", day, accepts=_accept_all)
            streaks.append(outcome.streaks)
        day += timedelta(days=1)
    assert [(s.current, s.longest) for s in streaks] == [(1, 1), (1, 1), (2, 2)]


async def test_pause_skips_days_without_breaking_the_streak(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    day = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    [delivery] = await _deliver(repo, day)
    await repo.record_answer(1001, delivery, "1", day, accepts=_accept_all)
    paused = await repo.pause(1001, day + timedelta(hours=1))
    assert paused is not None and paused.next_due_at is None
    assert await repo.claim_due(day + timedelta(days=3), COURSE) == []
    resumed, was_paused = await repo.resume(1001, day + timedelta(days=4))
    assert was_paused and resumed is not None
    assert resumed.next_due_at == datetime(2026, 3, 7, 7, 0, tzinfo=UTC)
    [next_delivery] = await _deliver(repo, datetime(2026, 3, 7, 7, 0, tzinfo=UTC))
    outcome = await repo.record_answer(
        1001, next_delivery, "2", datetime(2026, 3, 7, 8, 0, tzinfo=UTC), accepts=_accept_all
    )
    assert outcome.streaks.current == 2


async def test_timed_pause_resumes_by_itself(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    now = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
    paused = await repo.pause(1001, now, days=7)
    assert paused is not None and paused.paused_until == now + timedelta(days=7)
    assert paused.next_due_at == datetime(2026, 3, 9, 7, 0, tzinfo=UTC)  # 7 days skipped
    assert await repo.claim_due(datetime(2026, 3, 5, 7, 0, tzinfo=UTC), COURSE) == []
    [claim] = await repo.claim_due(datetime(2026, 3, 9, 7, 0, tzinfo=UTC), COURSE)
    assert claim.lesson_id == "opening-1"
    learner = await repo.get_learner(1001)
    assert learner is not None and learner.paused_since is None


async def test_stop_keeps_data_and_start_brings_back(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    stopped = await repo.stop(1001)
    assert stopped is not None and stopped.status == LearnerStatus.STOPPED
    assert await repo.claim_due(clock.now + timedelta(days=1), COURSE) == []
    back, created = await repo.start_learner(1001, first_name="Alex", language="en", now=clock.now)
    assert not created and back.next_due_at is not None and back.daily_time == "08:00"


async def test_blocked_learner_is_skipped(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    [claim] = await repo.claim_due(datetime(2026, 3, 2, 7, 0, tzinfo=UTC), COURSE)
    await record_failed(repo, claim, reason="Forbidden", blocked=True)
    learner = await repo.get_learner(1001)
    assert learner is not None and learner.status == LearnerStatus.BLOCKED
    assert await repo.claim_due(datetime(2026, 3, 9, 7, 0, tzinfo=UTC), COURSE) == []


async def test_delete_erases_every_row(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    day = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    [delivery] = await _deliver(repo, day)
    await repo.record_answer(1001, delivery, "1", day, accepts=_accept_all)
    assert await repo.delete_learner(1001, day)
    async with repo.engine.connect() as connection:
        for table in ("learner", "delivery", "answer"):
            count = (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar()  # noqa: S608
            assert count == 0, table
    assert not await repo.delete_learner(1001, day)


async def test_concurrent_claims_never_deliver_twice(repo: Repo, clock: SettableClock):
    for learner_id in range(1, 41):
        await make_learner(repo, clock.now, learner_id=learner_id)
    due = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    other = Repo(repo.engine)
    batches = await asyncio.gather(
        *(r.claim_due(due, COURSE, batch=7) for r in (repo, other, repo, other) for _ in range(3))
    )
    claimed = [claim.learner_id for batch in batches for claim in batch]
    assert sorted(claimed) == list(range(1, 41))


async def test_times_come_back_aware_utc(repo: Repo, clock: SettableClock):
    learner = await make_learner(repo, clock.now, zone="Asia/Kathmandu", daily_time="07:30")
    assert learner.next_due_at is not None
    assert learner.next_due_at.tzinfo is not None
    assert learner.next_due_at.utcoffset() == timedelta(0)
    assert learner.next_due_at == datetime(2026, 3, 3, 1, 45, tzinfo=UTC)
    progress = await repo.progress(learner.id)
    assert progress is not None and progress.learner.next_due_at == learner.next_due_at
    assert DeliveryState.SENT == "sent"


async def test_one_unschedulable_learner_does_not_stop_the_others(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now, learner_id=1)
    await make_learner(repo, clock.now, learner_id=2)
    async with repo.engine.begin() as connection:
        await connection.execute(text("UPDATE learner SET timezone = 'Gone/Zone' WHERE id = 1"))
    claims = await repo.claim_due(datetime(2026, 3, 2, 7, 0, tzinfo=UTC), COURSE)
    assert [claim.learner_id for claim in claims] == [2]
    broken = await repo.get_learner(1)
    assert broken is not None and broken.next_due_at is None  # set aside, not retried every tick


async def test_a_failed_lesson_leaves_the_previous_checkin_open(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    day1 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    [first] = await _deliver(repo, day1)
    [second] = await repo.claim_due(day1 + timedelta(days=1), COURSE)
    # While day 2 is still being sent, and after it failed, day 1 can still be answered.
    outcome = await repo.record_answer(1001, first, "2", day1, accepts=_accept_all)
    assert outcome.status == "recorded"
    await record_failed(repo, second, reason="timed out")
    again = await repo.record_answer(1001, first, "2", day1, accepts=_accept_all)
    assert again.status == "already"


async def test_today_while_the_tick_is_sending_does_not_send_twice(
    repo: Repo, clock: SettableClock
):
    await make_learner(repo, clock.now)
    due = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    [claim] = await repo.claim_due(due, COURSE)  # reserved, not yet marked sent
    outcome = await repo.deliver_today(1001, due, COURSE)
    assert outcome.kind == "sending" and outcome.claim is None


async def test_a_stopped_learner_stays_stopped_after_block_and_unblock(
    repo: Repo, clock: SettableClock
):
    await make_learner(repo, clock.now)
    await repo.stop(1001)
    await repo.mark_blocked(1001)
    back = await repo.mark_unblocked(1001, clock.now)
    assert back is not None and back.status == LearnerStatus.STOPPED and back.next_due_at is None
    await make_learner(repo, clock.now, learner_id=2002)
    await repo.mark_blocked(2002)
    unblocked = await repo.mark_unblocked(2002, clock.now)
    assert unblocked is not None and unblocked.status == "active"
    assert unblocked.next_due_at is not None


async def test_an_edit_from_before_a_restart_updates_that_round_only(
    repo: Repo, clock: SettableClock
):
    """Words kept in round 1 and edited after /restart: the round-1 words change (the old
    ones stay in the history), round 2's day is untouched."""
    await make_learner(repo, clock.now)
    day = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    await _deliver(repo, day)
    assert (await repo.keep_note(1001, "first try", day, message_id=7)).kept
    assert await repo.restart(1001, day, course_length=1) == "restarted"
    await _deliver(repo, day + timedelta(days=1))  # round 2, day 1
    assert (await repo.keep_note(1001, "round two", day + timedelta(days=1), message_id=9)).kept
    assert await repo.edit_kept(1001, 7, "first try, fixed", day + timedelta(days=1)) == "note"
    assert await repo.edit_kept(1001, 7, "first try, fixed", day + timedelta(days=1)) == "same"
    assert await repo.edit_kept(1001, 8, "never kept", day) == "unknown"
    exported = await repo.export(1001)
    assert exported is not None
    first, second = exported["deliveries"]
    assert (first["round"], second["round"]) == (1, 2)
    [note] = first["messages"]
    assert note["words"] == "first try, fixed" and note["edited_at"] is not None
    assert [edit["words"] for edit in note["before_edits"]] == ["first try"]
    assert [m["words"] for m in second["messages"]] == ["round two"]


async def test_an_edited_part_of_an_answer_updates_the_answer(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    day = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    for offset in range(3):
        await _deliver(repo, day + timedelta(days=offset))  # day 3, empathy-2: text
    now = day + timedelta(days=2, hours=1)
    await repo.record_text_answer(1001, "I asked my sistr", now, message_id=20)
    await repo.record_text_answer(1001, "she called back", now, message_id=21)
    assert await repo.edit_kept(1001, 20, "I asked my sister", now) == "answer"
    recalled, _private = await repo.recalled_answers(1001, ["empathy-2"])
    assert recalled == {"empathy-2": "I asked my sister\n\nshe called back"}
    # An edit that speaks of harm makes the whole answer private.
    assert await repo.edit_kept(1001, 21, "he hit me", now, private=True) == "answer"
    recalled, private = await repo.recalled_answers(1001, ["empathy-2"])
    assert recalled == {"empathy-2": "I asked my sister\n\nhe hit me"}
    assert private == frozenset({"empathy-2"})


async def test_delete_erases_kept_messages_and_their_edits(repo: Repo, clock: SettableClock):
    await make_learner(repo, clock.now)
    day = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    await _deliver(repo, day)
    assert (await repo.keep_note(1001, "a note", day, message_id=7)).kept
    assert await repo.edit_kept(1001, 7, "a note, edited", day) == "note"
    assert await repo.delete_learner(1001, day)
    async with repo.engine.connect() as connection:
        for table in ("kept_message", "message_edit"):
            count = await connection.execute(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
            assert count.scalar() == 0
    assert not (await repo.keep_note(1001, "a stranger's words", day)).kept  # nobody to keep for
