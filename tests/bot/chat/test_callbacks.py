"""Button data: packed under 64 bytes, parsed strictly, forged data refused."""

from __future__ import annotations

import pytest

from bot.chat import callbacks


def test_answer_round_trip():
    data = callbacks.answer_data(123, "not-yet")
    assert data == "v1:a:123:not-yet"
    assert callbacks.parse(data) == callbacks.Callback("a", ("123", "not-yet"))


def test_the_longest_zone_fits():
    data = callbacks.pack(callbacks.ZONE, "America/Argentina/ComodRivadavia")
    assert len(data.encode()) <= 64
    assert callbacks.parse(data) == callbacks.Callback("z", ("America/Argentina/ComodRivadavia",))


def test_too_long_data_is_refused_when_packing():
    with pytest.raises(ValueError, match="64 bytes"):
        callbacks.pack(callbacks.ZONE, "x" * 80)


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "v0:a:1:2",
        "v1",
        "v1:a:1",
        "v1:a:x:1",
        "v1:unknown",
        "v1:l",
        "v1:l:en:nl",
        "v1:a:" + "9" * 80,
        "v1:a:²:1",
        "v1:a:1234567890123:1",
    ],
)
def test_forged_or_stale_data_is_none(data: str | None):
    assert callbacks.parse(data) is None


def test_each_flow_pattern_matches_only_its_own_actions():
    from bot.chat import callbacks

    answers = callbacks.pattern(callbacks.ANSWER)
    assert answers.match(callbacks.answer_data(12, "tried"))
    assert not answers.match("v1:ab:1")  # another action that merely starts alike
    assert not answers.match("v0:a:12:tried")  # a stale version goes to the kind refusal
    onboarding = callbacks.pattern(callbacks.ZONE, callbacks.ZONE_OTHER)
    assert onboarding.match("v1:zo") and onboarding.match("v1:z:Europe/Amsterdam")
    assert not onboarding.match("v1:zx")
