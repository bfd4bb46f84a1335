"""`bridges stats` on a database the real bot filled: four learners over five simulated days."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.ops.cli import main
from bot.tools.sandbox import Sandbox
from tests.e2e.harness import Bridges


async def _fill(bridges: Bridges, sandbox: Sandbox) -> None:
    """Alex answers every day; Sam (Dutch) answers two and pauses; Kim stops; Lee falls silent."""
    alex = sandbox.user(1001, "Alex")
    sam = sandbox.user(2002, "Sam", language_code="nl")
    kim = sandbox.user(3003, "Kim")
    lee = sandbox.user(4004, "Lee")
    # Day 1 (opening-1, a choice) comes at once with onboarding.
    await bridges.onboard(alex)
    await bridges.press(alex, "Yes, I sent it")
    await bridges.onboard(sam)  # Dutch, from the learner's Telegram language
    await bridges.press(sam, "Nog niet")
    await bridges.onboard(kim)
    await bridges.press(kim, "Not yet")
    await bridges.say(kim, "/stop")
    await bridges.onboard(lee)
    await bridges.press(lee, "I wrote it, didn't send it")
    # Day 2 (empathy-1, a scale).
    assert (await bridges.next_day_at(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))).sent == 3
    await bridges.press(alex, "4")
    await bridges.press(sam, "5")
    await bridges.say(sam, "/pause")
    # Day 3 (empathy-2, a choice), day 4 (empathy-3, free text), day 5 (empathy-4, a scale).
    assert (await bridges.next_day_at(datetime(2026, 3, 4, 7, 0, tzinfo=UTC))).sent == 2
    await bridges.press(alex, "Understanding")
    assert (await bridges.next_day_at(datetime(2026, 3, 5, 7, 0, tzinfo=UTC))).sent == 2
    await bridges.say(alex, "I asked how her day really was")
    assert "Thanks for sharing that" in alex.last.text
    assert (await bridges.next_day_at(datetime(2026, 3, 6, 7, 0, tzinfo=UTC))).sent == 2
    await bridges.press(alex, "2")


def _table(output: str, title: str) -> list[list[str]]:
    """The rows of one text table, split on runs of two or more spaces."""
    block = output.split(title + "\n", 1)[1].split("\n\n", 1)[0]
    lines = block.splitlines()[3:]  # the underline, the header, the dashes
    return [re.split(r"\s{2,}", line.strip()) for line in lines if re.match(r"^\s*\d|\(", line)]


async def test_stats_tell_authors_what_learners_did(
    bridges: Bridges,
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    await _fill(bridges, sandbox)
    monkeypatch.setenv("BRIDGES_DATABASE_URL", f"sqlite:///{bridges.database}")
    # A short relative path: the "Wrote <page>" line must fit 80 columns too, and tmp_path
    # is longer under pytest-xdist (a popen-gwN folder in it).
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "report.html"
    # The command runs its own event loop, so it runs in a thread beside the bot's.
    assert await asyncio.to_thread(main, ["stats", "--html", page.name]) == 0
    output = capsys.readouterr().out
    assert max(len(line) for line in output.splitlines()) <= 80

    summary = output.splitlines()[4:12]
    learners = dict(re.split(r"\s{2,}", line) for line in summary)
    assert learners == {
        "enrolled": "4",
        "finished onboarding": "4",
        "active": "3",
        "paused now": "1",
        "stopped": "1",
        "blocked the bot": "0",
        "lessons sent": "13",
        "answers": "9",
    }
    assert _table(output, "Funnel and answer rate per lesson") == [
        ["1", "opening-1", "choice", "4", "100%", "4", "100%"],
        ["2", "empathy-1", "scale", "3", "75%", "2", "67%"],
        ["3", "empathy-2", "choice", "2", "50%", "1", "50%"],
        ["4", "empathy-3", "text", "2", "50%", "1", "50%"],
        ["5", "empathy-4", "scale", "2", "50%", "1", "50%"],
    ]
    assert _table(output, "Choice answers") == [
        ["1", "opening-1", "en", "Yes, I sent it", "1", "33%"],
        ["1", "opening-1", "en", "I wrote it, didn't send it", "1", "33%"],
        ["1", "opening-1", "en", "Not yet", "1", "33%"],
        ["1", "opening-1", "nl", "Nog niet", "1", "100%"],
        ["3", "empathy-2", "en", "Understanding", "1", "100%"],
    ]
    scale = output.split("Scale answers per lesson (1-5)\n", 1)[1]
    assert re.search(r"^empathy-1\s+2\s+4\.50\s+0\s+0\s+0\s+1\s+1$", scale, re.M)
    assert re.search(r"^empathy-4\s+1\s+2\.00\s+0\s+1\s+0\s+0\s+0$", scale, re.M)
    per_key = output.split("Scale mean per key\n", 1)[1]
    assert re.search(r"^empathy\s+3\s+3\.67$", per_key, re.M)
    assert _table(output, "Where learners pause, stop or fall silent") == [
        ["1", "opening-1", "0", "1", "0", "1"],
        ["2", "empathy-1", "1", "0", "0", "0"],
    ]

    html = page.read_text(encoding="utf-8")
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">', html)
    titles = [title for title, _ in images]
    assert "Funnel: learners per day of the course" in titles
    assert "Answer rate per lesson" in titles
    assert "Mean scale per key" in titles
    assert "Choice answers, day 3: empathy-2" in titles
    assert "Where learners pause, stop or fall silent" in titles
    assert all(data.startswith("iVBORw0KGgo") for _, data in images)  # PNG's signature
    assert "<td>I wrote it, didn&#x27;t send it</td>" in html
    assert "<td>Nog niet</td>" in html
    assert "<h3>Where learners pause, stop or fall silent</h3>" in html
