"""A property of the mutual reveal (issue 16): for any interleaving of two partners'
answers, unlinks, new links and new days, nobody is ever shown the other's answer
before answering themself, after the link ended, from before the link, or twice."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from storage.db import create_engine, upgrade_schema
from storage.repo import Repo
from tests.helpers import COURSE, make_learner, record_sent

DAY1 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
STEPS = st.lists(st.sampled_from(["alex", "sam", "unlink", "link", "day"]), max_size=12)


def _accept_all(_lesson_id: str, _value: str) -> bool:
    return True


async def _run(steps: list[str], path: Path) -> None:
    engine = create_engine(f"sqlite:///{path}")
    await upgrade_schema(engine)
    repo = Repo(engine)
    try:
        await make_learner(repo, DAY1 - timedelta(hours=1), learner_id=1, first_name="Alex")
        await make_learner(repo, DAY1 - timedelta(hours=1), learner_id=2, first_name="Sam")
        ids = {"alex": 1, "sam": 2}
        now, day = DAY1, 0
        linked = False
        answered: dict[tuple[int, str], datetime] = {}  # (learner, lesson) -> when
        linked_at: datetime | None = None
        shown: set[tuple[datetime, str]] = set()  # (link, lesson) revealed
        delivery: dict[int, tuple[int, str]] = {}

        async def new_day() -> None:
            nonlocal now, day
            now = DAY1 + timedelta(days=day)
            day += 1
            for claim in await repo.claim_due(now, COURSE):
                await record_sent(repo, claim, now=now, message_id=day)
                delivery[claim.learner_id] = (claim.delivery_id, claim.lesson_id)

        await new_day()
        for step in steps:
            now += timedelta(minutes=1)
            if step == "day":
                await new_day()
            elif step == "unlink":
                await repo.unlink(1, now)
                linked = False
            elif step == "link" and not linked:
                code = await repo.create_invite(1, now)
                linked = (await repo.link(2, code, now)).status == "ok"
                linked_at = now if linked else linked_at
            elif step in ids:
                learner = ids[step]
                delivery_id, lesson = delivery[learner]
                value = "4" if lesson == "empathy-1" else "sent"
                outcome = await repo.record_answer(
                    learner, delivery_id, value, now, accepts=_accept_all
                )
                if outcome.status == "recorded":
                    answered[(learner, lesson)] = now
                revealed = await repo.reveal(learner, lesson, now)
                if revealed is not None:
                    other = 3 - learner
                    assert linked and linked_at is not None
                    assert answered.get((learner, lesson), now) >= linked_at
                    assert answered.get((other, lesson), linked_at) >= linked_at
                    assert (learner, lesson) in answered and (other, lesson) in answered
                    assert (linked_at, lesson) not in shown
                    shown.add((linked_at, lesson))
    finally:
        await engine.dispose()


@settings(max_examples=12, deadline=None)
@given(steps=STEPS)
def test_no_answer_is_shown_before_answering_outside_the_link_or_twice(steps: list[str]):
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_run(steps, Path(folder) / "bridges.db"))
