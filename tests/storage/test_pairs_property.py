"""A property of the mutual reveal (issue 16): for any interleaving of two partners'
answers, "keep this from my partner", unlinks, new links, evenings and new days, nobody
is ever shown the other's answer before answering themself, after the link ended, from
before the link, twice, or as words the writer kept to themself."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.claims import Claim
from scheduler.states import ClaimKind
from storage.db import create_engine, upgrade_schema
from storage.repo import Repo
from tests.helpers import COURSE, make_learner, record_sent

DAY1 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 in Amsterdam; evening 19:00 UTC
STEPS = st.lists(
    st.sampled_from(["alex", "sam", "keep-alex", "keep-sam", "unlink", "link", "evening", "day"]),
    max_size=14,
)


def _accept_all(_lesson_id: str, _value: str) -> bool:
    return True


class Pair:
    """What the test knows happened, to judge every notice the claim hands out."""

    def __init__(self) -> None:
        self.linked_at: datetime | None = None  # the open link, if any
        self.answered: dict[tuple[int, str], datetime] = {}  # (learner, lesson) -> when
        self.kept: set[tuple[int, str]] = set()
        self.shown: set[tuple[datetime, str, int]] = set()  # (link, lesson, reader)

    def judge(self, claim: Claim, now: datetime) -> None:
        note = claim.pair_note
        assert note is not None
        if note.kind == "ended":
            return
        reader, lesson = claim.learner_id, claim.lesson_id
        writer = 3 - reader
        linked = self.linked_at
        assert linked is not None, "shown after the link ended"
        for learner in (reader, writer):
            when = self.answered.get((learner, lesson))
            assert when is not None and linked <= when <= now, "shown before both answered"
        assert (linked, lesson, reader) not in self.shown, "shown twice"
        self.shown.add((linked, lesson, reader))
        if (writer, lesson) in self.kept:
            assert note.withheld and note.value == "", "kept words shown"


async def _run(steps: list[str], path: Path) -> None:
    engine = create_engine(f"sqlite:///{path}")
    await upgrade_schema(engine)
    repo = Repo(engine)
    try:
        await make_learner(repo, DAY1 - timedelta(hours=1), learner_id=1, first_name="Alex")
        await make_learner(repo, DAY1 - timedelta(hours=1), learner_id=2, first_name="Sam")
        ids = {"alex": 1, "sam": 2}
        pair = Pair()
        delivery: dict[int, tuple[int, str]] = {}
        now, day = DAY1, 0

        async def claim() -> None:
            for each in await repo.claim_due(now, COURSE):
                if each.kind == ClaimKind.PAIR_NOTE:
                    pair.judge(each, now)
                else:
                    delivery[each.learner_id] = (each.delivery_id, each.lesson_id)
                await record_sent(repo, each, now=now, message_id=day + 1)

        await claim()
        for step in steps:
            now += timedelta(minutes=1)
            if step == "day":
                day += 1
                now = max(now, DAY1 + timedelta(days=day))
                await claim()
            elif step == "evening":
                now = max(now, DAY1 + timedelta(days=day, hours=12))
                await claim()
            elif step == "unlink":
                await repo.unlink(1, now)
                pair.linked_at = None
            elif step == "link" and pair.linked_at is None:
                code = await repo.create_invite(1, now)
                if (await repo.link(2, code, now)).status == "ok":
                    pair.linked_at = now
            elif step in ids:
                learner = ids[step]
                delivery_id, lesson = delivery[learner]
                value = "4" if lesson == "empathy-1" else "sent"
                outcome = await repo.record_answer(
                    learner, delivery_id, value, now, accepts=_accept_all
                )
                if outcome.status == "recorded":
                    pair.answered[(learner, lesson)] = now
                await repo.reveal(learner, lesson, now)
            elif step.startswith("keep-"):
                learner = ids[step.removeprefix("keep-")]
                delivery_id, lesson = delivery[learner]
                if await repo.withhold(learner, delivery_id) == "kept":
                    pair.kept.add((learner, lesson))
        now += timedelta(days=2)  # whatever still waits comes out: it is judged too
        await claim()
    finally:
        await engine.dispose()


@settings(max_examples=15, deadline=None)
@given(steps=STEPS)
def test_no_answer_is_shown_before_answering_outside_the_link_twice_or_when_kept(
    steps: list[str],
):
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_run(steps, Path(folder) / "bridges.db"))
