"""Together's storage on both engines: invites and links are exactly once under races,
the reveal is once and only for answers given while linked, and /delete erases it all."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

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


async def test_the_reveal_is_once_and_only_for_answers_given_while_linked(
    repo: Repo, clock: SettableClock
):
    await _three(repo, clock)
    claims = await repo.claim_due(DAY1, COURSE)
    for claim in claims:
        await record_sent(repo, claim, now=DAY1, message_id=1)
    delivery = {claim.learner_id: claim.delivery_id for claim in claims}
    lesson = claims[0].lesson_id
    before = DAY1 + timedelta(minutes=5)
    await repo.record_answer(3, delivery[3], "sent", before, accepts=_accept_all)
    code = await repo.create_invite(1, DAY1 + timedelta(minutes=10))
    assert (await repo.link(3, code, DAY1 + timedelta(minutes=10))).status == "ok"
    now = DAY1 + timedelta(minutes=20)
    await repo.record_answer(1, delivery[1], "not-yet", now, accepts=_accept_all)
    assert await repo.reveal(1, lesson, now) is None  # Kim answered before the link
    code = await repo.create_invite(2, now)
    assert (await repo.link(1, code, now)).status == "linked"  # one partner at a time
    await repo.unlink(3, now)
    assert (await repo.link(1, code, now)).status == "ok"
    await repo.record_answer(2, delivery[2], "sent", now, accepts=_accept_all)
    shown = await repo.reveal(2, lesson, now)
    assert shown is not None and shown.theirs.value == "not-yet" and shown.mine.value == "sent"
    assert shown.partner.first_name == "Alex"
    assert await repo.reveal(1, lesson, now) is None  # once per pair and lesson
    shared = await repo.shared_streak(1)
    assert shared is not None and shared[0].first_name == "Sam" and shared[1] == 1
    assert await repo.delete_learner(2)
    assert await repo.partner(1) is None
    async with repo.engine.connect() as connection:
        pairs = (await connection.execute(text("SELECT count(*) FROM pair"))).scalar()
        reveals = (await connection.execute(text("SELECT count(*) FROM reveal"))).scalar()
    assert (pairs, reveals) == (1, 0)  # only Alex and Kim's ended pair is left


async def test_nothing_is_shown_when_an_answer_is_hidden_or_a_partner_stopped(
    repo: Repo, clock: SettableClock
):
    await _three(repo, clock)
    claims = await repo.claim_due(DAY1, COURSE)
    for claim in claims:
        await record_sent(repo, claim, now=DAY1, message_id=1)
    delivery = {claim.learner_id: claim.delivery_id for claim in claims}
    lesson = claims[0].lesson_id
    code = await repo.create_invite(1, DAY1)
    assert (await repo.link(2, code, DAY1)).status == "ok"
    now = DAY1 + timedelta(minutes=5)
    await repo.note_care(2, now)  # Sam told Bridges of crisis or harm
    await repo.record_answer(2, delivery[2], "sent", now, accepts=_accept_all)
    await repo.record_answer(1, delivery[1], "sent", now, accepts=_accept_all)
    assert await repo.reveal(1, lesson, now) is None  # neither side shown, nothing recorded
    exported = await repo.export(1)
    assert exported is not None
    assert exported["together"]["links"][0]["answers_shown_to_each_other"] == []
    await repo.unlink(1, now)
    code = await repo.create_invite(1, now)
    assert (await repo.link(3, code, now)).status == "ok"
    await repo.record_answer(3, delivery[3], "sent", now, accepts=_accept_all)
    await repo.stop(3)
    assert await repo.reveal(1, lesson, now) is None  # Kim stopped: sent nothing more


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

    async def day(n: int, answering: tuple[int, ...]) -> None:
        now = DAY1 + timedelta(days=n - 1)
        claims = [c for c in await repo.claim_due(now, COURSE) if c.learner_id in (1, 2)]
        for claim in claims:
            await record_sent(repo, claim, now=now, message_id=n)
            if claim.learner_id in answering:
                value = "4" if claim.lesson_id == "empathy-1" else "sent"
                await repo.record_answer(
                    claim.learner_id, claim.delivery_id, value, now, accepts=_accept_all
                )

    async def shared() -> int:
        found = await repo.shared_streak(1)
        assert found is not None
        return found[1]

    await day(1, (1, 2))
    await day(2, (1, 2))
    assert await shared() == 2
    await day(3, (1,))  # Sam has not answered today's yet: the open day does not break it
    assert await shared() == 2
    await day(4, (1, 2))  # day 3 stayed half answered: the shared streak starts again
    assert await shared() == 1
