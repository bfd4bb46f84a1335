"""Check-in time rules: when a lesson's check-in comes apart, and when a snoozed lesson comes again.

Pure functions over aware UTC instants and the learner's IANA zone, like
scheduler/due.py (and built on it, so DST gaps move forward and folds take the
first instant here too). Storage stores their answers in the learner's one
`next_due_at`; nothing here schedules a job.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from scheduler.due import local_date, occurrence_on, parse_daily_time

# A new learner's check-in time (/reflect changes or ends it); with none set, "this evening"
# (a snooze) means this local time too.
DEFAULT_CHECKIN_TIME = "20:00"
# "In an hour".
SNOOZE_HOUR = timedelta(hours=1)

HOUR = "h"
EVENING = "e"
SNOOZE_CHOICES = (HOUR, EVENING)


def checkin_at(
    lesson_at: datetime, day: date, checkin_time: time | None, zone: str
) -> datetime | None:
    """The instant a lesson's check-in goes out on its own, or None to send it with the lesson.

    The check-in comes at the check-in time of the lesson's local `day`,
    but only if that is later than the lesson itself (`lesson_at`, when it was
    or is being sent); a lesson at 21:00 with a check-in time of 20:00, or
    `/reflect off`, keeps the check-in in the lesson message.
    """
    if checkin_time is None:
        return None
    at = occurrence_on(day, checkin_time, zone)
    return at if at > lesson_at else None


def snooze_until(
    choice: str, now: datetime, checkin_time: time | None, zone: str
) -> datetime | None:
    """When a lesson snoozed at `now` comes again, or None if that choice no longer fits today.

    "In an hour" is an hour from now; "this evening" is the learner's
    check-in time (else 20:00) on today's local date, and only while it is
    still ahead of now. A snooze never carries a lesson into the next local day.
    """
    today = local_date(now, zone)
    if choice == HOUR:
        until = now + SNOOZE_HOUR
    elif choice == EVENING:
        until = occurrence_on(today, checkin_time or parse_daily_time(DEFAULT_CHECKIN_TIME), zone)
    else:
        return None
    if until <= now or local_date(until, zone) != today:
        return None
    return until
