"""Together, in step (issue 16), on both engines: linked learners get the same lesson each
at their own local time, also 13 hours apart across a DST night; a partner's pause holds
the pair (the one ahead is told once, gently) and a resume lets both go on; a partner who
stopped holds nobody; the invited one chooses where a pair far apart goes on from."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from scheduler.claims import Claim, CourseEntry
from scheduler.due import local_date
from scheduler.states import ClaimKind
from storage.repo import Repo
from tests.helpers import SettableClock, make_learner, record_sent

COURSE = [CourseEntry(f"day-{day}", "choice") for day in range(1, 21)]
START = datetime(2026, 3, 24, 0, 0, tzinfo=UTC)  # Europe moves its clocks on 29 March
QUIET = 1000  # nobody here answers: silence must not pause anyone


class Phones:
    """What each learner was sent, hour by hour, as the tick would send it."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.lessons: dict[int, list[tuple[str, date]]] = defaultdict(list)
        self.notes: dict[int, list[str]] = defaultdict(list)

    async def run(self, start: datetime, hours: int, zones: dict[int, str]) -> None:
        for hour in range(hours):
            now = start + timedelta(hours=hour)
            for claim in await self.repo.claim_due(now, COURSE, auto_pause_after=QUIET):
                self._see(claim, zones)
                assert await record_sent(self.repo, claim, now=now, message_id=hour + 1)

    def _see(self, claim: Claim, zones: dict[int, str]) -> None:
        if claim.kind == ClaimKind.PAIR_NOTE:
            assert claim.pair_note is not None
            self.notes[claim.learner_id].append(claim.pair_note.kind)
        elif claim.kind == ClaimKind.LESSON:
            self.lessons[claim.learner_id].append((claim.lesson_id, claim.local_date))
            assert claim.local_date == local_date(claim.due_at or START, zones[claim.learner_id])

    def days(self, learner_id: int) -> list[str]:
        return [lesson for lesson, _day in self.lessons[learner_id]]


async def _pair(repo: Repo, now: datetime, zones: dict[int, str], time: str = "08:00") -> None:
    for learner_id, name in ((1, "Alex"), (2, "Sam")):
        await make_learner(
            repo,
            now,
            learner_id=learner_id,
            first_name=name,
            zone=zones[learner_id],
            daily_time=time,
        )
    code = await repo.create_invite(1, now)
    assert (await repo.link(2, code, now)).status == "ok"


async def test_partners_13_hours_apart_get_the_same_lesson_each_at_their_own_time(
    repo: Repo, clock: SettableClock
):
    zones = {1: "Pacific/Auckland", 2: "Europe/London"}  # 13 hours, then 12 after 29 March
    await _pair(repo, START - timedelta(hours=1), zones)
    phones = Phones(repo)
    await phones.run(START, 24 * 8, zones)
    alex, sam = phones.lessons[1], phones.lessons[2]
    assert [lesson for lesson, _ in alex] == [lesson for lesson, _ in sam][: len(alex)]
    assert len(alex) >= 7 and len(sam) >= 7  # one a day each, nobody held
    for sent in (alex, sam):
        assert len({day for _, day in sent}) == len(sent)  # one lesson per local day
    assert phones.notes == {}  # in step: no waiting, nothing else


async def test_a_pause_holds_the_pair_and_the_one_ahead_is_told_once(
    repo: Repo, clock: SettableClock
):
    zones = {1: "Europe/Amsterdam", 2: "America/New_York"}
    await _pair(repo, START - timedelta(hours=1), zones)
    phones = Phones(repo)
    await phones.run(START, 24 * 2, zones)  # two days, in step
    assert phones.days(1) == phones.days(2) == ["day-1", "day-2"]
    await repo.pause(2, START + timedelta(days=2))  # Sam pauses, no reason asked
    await phones.run(START + timedelta(days=2), 24 * 4, zones)
    assert phones.days(1) == ["day-1", "day-2"]  # day 3 waits for Sam
    assert phones.notes[1] == ["waiting"]  # told once, not every day
    assert phones.days(2) == ["day-1", "day-2"]
    await repo.resume(2, START + timedelta(days=6))
    await phones.run(START + timedelta(days=6), 24 * 3, zones)
    assert phones.days(1) == phones.days(2) == ["day-1", "day-2", "day-3", "day-4", "day-5"]
    await repo.stop(2)  # Sam stops: nobody is held any more
    await phones.run(START + timedelta(days=9), 24 * 3, zones)
    assert len(phones.days(1)) >= 7 and phones.notes[1] == ["waiting"]


async def test_the_invited_one_chooses_where_a_pair_far_apart_goes_on_from(
    repo: Repo, clock: SettableClock
):
    zones = {1: "Europe/Amsterdam", 2: "Europe/Amsterdam", 3: "Europe/Amsterdam"}
    await make_learner(repo, START, learner_id=1, first_name="Alex")
    phones = Phones(repo)
    await phones.run(START + timedelta(hours=1), 24 * 5, zones)  # Alex is five days in
    now = START + timedelta(days=5, hours=2)
    await make_learner(repo, now, learner_id=2, first_name="Sam")
    code = await repo.create_invite(1, now)
    assert (await repo.link(2, code, now)).status == "ok"
    assert await repo.pair_days(2, COURSE) == (1, 6)
    assert await repo.align(1, "ahead", COURSE) is None  # only the invited one chooses
    assert await repo.align(2, "ahead", COURSE) == 6
    assert await repo.pair_days(2, COURSE) == (6, 6)
    await phones.run(now, 24 * 2, zones)
    assert phones.days(2) == ["day-6", "day-7"] and phones.days(1)[-2:] == ["day-6", "day-7"]
    await repo.unlink(2, now + timedelta(days=2))
    await make_learner(repo, now + timedelta(days=2), learner_id=3, first_name="Kim")
    code = await repo.create_invite(1, now + timedelta(days=2))
    assert (await repo.link(3, code, now + timedelta(days=2))).status == "ok"
    assert await repo.align(3, "start", COURSE) == 1  # Alex begins again, answers kept
    assert await repo.pair_days(3, COURSE) == (1, 1)
    await phones.run(now + timedelta(days=2), 24, zones)
    assert phones.days(1)[-1] == "day-1" and phones.days(3) == ["day-1"]


async def test_a_partner_whom_silence_paused_or_in_care_holds_nobody(
    repo: Repo, clock: SettableClock
):
    zones = {1: "Europe/Amsterdam", 2: "Europe/Amsterdam"}
    await _pair(repo, START - timedelta(hours=1), zones)
    phones = Phones(repo)
    # Sam never answers: after two lessons silence pauses Sam (auto-pause), which must
    # not stop Alex, who answers nothing here either but is not paused by it below.
    for hour in range(24 * 4):
        now = START + timedelta(hours=hour)
        for claim in await repo.claim_due(now, COURSE, auto_pause_after=2):
            phones._see(claim, zones)
            assert await record_sent(repo, claim, now=now, message_id=hour + 1)
            if claim.kind == ClaimKind.LESSON and claim.learner_id == 1:
                await repo.record_answer(1, claim.delivery_id, "x", now, accepts=lambda *_: True)
    assert len(phones.days(2)) == 2 and len(phones.days(1)) == 4  # Alex went on
    assert 1 not in phones.notes  # and was never told to wait
    await repo.note_care(1, START + timedelta(days=4))  # Alex told Bridges of harm
    await repo.resume(2, START + timedelta(days=4))
    await repo.pause(2, START + timedelta(days=4, hours=1))
    await phones.run(START + timedelta(days=4, hours=1), 24 * 2, zones)
    assert len(phones.days(1)) == 6 and 1 not in phones.notes  # no hold, no line in care


async def test_a_pause_holds_at_most_three_days_then_the_one_waiting_goes_on(
    repo: Repo, clock: SettableClock
):
    zones = {1: "Europe/Amsterdam", 2: "Europe/Amsterdam"}
    await _pair(repo, START - timedelta(hours=1), zones)
    phones = Phones(repo)
    await phones.run(START, 24, zones)
    await repo.pause(2, START + timedelta(days=1))  # Sam pauses with no end
    await phones.run(START + timedelta(days=1), 24 * 6, zones)
    assert phones.notes[1] == ["waiting"]
    # Held on days 2, 3 and 4 (three days), then day 2 comes and the course goes on.
    assert phones.days(1) == ["day-1", "day-2", "day-3", "day-4"]
    assert phones.days(2) == ["day-1"]


async def test_a_stale_choice_changes_nothing_and_restart_counts_from_the_joined_day(
    repo: Repo, clock: SettableClock
):
    short = COURSE[:6]
    zones = {1: "Europe/Amsterdam", 2: "Europe/Amsterdam"}
    await make_learner(repo, START, learner_id=1, first_name="Alex")
    phones = Phones(repo)
    for hour in range(24 * 3):
        now = START + timedelta(hours=hour)
        for claim in await repo.claim_due(now, short, auto_pause_after=QUIET):
            assert await record_sent(repo, claim, now=now, message_id=hour + 1)
    now = START + timedelta(days=3)
    await make_learner(repo, now, learner_id=2, first_name="Sam")
    code = await repo.create_invite(1, now)
    assert (await repo.link(2, code, now)).status == "ok"
    assert await repo.align(2, "ahead", short) == 4
    assert await repo.align(2, "start", short) is None  # in step now: a stale tap is nothing
    assert await repo.pair_days(2, short) == (4, 4)
    for hour in range(24 * 4):
        at = now + timedelta(hours=hour)
        for claim in await repo.claim_due(at, short, auto_pause_after=QUIET):
            phones._see(claim, zones)
            assert await record_sent(repo, claim, now=at, message_id=hour + 1)
    assert phones.days(2) == ["day-4", "day-5", "day-6"]  # the course's last three days
    later = now + timedelta(days=4)
    assert await repo.restart(2, later, len(short)) == "restarted"  # finished from day 4


async def test_the_three_days_count_from_the_first_wait_even_if_the_pause_came_later(
    repo: Repo, clock: SettableClock
):
    zones = {1: "Europe/Amsterdam", 2: "America/New_York"}
    await make_learner(repo, START, learner_id=1, first_name="Alex", zone=zones[1])
    phones = Phones(repo)
    await phones.run(START + timedelta(hours=1), 12, zones)  # Alex has day 1
    now = START + timedelta(hours=13)
    await make_learner(repo, now, learner_id=2, first_name="Sam", zone=zones[2])
    code = await repo.create_invite(1, now)
    assert (await repo.link(2, code, now)).status == "ok"  # a day apart: no question
    await phones.run(now, 19, zones)  # Alex's day 2 waits for Sam's day 1 (told once)
    assert phones.notes[1] == ["waiting"] and phones.days(1) == ["day-1"]
    await repo.pause(2, START + timedelta(days=1, hours=8))  # before Sam's first lesson
    await phones.run(START + timedelta(days=1, hours=8), 24 * 4, zones)
    # Three days after Alex was first told, Alex goes on alone, told nothing more.
    assert phones.days(1)[:2] == ["day-1", "day-2"] and phones.notes[1] == ["waiting"]
    assert phones.days(2) == []
