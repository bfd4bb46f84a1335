"""Together's storage on both engines: invites and links are exactly once under races,
the reveal is once, in each reader's evening, and only for answers given while linked;
a kept answer shows only that it was given; nothing waiting is shown after the link
ended or care began; a lost notice goes again (fenced); /delete erases it all."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from scheduler.claims import CourseEntry, PairNote
from scheduler.states import ClaimKind
from storage.pairs import MISSES_ALLOWED, code_hash, invite_key, new_code, normalise
from storage.repo import Repo
from tests.helpers import COURSE, SettableClock, make_learner, record_sent

DAY1 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def _accept_all(_lesson_id: str, _value: str) -> bool:
    return True


async def _three(repo: Repo, clock: SettableClock) -> None:
    for learner_id, name in ((1, "Alex"), (2, "Sam"), (3, "Kim")):
        await make_learner(repo, clock.now, learner_id=learner_id, first_name=name)


def test_codes_are_long_unambiguous_and_read_back_however_typed():
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200 and all(len(code) == 10 for code in codes)
    assert not any(set(code) & set("01OIL") for code in codes)
    code = next(iter(codes))
    spaced = f" {code[:5].lower()}-{code[5:]} "
    assert normalise(spaced) == code and code_hash(spaced) == code_hash(code)


async def test_codes_are_stored_only_as_an_hmac_under_the_bots_secret(
    repo: Repo, clock: SettableClock
):
    """A copy of the database alone cannot be searched for working codes: the hash is
    keyed by a secret derived from the bot's token, which the database never holds."""
    await _three(repo, clock)
    keyed = Repo(repo.engine, invite_key=invite_key("123456:secret"))
    code = await keyed.create_invite(1, clock.now)
    async with repo.engine.connect() as connection:
        stored = (await connection.execute(text("SELECT code_hash FROM invite"))).scalar()
    assert stored == code_hash(code, invite_key("123456:secret"))
    assert stored not in (code_hash(code), code_hash(code, invite_key("123456:other")))
    assert (await repo.check_invite(2, code, clock.now)).status == "unknown"  # no secret
    assert (await keyed.check_invite(2, code, clock.now)).status == "ok"
    assert (await keyed.link(2, code, clock.now)).status == "ok"


async def test_two_people_accepting_one_invite_at_once_make_one_pair(
    repo: Repo, clock: SettableClock
):
    await _three(repo, clock)
    code = await repo.create_invite(1, clock.now)
    other = Repo(repo.engine)
    sam, kim = await asyncio.gather(repo.link(2, code, clock.now), other.link(3, code, clock.now))
    statuses = sorted([sam.status, kim.status])
    # The second is told the invite was used, or that Alex is now linked: never a second pair.
    assert statuses in (["ok", "used"], ["ok", "taken"])
    async with repo.engine.connect() as connection:
        pairs = await connection.execute(text("SELECT count(*) FROM pair"))
        assert pairs.scalar() == 1


async def test_both_leaving_at_the_same_second_end_the_pair_once(repo: Repo, clock: SettableClock):
    await _three(repo, clock)
    code = await repo.create_invite(1, clock.now)
    assert (await repo.link(2, code, clock.now)).status == "ok"
    other = Repo(repo.engine)
    ended = await asyncio.gather(repo.unlink(1, clock.now), other.unlink(2, clock.now))
    assert len([partner for partner in ended if partner is not None]) == 1  # told once
    assert await repo.partner(1) is None and await repo.partner(2) is None


async def test_a_code_says_what_it_is_and_misses_are_limited(repo: Repo, clock: SettableClock):
    await _three(repo, clock)
    code = await repo.create_invite(1, clock.now)
    assert (await repo.check_invite(1, code, clock.now)).status == "own"
    assert (await repo.check_invite(2, code, clock.now + timedelta(hours=72))).status == "expired"
    checked = await repo.check_invite(2, code, clock.now)
    assert checked.status == "ok" and checked.inviter is not None
    assert checked.inviter.first_name == "Alex"
    newer = await repo.create_invite(1, clock.now)  # a new invite revokes the older one
    assert (await repo.check_invite(2, code, clock.now)).status == "revoked"
    for _ in range(MISSES_ALLOWED):
        assert (await repo.check_invite(3, "ZZZZZZZZZZ", clock.now)).status == "unknown"
    assert (await repo.check_invite(3, newer, clock.now)).status == "limited"
    later = clock.now + timedelta(hours=1)
    assert (await repo.check_invite(3, newer, later)).status == "ok"  # the hour is over


async def _notes(repo: Repo, at: datetime) -> dict[int, list[PairNote]]:
    """The pair notices due by `at`, claimed and recorded sent: reader -> what they show."""
    shown: dict[int, list[PairNote]] = {}
    for claim in await repo.claim_due(at, COURSE):
        if claim.kind == ClaimKind.PAIR_NOTE:
            assert claim.pair_note is not None
            shown.setdefault(claim.learner_id, []).append(claim.pair_note)
            assert await record_sent(repo, claim, now=at, message_id=9)
    return shown


async def _day_one(repo: Repo, clock: SettableClock) -> tuple[dict[int, int], str]:
    """Alex, Sam and Kim, each sent day 1: learner -> delivery id, and the lesson."""
    await _three(repo, clock)
    claims = await repo.claim_due(DAY1, COURSE)
    for claim in claims:
        await record_sent(repo, claim, now=DAY1, message_id=1)
    return {claim.learner_id: claim.delivery_id for claim in claims}, claims[0].lesson_id


async def _both_answered(repo: Repo, clock: SettableClock) -> tuple[dict[int, int], str]:
    """Day one, Alex and Sam linked, both answered it: their reveals wait for tonight."""
    delivery, lesson = await _day_one(repo, clock)
    code = await repo.create_invite(1, DAY1)
    assert (await repo.link(2, code, DAY1)).status == "ok"
    for learner in (1, 2):
        await repo.record_answer(learner, delivery[learner], "sent", DAY1, accepts=_accept_all)
    assert (await repo.reveal(2, lesson, DAY1)) is not None
    return delivery, lesson


async def test_the_reveal_is_once_in_each_evening_and_only_for_answers_given_while_linked(
    repo: Repo, clock: SettableClock
):
    delivery, lesson = await _day_one(repo, clock)
    before = DAY1 + timedelta(minutes=5)
    await repo.record_answer(3, delivery[3], "sent", before, accepts=_accept_all)
    code = await repo.create_invite(1, DAY1 + timedelta(minutes=10))
    assert (await repo.link(3, code, DAY1 + timedelta(minutes=10))).status == "ok"
    now = DAY1 + timedelta(minutes=20)
    await repo.record_answer(1, delivery[1], "not-yet", now, accepts=_accept_all)
    sharing = await repo.reveal(1, lesson, now)
    assert sharing is not None and not sharing.scheduled  # Kim answered before the link
    code = await repo.create_invite(2, now)
    assert (await repo.link(1, code, now)).status == "linked"  # one partner at a time
    await repo.unlink(3, now)
    assert (await repo.link(1, code, now)).status == "ok"
    await repo.record_answer(2, delivery[2], "sent", now, accepts=_accept_all)
    sharing = await repo.reveal(2, lesson, now)
    assert sharing is not None and sharing.scheduled
    assert sharing.partner.first_name == "Alex" and sharing.delivery_id == delivery[2]
    again = await repo.reveal(1, lesson, now)
    assert again is not None and not again.scheduled  # once per pair and lesson
    # The two answers wait for each reader's evening (20:00 in Amsterdam, 19:00 UTC).
    # Kim's "the link has ended" is not sent: Alex linked with Sam meanwhile, and it
    # would read as news of Sam.
    assert await _notes(repo, now + timedelta(minutes=30)) == {}

    async def exchanged(learner_id: int) -> list[dict[str, object]]:
        exported = await repo.export(learner_id)
        assert exported is not None
        return exported["together"]["links"][-1]["answers_shown_to_each_other"]

    assert await exchanged(1) == []  # nothing reached Alex yet: the export says nothing
    evening = DAY1.replace(hour=19)
    shown = await _notes(repo, evening)
    await repo.edit_kept(2, 1, "sent, and more", evening)  # no such kept message: no change
    assert await exchanged(1) == [
        {
            "lesson_id": lesson,
            "shown_on": evening.date().isoformat(),
            "i_shared": "not-yet",
            "kept_to_myself": False,
            "i_was_shown": "sent",
        }
    ]
    assert shown == {
        1: [PairNote("reveal", partner_name="Sam", value="sent")],
        2: [PairNote("reveal", partner_name="Alex", value="not-yet")],
    }
    assert await _notes(repo, evening + timedelta(hours=1)) == {}  # once
    shared = await repo.shared_streak(1)
    assert shared is not None and shared[0].first_name == "Sam" and shared[1] == 1
    assert await repo.delete_learner(2, evening)
    assert await repo.partner(1) is None
    async with repo.engine.connect() as connection:
        pairs = (await connection.execute(text("SELECT count(*) FROM pair"))).scalar()
        reveals = (await connection.execute(text("SELECT count(*) FROM reveal"))).scalar()
    assert (pairs, reveals) == (1, 0)  # only Alex and Kim's ended pair is left
    # Alex hears of the end with the next morning's lesson, not when Sam left.
    assert await _notes(repo, DAY1 + timedelta(days=1)) == {1: [PairNote("ended")]}


async def test_a_kept_answer_shows_only_that_it_was_given_and_not_after_it_was_seen(
    repo: Repo, clock: SettableClock
):
    delivery, lesson = await _day_one(repo, clock)
    code = await repo.create_invite(1, DAY1)
    assert (await repo.link(2, code, DAY1)).status == "ok"
    now = DAY1 + timedelta(hours=11, minutes=55)  # 19:55 in Amsterdam, just before evening
    await repo.record_answer(1, delivery[1], "not-yet", now, accepts=_accept_all)
    await repo.record_answer(2, delivery[2], "sent", now, accepts=_accept_all)
    assert (await repo.reveal(2, lesson, now)) is not None
    assert await repo.withhold(1, delivery[2]) == "unknown"  # not Alex's own: forged
    assert await repo.withhold(1, delivery[3]) == "unknown"  # no answer there
    assert await repo.withhold(1, delivery[1]) == "kept"
    # Sam, who answered last, sees Alex's (kept) answer after the few minutes to keep
    # theirs; Alex, whose evening was only minutes away, sees Sam's the next evening:
    # shown at 20:05 it would say Sam answered at 19:55.
    assert await _notes(repo, now + timedelta(minutes=5)) == {}
    assert await _notes(repo, now + timedelta(minutes=10)) == {
        2: [PairNote("reveal", partner_name="Alex", withheld=True)]
    }
    assert await repo.withhold(2, delivery[2]) == "kept"  # not seen yet: still in time
    assert await _notes(repo, DAY1 + timedelta(days=1, hours=12)) == {
        1: [PairNote("reveal", partner_name="Sam", withheld=True)]
    }
    assert await repo.withhold(2, delivery[2]) == "shown"  # Alex has seen it: too late
    await repo.unlink(2, now + timedelta(days=2))
    code = await repo.create_invite(1, now + timedelta(days=2))
    assert (await repo.link(3, code, now + timedelta(days=2))).status == "ok"
    # A button left from the link with Sam: Kim could never see that answer.
    assert await repo.withhold(1, delivery[1]) == "unknown"


async def test_nothing_waiting_is_shown_after_the_link_ended_or_care_began(
    repo: Repo, clock: SettableClock
):
    delivery, lesson = await _day_one(repo, clock)
    code = await repo.create_invite(1, DAY1)
    assert (await repo.link(2, code, DAY1)).status == "ok"
    now = DAY1 + timedelta(hours=1)
    await repo.record_answer(1, delivery[1], "sent", now, accepts=_accept_all)
    await repo.record_answer(2, delivery[2], "sent", now, accepts=_accept_all)
    assert (await repo.reveal(2, lesson, now)) is not None
    await repo.unlink(1, now + timedelta(minutes=1))  # before the evening: nothing shown
    assert await _notes(repo, DAY1.replace(hour=19)) == {2: [PairNote("ended")]}
    code = await repo.create_invite(1, now)
    assert (await repo.link(3, code, now)).status == "ok"
    await repo.record_answer(3, delivery[3], "sent", now, accepts=_accept_all)
    assert (await repo.reveal(3, lesson, now)) is not None
    await repo.note_care(3, now + timedelta(minutes=2))  # Kim told Bridges of harm
    assert await _notes(repo, DAY1 + timedelta(hours=23)) == {}  # not even "answered"


async def test_a_lost_notice_goes_again_after_its_lease_and_a_released_one_at_once(
    repo: Repo, clock: SettableClock
):
    delivery, _lesson = await _both_answered(repo, clock)
    evening = DAY1.replace(hour=19)
    held = [c for c in await repo.claim_due(evening, COURSE) if c.kind == ClaimKind.PAIR_NOTE]
    assert len(held) == 2
    await repo.release(held[:1])  # stopping: handed back unsent, taken at once
    again = [c for c in await repo.claim_due(evening, COURSE) if c.kind == ClaimKind.PAIR_NOTE]
    assert [c.learner_id for c in again] == [held[0].learner_id] and not again[0].resend
    assert await record_sent(repo, again[0], now=evening, message_id=2)
    assert await _notes(repo, evening + timedelta(seconds=30)) == {}  # the lease holds
    # The other's send never came back (the process died): after the lease, once more.
    resent = await repo.claim_due(evening + timedelta(minutes=2), COURSE)
    assert [(c.learner_id, c.resend) for c in resent] == [(held[1].learner_id, True)]
    assert not await record_sent(repo, held[1], now=evening, message_id=3)  # fenced
    assert await record_sent(repo, resent[0], now=evening, message_id=3)


async def test_nothing_is_shown_when_an_answer_is_hidden_or_a_partner_stopped(
    repo: Repo, clock: SettableClock
):
    delivery, lesson = await _day_one(repo, clock)
    code = await repo.create_invite(1, DAY1)
    assert (await repo.link(2, code, DAY1)).status == "ok"
    now = DAY1 + timedelta(minutes=5)
    await repo.note_care(2, now)  # Sam told Bridges of crisis or harm
    await repo.record_answer(2, delivery[2], "sent", now, accepts=_accept_all)
    await repo.record_answer(1, delivery[1], "sent", now, accepts=_accept_all)
    assert await repo.reveal(2, lesson, now) is None  # nothing of Sam's is shared
    sharing = await repo.reveal(1, lesson, now)
    assert sharing is not None and not sharing.scheduled  # neither side shown
    exported = await repo.export(1)
    assert exported is not None
    assert exported["together"]["links"][0]["answers_shown_to_each_other"] == []
    await repo.unlink(1, now)
    code = await repo.create_invite(1, now)
    assert (await repo.link(3, code, now)).status == "ok"
    await repo.record_answer(3, delivery[3], "sent", now, accepts=_accept_all)
    await repo.stop(3)
    assert await repo.reveal(1, lesson, now) is None  # Kim stopped: sent nothing more
    assert 1 not in await _notes(repo, DAY1.replace(hour=19))


async def test_two_people_typing_each_others_codes_at_once_make_one_pair(
    repo: Repo, clock: SettableClock
):
    """Each locks both learner rows in the same order: no deadlock, exactly one pair."""
    await _three(repo, clock)
    alex_code = await repo.create_invite(1, clock.now)
    sam_code = await repo.create_invite(2, clock.now)
    other = Repo(repo.engine)
    results = await asyncio.gather(
        repo.link(1, sam_code, clock.now), other.link(2, alex_code, clock.now)
    )
    assert [result.status for result in results].count("ok") == 1
    partner = await repo.partner(1)
    assert partner is not None and partner.id == 2


async def test_the_shared_streak_counts_check_ins_both_answered_in_a_row(
    repo: Repo, clock: SettableClock
):
    await _three(repo, clock)
    code = await repo.create_invite(1, clock.now)
    assert (await repo.link(2, code, clock.now)).status == "ok"

    async def day(n: int, answering: tuple[int, ...], *, evening: bool = True) -> None:
        now = DAY1 + timedelta(days=n - 1)
        claims = [c for c in await repo.claim_due(now, COURSE) if c.learner_id in (1, 2)]
        for claim in claims:
            if claim.kind != ClaimKind.LESSON:
                await record_sent(repo, claim, now=now, message_id=n)
                continue
            await record_sent(repo, claim, now=now, message_id=n)
            if claim.learner_id in answering:
                value = "4" if claim.lesson_id == "empathy-1" else "sent"
                await repo.record_answer(
                    claim.learner_id, claim.delivery_id, value, now, accepts=_accept_all
                )
                await repo.reveal(claim.learner_id, claim.lesson_id, now)
        if evening:  # the reveals reach each reader at 20:00 in Amsterdam
            await _notes(repo, now.replace(hour=19))

    async def shared() -> int:
        found = await repo.shared_streak(1)
        assert found is not None
        return found[1]

    await day(1, (1, 2), evening=False)
    assert await shared() == 0  # both answered, but nothing reached Alex yet: no change
    await _notes(repo, DAY1.replace(hour=19))
    assert await shared() == 1  # the evening's reveal: now it counts
    await day(2, (1, 2))
    assert await shared() == 2
    await day(3, (1,))  # Sam has not answered today's yet: the open day does not break it
    assert await shared() == 2
    await day(4, (1, 2))  # day 3 stayed half answered: the shared streak starts again
    assert await shared() == 1
    await repo.note_care(2, DAY1 + timedelta(days=4))  # Sam told Bridges of harm
    assert await repo.shared_streak(1) is None  # nothing of the pair is shown any more


async def test_a_review_carries_only_the_partners_answers_both_saw(
    repo: Repo, clock: SettableClock
):
    week = [
        CourseEntry("opening-1", "choice"),
        CourseEntry("empathy-1", "scale"),
        CourseEntry("empathy-2", "choice"),
        CourseEntry("empathy-review", "choice", ("empathy-1", "empathy-2", "opening-1")),
    ]
    await _three(repo, clock)
    code = await repo.create_invite(1, DAY1)
    assert (await repo.link(2, code, DAY1)).status == "ok"
    values = {"opening-1": "sent", "empathy-1": "4", "empathy-2": "yes"}
    for day in range(3):
        morning = DAY1 + timedelta(days=day)
        claims = [c for c in await repo.claim_due(morning, week) if c.kind == ClaimKind.LESSON]
        for claim in claims:
            await record_sent(repo, claim, now=morning, message_id=day + 1)
            if claim.learner_id == 3 or (day == 0 and claim.learner_id == 2):
                continue  # Kim is not linked; Sam leaves day 1 unanswered
            value = values[claim.lesson_id]
            await repo.record_answer(
                claim.learner_id, claim.delivery_id, value, morning, accepts=_accept_all
            )
            await repo.reveal(claim.learner_id, claim.lesson_id, morning)
            if day == 2 and claim.learner_id == 2:
                assert await repo.withhold(2, claim.delivery_id) == "kept"
        for claim in await repo.claim_due(morning.replace(hour=19), week):
            await record_sent(repo, claim, now=morning, message_id=9)
    review = {
        c.learner_id: c
        for c in await repo.claim_due(DAY1 + timedelta(days=3), week)
        if c.kind == ClaimKind.LESSON
    }
    assert review[1].lesson_id == "empathy-review" and review[1].together
    # Day 1: Sam never answered; day 3: Sam kept it. Only day 2 was seen by both.
    assert (review[1].partner_name, dict(review[1].partner_recalls)) == ("Sam", {"empathy-1": "4"})
    assert dict(review[2].partner_recalls) == {"empathy-1": "4", "empathy-2": "yes"}
    assert not review[3].partner_recalls and not review[3].together


async def test_an_answer_after_the_readers_evening_waits_for_their_next_evening(
    repo: Repo, clock: SettableClock
):
    """Shown minutes after Sam answered, it would say when Sam answered."""
    delivery, lesson = await _day_one(repo, clock)
    code = await repo.create_invite(1, DAY1)
    assert (await repo.link(2, code, DAY1)).status == "ok"
    await repo.record_answer(1, delivery[1], "sent", DAY1, accepts=_accept_all)
    late = DAY1 + timedelta(hours=14)  # 22:00 in Amsterdam: both evenings are over
    await repo.record_answer(2, delivery[2], "not-yet", late, accepts=_accept_all)
    assert (await repo.reveal(2, lesson, late)) is not None
    # Sam, who just answered, sees Alex's at once (after the few minutes to keep it);
    # Alex sees Sam's in their next evening, like any other day.
    assert await _notes(repo, late + timedelta(minutes=10)) == {
        2: [PairNote("reveal", partner_name="Alex", value="sent")]
    }
    assert await _notes(repo, DAY1 + timedelta(days=1, hours=11)) == {}
    assert await _notes(repo, DAY1 + timedelta(days=1, hours=12)) == {
        1: [PairNote("reveal", partner_name="Sam", value="not-yet")]
    }


async def test_keeping_an_answer_whose_reveal_is_being_sent_is_too_late(
    repo: Repo, clock: SettableClock
):
    delivery, _lesson = await _both_answered(repo, clock)
    held = await repo.claim_due(DAY1.replace(hour=19), COURSE)  # the words are read now
    assert len([c for c in held if c.kind == ClaimKind.PAIR_NOTE]) == 2
    assert await repo.withhold(1, delivery[1]) == "shown"  # on its way: not "kept"


async def test_a_lesson_taken_again_after_restart_reveals_again(repo: Repo, clock: SettableClock):
    await _three(repo, clock)
    code = await repo.create_invite(1, DAY1)
    assert (await repo.link(2, code, DAY1)).status == "ok"
    lesson_days = len(COURSE)
    for round_ in (1, 2):
        for day in range(lesson_days):
            morning = DAY1 + timedelta(days=day + (round_ - 1) * (lesson_days + 1))
            for claim in await repo.claim_due(morning, COURSE, auto_pause_after=100):
                await record_sent(repo, claim, now=morning, message_id=day + 1)
                first = claim.kind == ClaimKind.LESSON and claim.lesson_id == "opening-1"
                if first and claim.learner_id in (1, 2):
                    await repo.record_answer(
                        claim.learner_id,
                        claim.delivery_id,
                        f"r{round_}",
                        morning,
                        accepts=_accept_all,
                    )
                    await repo.reveal(claim.learner_id, claim.lesson_id, morning)
            shown = await _notes(repo, morning.replace(hour=19))
            if day == 0:
                assert shown[1] == [PairNote("reveal", partner_name="Sam", value=f"r{round_}")]
        if round_ == 1:
            restart_at = DAY1 + timedelta(days=lesson_days)
            for learner in (1, 2):
                assert await repo.restart(learner, restart_at, lesson_days) == "restarted"
