"""Small factories and test doubles shared by the test packages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.claims import Claim, Outcome
from scheduler.states import SendStatus
from storage.repo import CourseEntry, LearnerView, Repo

# When a refusal is recorded does not matter: only a sent lesson keeps its instant.
REFUSED_AT = datetime(2026, 1, 1, tzinfo=UTC)


class SettableClock:
    """The injected clock for tests: returns `now` until a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now = self.now + delta
        return self.now


COURSE = [
    CourseEntry("opening-1", "choice"),
    CourseEntry("empathy-1", "scale"),
    CourseEntry("empathy-2", "text"),
    CourseEntry("empathy-3", "choice"),
]


async def make_learner(
    repo: Repo,
    now: datetime,
    *,
    learner_id: int = 1001,
    first_name: str = "Alex",
    language: str = "en",
    zone: str | None = "Europe/Amsterdam",
    daily_time: str | None = "08:00",
    checkin_time: str | None = None,
) -> LearnerView:
    """A learner who finished onboarding (unless zone or time is None).

    The check-in comes with the lesson unless `checkin_time` sets an evening one.
    """
    learner, _ = await repo.start_learner(
        learner_id, first_name=first_name, language=language, now=now
    )
    await repo.set_language(learner_id, language)
    if zone is not None:
        await repo.set_timezone(learner_id, zone, now)
    await repo.set_checkin_time(learner_id, checkin_time, now)
    if daily_time is not None:
        await repo.set_daily_time(learner_id, daily_time, now)
    view = await repo.get_learner(learner_id)
    assert view is not None
    return view


async def record_sent(repo: Repo, claim: Claim, *, now: datetime, message_id: int) -> bool:
    """Record a claim of any kind as sent, as the delivery does after Telegram's reply."""
    return await repo.record_outcome(claim, Outcome(SendStatus.SENT, now, message_id))


async def record_failed(repo: Repo, claim: Claim, *, reason: str, blocked: bool = False) -> bool:
    """Record a definite refusal (403 when `blocked`), as the delivery does."""
    status = SendStatus.BLOCKED if blocked else SendStatus.FAILED
    return await repo.record_outcome(claim, Outcome(status, REFUSED_AT, reason=reason))
