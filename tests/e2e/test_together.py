"""Together (issue 16, first part), end to end: an invite by deep link and by code, the
link both are told of, the mutual reveal only after both answered (never before, never
after the link ended), leaving at once, /delete of one partner, and bad invites."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.ops import metrics
from bot.tools.sandbox import Sandbox
from bot.tools.sandbox.state import SandboxUser
from lessons.loader import Course
from storage.db import create_engine, upgrade_schema
from tests.e2e.harness import Bridges
from tests.helpers import SettableClock

DAY2 = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)  # 08:00 in Amsterdam
EVENING2 = DAY2.replace(hour=19)  # 20:00 in Amsterdam: when answers are shown
ENDED = "The Bridges link has ended. Your own course goes on as before."


@pytest.fixture(params=["sqlite", "postgres"])
async def bridges(
    request: pytest.FixtureRequest,
    sandbox: Sandbox,
    tmp_path: Path,
    course: Course,
    clock: SettableClock,
    flood_clock: Callable[[], float],
) -> AsyncIterator[Bridges]:
    """The bot on SQLite and on the real PostgreSQL (emptied and migrated to head)."""
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_database")
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
        finally:
            await connection.close()
        engine = create_engine(url)
        try:
            await upgrade_schema(engine)
        finally:
            await engine.dispose()
    bot = Bridges(
        sandbox, tmp_path / "bridges.db", course, clock, pace_clock=flood_clock, database_url=url
    )
    await bot.start()
    yield bot
    await bot.stop()


_CODE = re.compile(r"/together ([A-Z0-9]{10})")
_LINK = re.compile(r"https://t\.me/(\w+)\?start=(pair-[A-Z0-9]{10})")


async def _invite(bridges: Bridges, user: SandboxUser) -> tuple[str, str]:
    """The code and the deep link's start payload of a new invite."""
    await bridges.say(user, "/together")
    text = user.last.text
    assert "only when you have both answered" in text or "allebei" in text
    code, link = _CODE.search(text), _LINK.search(text)
    assert code is not None and link is not None
    return code.group(1), link.group(2)


async def _linked_pair(
    bridges: Bridges, sandbox: Sandbox, *, sam_language: str = "en"
) -> tuple[SandboxUser, SandboxUser]:
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex, first_now=False)
    _code, payload = await _invite(bridges, alex)
    sam = sandbox.user(1002, "Sam", language_code=sam_language)
    await bridges.say(sam, f"/start {payload}")  # opened through the link: onboarding first
    held = [m.text for m in sam.inbox if "Alex" in m.text]
    assert len(held) == 1 and ("First a few questions" in held[0] or "Eerst" in held[0])
    await bridges.onboard(sam, first_now=False)  # its own language, zone and times
    assert "Alex" in sam.last.text and sam.last.buttons  # then: link with Alex?
    await bridges.press(sam, sam.last.button_labels()[0])  # "Link with Alex"
    assert "Alex" in sam.last.text
    assert "You and Sam are taking Bridges together now" in alex.last.text
    return alex, sam


async def test_a_deep_link_links_and_answers_are_shown_only_once_both_answered(
    bridges: Bridges, sandbox: Sandbox, course: Course
):
    alex, sam = await _linked_pair(bridges, sandbox, sam_language="nl")
    assert any("Jij en Alex volgen Bridges nu samen" in m.text for m in sam.inbox)
    report = await bridges.next_day_at(DAY2)
    assert report.sent == 2  # both get day 1 at their own time
    alex_seen = len(alex.inbox)
    await bridges.press(sam, "Nog niet")  # Sam answers first: nothing is shown to anyone
    assert not any("answered" in m.text for m in alex.inbox[alex_seen:])
    assert "antwoordde" not in sam.last.text
    await bridges.press(alex, "Yes, I sent it")  # now both: shown in each one's evening
    assert alex.last.button_labels() == ["🔒 Keep this from Sam"]
    assert not any("answered:" in m.text for m in alex.inbox[alex_seen:])
    await bridges.next_day_at(EVENING2 - timedelta(minutes=1))
    assert not any("antwoordde" in m.text for m in sam.inbox)
    report = await bridges.next_day_at(EVENING2)  # 20:00 in Amsterdam
    assert report.sent == 2
    assert "Sam answered: “Not yet”" in alex.last.text  # in Alex's language
    shown = [m.text for m in sam.inbox if "Alex antwoordde" in m.text]
    question = course.lesson("nl", 1).checkin.question
    assert shown == [  # once, in Sam's language, under the question
        f"🤝 Jullie hebben allebei “{question}” beantwoord.\nAlex antwoordde: “Ja, verstuurd”"
    ]
    await bridges.say(alex, "/progress")  # the shared streak beside Alex's own
    assert any(
        "🤝 Together with Sam: 1 check-in in a row you both answered" in m.text
        for m in alex.inbox[-2:]
    )
    await bridges.say(alex, "/export")
    document = alex.last.document
    assert document is not None
    together = json.loads(document.data)["together"]
    [link] = together["links"]
    assert link["with"] == "Sam" and link["invited_by_me"] and link["ended_at"] is None
    [row] = link["answers_shown_to_each_other"]
    assert row["lesson_id"] == "opening-1" and not row["kept_to_myself"]
    assert (row["i_shared"], row["i_was_shown"]) == (
        course.lesson("en", 1).checkin.options[0].value,
        course.lesson("nl", 1).checkin.options[-1].value,
    )
    assert together["invites_made"] == 1


async def test_a_typed_code_links_and_leaving_is_at_once_and_ends_sharing(
    bridges: Bridges, sandbox: Sandbox
):
    counted = {event: _count(event) for event in ("invite", "link", "unlink")}
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex, first_now=False)
    code, _payload = await _invite(bridges, alex)
    sam = sandbox.user(1002, "Sam")
    await bridges.onboard(sam, first_now=False)
    await bridges.say(sam, f"/together {code.lower()}")  # case does not matter
    await bridges.press(sam, "🤝 Link with Alex")
    assert "You and Alex are taking Bridges together now" in sam.last.text
    await bridges.say(alex, "/together")  # linked: no second invite
    assert "You're taking Bridges together with Sam" in alex.last.text
    alex_seen = len(alex.inbox)
    await bridges.say(sam, "/together off")  # no confirmation from the other
    assert "The link has ended" in sam.last.text
    assert len(alex.inbox) == alex_seen  # not at once: that would say when Sam left
    await bridges.next_day_at(DAY2)  # with Alex's next lesson: no name, reason or time
    assert [m.text for m in alex.inbox[alex_seen:] if "link" in m.text] == [ENDED]
    await bridges.press(sam, "Not yet")
    await bridges.press(alex, "Not yet")
    assert not alex.last.buttons  # nobody to keep it from
    await bridges.next_day_at(EVENING2)
    assert not any("answered:" in m.text for m in alex.inbox + sam.inbox)
    assert {event: _count(event) - n for event, n in counted.items()} == {
        "invite": 1,
        "link": 1,
        "unlink": 1,
    }


def _count(event: str) -> float:
    return float(metrics.METRICS.together.labels(event=event)._value.get())


async def test_bad_invites_each_get_a_clear_line(bridges: Bridges, sandbox: Sandbox):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex, first_now=False)
    code, _payload = await _invite(bridges, alex)
    await bridges.say(alex, f"/together {code}")
    assert "That's your own invite" in alex.last.text
    sam = sandbox.user(1002, "Sam")
    await bridges.onboard(sam, first_now=False)
    await bridges.say(sam, "/together ABCDEFGHJK")  # forged
    assert "I don't know that invite code" in sam.last.text
    await bridges.say(alex, "/together off")  # no link yet: the open invite is cancelled
    assert "Your invite is cancelled" in alex.last.text
    await bridges.say(sam, f"/together {code}")
    assert "This invite was cancelled" in sam.last.text
    code, _payload = await _invite(bridges, alex)
    bridges.clock.now += timedelta(hours=72)
    await bridges.say(sam, f"/together {code}")
    assert "This invite has expired" in sam.last.text
    code, _payload = await _invite(bridges, alex)
    await bridges.say(sam, f"/together {code}")
    kim = sandbox.user(1003, "Kim")
    await bridges.onboard(kim, first_now=False)
    await bridges.say(kim, f"/together {code}")  # opened by two: the first tap links
    await bridges.press(sam, "🤝 Link with Alex")
    await bridges.press(kim, "🤝 Link with Alex")
    assert "already been used" in kim.last.text
    await bridges.say(kim, "/together")
    kim_code = _CODE.search(kim.last.text)
    assert kim_code is not None
    await bridges.say(sam, f"/together {kim_code.group(1)}")
    assert "You're already taking Bridges together with someone" in sam.last.text
    for _ in range(5):  # guessing: a few misses, then no more tries for an hour
        await bridges.say(kim, "/together ZZZZZZZZZZ")
    await bridges.say(kim, f"/together {kim_code.group(1)}")
    assert "try again in an hour" in kim.last.text


async def test_delete_of_one_partner_ends_the_link_for_the_other(
    bridges: Bridges, sandbox: Sandbox
):
    alex, sam = await _linked_pair(bridges, sandbox)
    await bridges.next_day_at(DAY2)
    await bridges.press(alex, "Yes, I sent it")
    await bridges.press(sam, "Not yet")  # both answered: shown tonight, had Sam stayed
    await bridges.say(sam, "/delete")
    await bridges.press(sam, sam.last.button_labels()[0])
    assert "link" not in alex.last.text
    await bridges.next_day_at(EVENING2)  # Alex's evening: told of the end, shown nothing
    assert alex.last.text == ENDED
    assert not any("Sam answered" in m.text for m in alex.inbox)
    assert bridges.repo is not None
    assert await bridges.repo.partner(1001) is None
    await bridges.say(alex, "/together")  # free to invite someone new
    assert _CODE.search(alex.last.text) is not None


async def test_an_answer_kept_from_the_partner_shows_only_that_it_was_given(
    bridges: Bridges, sandbox: Sandbox
):
    alex, sam = await _linked_pair(bridges, sandbox)
    await bridges.next_day_at(DAY2)
    await bridges.press(sam, "Not yet")
    await bridges.press(sam, "🔒 Keep this from Alex")
    assert sam.last.text == "🔒 Kept to yourself. Alex will see only that you answered."
    assert not sam.inbox[-2].buttons  # the button is gone once tapped
    await bridges.press(alex, "Yes, I sent it")
    await bridges.next_day_at(EVENING2)
    assert alex.last.text.endswith("Sam answered, and kept the answer to themself.")
    assert "Not yet" not in alex.last.text
    assert "Alex answered: “Yes, I sent it”" in sam.last.text  # Alex kept nothing
    await bridges.press(alex, "🔒 Keep this from Sam")  # too late: Sam has seen it
    assert "Sam has already seen this answer" in alex.last.text


async def test_linked_learners_see_the_practice_for_two_and_others_do_not(
    bridges: Bridges, sandbox: Sandbox
):
    alex, sam = await _linked_pair(bridges, sandbox, sam_language="nl")
    kim = sandbox.user(1003, "Kim")
    await bridges.onboard(kim, first_now=False)
    for day in range(3, 10):  # days 1-7 of the course; day 7 is the empathy review
        report = await bridges.next_day_at(datetime(2026, 3, day, 7, 0, tzinfo=UTC))
        assert report.sent >= 3, day  # and, from day 2, the answers shown the evening before
        for user in (alex, sam, kim):  # each answers, so silence pauses nobody
            lesson = next(m for m in reversed(user.inbox) if "Day " in m.text or "Dag " in m.text)
            if lesson.buttons:
                await bridges.press(user, lesson.button_labels()[0])
            else:
                await bridges.say(user, "a few words")
    review = [m.text for m in alex.inbox if "Day 7 of" in m.text]
    assert len(review) == 1 and "🤝 Together:" in review[0]
    assert any("Dag 7 van" in m.text and "🤝 Samen:" in m.text for m in sam.inbox)
    assert not any("🤝 Together:" in m.text for m in kim.inbox)  # not linked: not shown
    day6 = [m.text for m in alex.inbox if "Day 6 of" in m.text]
    assert day6 and "🤝 Together:" not in day6[0]  # a lesson without one shows none


async def test_a_pair_far_apart_chooses_a_day_then_moves_in_step_and_a_pause_holds_it(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex, first_now=False)
    for day in range(3, 6):  # Alex has days 1-3 before inviting anyone
        await bridges.next_day_at(datetime(2026, 3, day, 7, 0, tzinfo=UTC))
        await bridges.press(alex, alex.last.button_labels()[0])
    code, _payload = await _invite(bridges, alex)
    sam = sandbox.user(1002, "Sam")
    await bridges.onboard(sam, zone="America/New_York", time="07:00", first_now=False)
    await bridges.say(sam, f"/together {code}")
    await bridges.press(sam, "🤝 Link with Alex")
    assert "Days of the course done so far: Alex 3, you 0." in sam.last.text
    assert sam.last.button_labels() == ["Together from day 4", "Both from day 1"]
    await bridges.press(sam, "Together from day 4")
    assert "You and Alex go on together from day 4" in sam.last.text
    assert "You and Sam go on together from day 4" in alex.last.text
    await bridges.next_day_at(datetime(2026, 3, 6, 7, 0, tzinfo=UTC))  # 08:00 in Amsterdam
    await bridges.next_day_at(datetime(2026, 3, 6, 12, 0, tzinfo=UTC))  # 07:00 in New York
    assert "Day 4 of" in _newest_lesson(alex) and "Day 4 of" in _newest_lesson(sam)
    await bridges.say(sam, "/pause")
    seen = len(alex.inbox)
    await bridges.next_day_at(datetime(2026, 3, 7, 7, 0, tzinfo=UTC))  # the pair's day 5 waits
    assert [m.text for m in alex.inbox[seen:]] == [
        "🤝 Your next lesson waits for Sam, so that you two go on together. It comes at your"
        " usual time once Sam has caught up, or in three days at the latest. To go on alone,"
        " send /together off."
    ]
    await bridges.say(alex, "/today")
    assert "waits for Sam" in alex.last.text
    await bridges.next_day_at(datetime(2026, 3, 8, 7, 0, tzinfo=UTC))
    assert len(alex.inbox) == seen + 2  # told once: nothing the next day
    await bridges.say(sam, "/resume")
    await bridges.say(alex, "/today")  # as this morning said, all day: not "Sam is back"
    assert "waits for Sam" in alex.last.text
    await bridges.next_day_at(datetime(2026, 3, 8, 12, 0, tzinfo=UTC))
    await bridges.next_day_at(datetime(2026, 3, 9, 7, 0, tzinfo=UTC))
    assert "Day 5 of" in _newest_lesson(sam) and "Day 5 of" in _newest_lesson(alex)


def _newest_lesson(user: SandboxUser) -> str:
    return next(m.text for m in reversed(user.inbox) if "Day " in m.text)


async def test_a_partner_who_blocked_the_bot_holds_nobody_and_is_shown_nothing(
    bridges: Bridges, sandbox: Sandbox
):
    alex, sam = await _linked_pair(bridges, sandbox)
    sam.block()
    await bridges.next_day_at(DAY2)  # Sam's lesson meets a 403: Sam is set aside
    await bridges.press(alex, "Yes, I sent it")
    await bridges.next_day_at(EVENING2)
    report = await bridges.next_day_at(DAY2 + timedelta(days=1))
    assert report.sent == 1 and "Day 2 of" in _newest_lesson(alex)  # not held by Sam
    assert not any("waits for Sam" in m.text or "answered:" in m.text for m in alex.inbox)


async def test_partners_13_hours_apart_across_a_dst_night_each_get_the_same_lesson(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex, zone="Pacific/Auckland", first_now=False)
    code, _payload = await _invite(bridges, alex)
    sam = sandbox.user(1002, "Sam")
    await bridges.onboard(sam, zone="Europe/London", first_now=False)
    await bridges.say(sam, f"/together {code}")
    await bridges.press(sam, "🤝 Link with Alex")
    start = datetime(2026, 3, 27, 0, 0, tzinfo=UTC)  # London moves its clocks on the 29th
    for hour in range(24 * 5):
        await bridges.next_day_at(start + timedelta(hours=hour))
    days = {
        user.first_name: [
            m.text.split("Day ")[-1].split(" of")[0] for m in user.inbox if "Day " in m.text
        ]
        for user in (alex, sam)
    }
    assert days["Alex"][:5] == days["Sam"][:5] == ["1", "2", "3", "4", "5"]
    assert not any("waits for" in m.text for m in alex.inbox + sam.inbox)


async def test_a_partner_who_stops_holds_nobody_and_both_leaving_ends_it_once(
    bridges: Bridges, sandbox: Sandbox
):
    alex, sam = await _linked_pair(bridges, sandbox)
    await bridges.next_day_at(DAY2)
    await bridges.press(sam, "Not yet")
    await bridges.say(sam, "/stop")
    await bridges.press(alex, "Yes, I sent it")
    await bridges.next_day_at(EVENING2)  # Sam stopped: nothing is shown to anyone
    await bridges.next_day_at(DAY2 + timedelta(days=1))
    assert "Day 2 of" in _newest_lesson(alex)  # Alex goes on: a stopped partner holds nobody
    assert not any("answered:" in m.text or "waits for" in m.text for m in alex.inbox + sam.inbox)
    await bridges.say(alex, "/together off")
    await bridges.say(sam, "/together off")  # the second press finds nothing to end
    assert "The link has ended" in alex.last.text
    assert "You're not linked with anyone" in sam.last.text


async def test_an_invite_opened_by_someone_who_had_blocked_the_bot_links(
    bridges: Bridges, sandbox: Sandbox
):
    alex = sandbox.user(1001, "Alex")
    await bridges.onboard(alex, first_now=False)
    kim = sandbox.user(1003, "Kim")
    await bridges.onboard(kim, first_now=False)
    kim.block()
    await bridges.next_day_at(DAY2)  # Kim's lesson meets a 403: Kim is set aside
    code, _payload = await _invite(bridges, alex)
    await bridges.say(kim, f"/together {code}")  # writing again unblocks, as in Telegram
    await bridges.press(kim, "🤝 Link with Alex")
    assert "You and Alex are taking Bridges together now" in kim.last.text


async def test_a_keep_button_tapped_after_the_link_ended_says_so(
    bridges: Bridges, sandbox: Sandbox
):
    alex, sam = await _linked_pair(bridges, sandbox, sam_language="nl")
    await bridges.next_day_at(DAY2)
    await bridges.press(sam, "Nog niet")
    assert sam.last.button_labels() == ["🔒 Houd dit voor Alex verborgen"]
    await bridges.say(alex, "/together off")
    await bridges.press(sam, "🔒 Houd dit voor Alex verborgen")  # stale now
    assert sam.last.text == "De koppeling is beëindigd, dus er wordt niets meer gedeeld."


async def test_back_from_a_long_pause_a_partner_is_offered_to_catch_up(
    bridges: Bridges, sandbox: Sandbox
):
    alex, sam = await _linked_pair(bridges, sandbox)
    await bridges.next_day_at(DAY2)  # both get day 1
    await bridges.say(sam, "/pause")
    for day in range(4, 10):  # Alex waits three days, then goes on alone
        await bridges.next_day_at(datetime(2026, 3, day, 7, 0, tzinfo=UTC))
        if alex.last.buttons:
            await bridges.press(alex, alex.last.button_labels()[0])
    assert "Day 4 of" in _newest_lesson(alex)
    await bridges.say(sam, "/resume")
    assert "While you were away, Alex went on." in sam.last.text
    assert "Alex 4, you 1" in sam.last.text
    assert sam.last.button_labels() == ["Together from day 5", "Go on from where I am"]
    await bridges.press(sam, "Together from day 5")
    assert "You and Alex go on together from day 5" in sam.last.text
    await bridges.next_day_at(datetime(2026, 3, 10, 7, 0, tzinfo=UTC))
    assert "Day 5 of" in _newest_lesson(sam) and "Day 5 of" in _newest_lesson(alex)


async def test_after_the_link_ended_today_no_longer_waits(bridges: Bridges, sandbox: Sandbox):
    alex, sam = await _linked_pair(bridges, sandbox)
    await bridges.next_day_at(DAY2)
    await bridges.say(sam, "/pause")
    await bridges.next_day_at(DAY2 + timedelta(days=1))
    assert "waits for Sam" in alex.last.text
    await bridges.say(alex, "/together off")
    await bridges.say(alex, "/today")  # alone now: day 2 comes at once
    assert "Day 2 of" in _newest_lesson(alex)
