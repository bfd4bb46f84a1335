"""When a pair notice reaches its reader (issue 16): pure rules, like due.py.

A partner's answer is shown in the reader's evening (their check-in time, 20:00
without one). A reader who answers after their evening sees it a few minutes later;
a reader whose partner answers after the reader's evening sees it the next evening,
since "a few minutes after Sam answered" would say when Sam answered. "The link has
ended" comes at the reader's next lesson or evening, whichever is first. Either way
the moment is the reader's own, so it never says when the other acted, and the few
minutes leave time to keep an answer from the partner.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from scheduler.checkin_time import DEFAULT_CHECKIN_TIME
from scheduler.due import local_date, next_due_at, occurrence_on, parse_daily_time

# After the second answer, time to tap "keep this from Sam" before anything is shown.
KEEP_GRACE = timedelta(minutes=10)


def reveal_at(
    now: datetime, zone: str | None, checkin_time: str | None, *, answered_now: bool
) -> datetime:
    """When the reader is shown the partner's answer, both having answered by `now`:
    their evening today. A reader who just answered (`answered_now`) sees it no sooner
    than `KEEP_GRACE` from now, even after their evening; one whose partner just answered
    sees it tonight only if tonight is at least `KEEP_GRACE` away, else the next evening."""
    soon = now + KEEP_GRACE
    if zone is None:
        return soon
    try:
        evening = parse_daily_time(checkin_time or DEFAULT_CHECKIN_TIME)
        today = local_date(now, zone)
        tonight = occurrence_on(today, evening, zone)
        if answered_now:
            return max(tonight, soon)
        if tonight >= soon:
            return tonight
        # Tonight is over or only minutes away: shown then, it would say when they answered.
        return occurrence_on(today + timedelta(days=1), evening, zone)
    except (ValueError, LookupError):
        return soon


def ended_at(
    now: datetime, zone: str | None, daily_time: str | None, checkin_time: str | None
) -> datetime:
    """When the reader is told the link ended: at their next lesson or evening after
    `now`, whichever comes first (at once when they have neither)."""
    if zone is None:
        return now
    moments = []
    for text in (daily_time, checkin_time or DEFAULT_CHECKIN_TIME):
        if text is None:
            continue
        try:
            moments.append(next_due_at(parse_daily_time(text), zone, now))
        except (ValueError, LookupError):
            continue
    return min(moments, default=now)
