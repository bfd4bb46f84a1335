"""The `bridges` command: run against any Bot API server, the piped demo, clear errors."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from bot.tools.sandbox import Sandbox
from scheduler.clock import system_clock
from storage.db import create_engine, upgrade_schema
from storage.repo import Repo
from tests.helpers import make_learner

TOKEN = "123456:" + "Q" * 35


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGES_")}
    env["BRIDGES_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    env.update(extra)
    return env


def _bridges(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bot.ops.cli", *args],
        cwd=tmp_path,
        env=_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("token", "expected"),
    [("", "BRIDGES_TELEGRAM_TOKEN is not set"), ("not a token", "does not look like a bot token")],
)
def test_missing_or_malformed_token_is_one_clear_line(tmp_path: Path, token: str, expected: str):
    result = _bridges("run", tmp_path=tmp_path, BRIDGES_TELEGRAM_TOKEN=token)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0]
    assert "Traceback" not in result.stderr
    if token:
        assert token not in result.stderr


def test_bad_setting_is_one_clear_line(tmp_path: Path):
    result = _bridges("run", tmp_path=tmp_path, BRIDGES_TICK_SECONDS="soon")
    assert result.returncode == 2
    assert result.stderr.startswith("bridges: BRIDGES_TICK_SECONDS:")
    assert "Traceback" not in result.stderr


def test_db_upgrade_creates_the_schema(tmp_path: Path):
    result = _bridges("db", "upgrade", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cli.db").exists()


def test_lessons_check_passes(tmp_path: Path):
    result = _bridges("lessons", "check", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "All lessons are fine" in result.stdout


def test_piped_demo_walks_through_days_and_ends_cleanly(tmp_path: Path):
    # Onboard; snooze day 1 an hour; each day the lesson at 08:00 and its check-in at 20:00;
    # seven answered days earn a freeze, day 8 goes unanswered, day 9 says the freeze kept
    # the streak; then the chart and the export.
    day = ":next\n:next\n{}\n"
    answers = ["1", "4", "1", "I listened first 🙂 <&>", "3", "A good talk", "1"]
    script = (
        "/start\n1\n1\n2\n1\n1\n:next\n:next\n1\n"  # day 1, snoozed and answered
        + "".join(day.format(answer) for answer in answers[1:])
        + ":next\n:next\n:next\n/progress\n/export\n"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bot.ops.cli", "demo"],
        cwd=tmp_path,
        env=_env(tmp_path, LANG="C.UTF-8", TMPDIR=str(tmp_path)),
        input=script,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\033[" not in out  # plain text when not a terminal
    assert "<b>" not in out  # every message is HTML Telegram parsed, never escaped tags
    for expected in (
        "not therapy",
        "Day 1 of 40",
        "[1] ⏰ In an hour  [2] 🌙 This evening",
        "I'll send this lesson again today at",
        "🌙 Evening check-in",
        "Thanks for sharing that",
        "7-day streak",
        "a streak freeze kept your 7-day streak safe",
        "Day 9 of 40",
        "Streak freezes: 0 of 2",
    ):
        assert expected in out, expected
    assert "resending" not in result.stderr
    saved = re.findall(r"\(photo saved to (\S+\.png)\)", out)
    assert len(saved) == 1 and Path(saved[0]).read_bytes().startswith(b"\x89PNG")
    (export,) = re.findall(r"\(document saved to (\S+\.json)\)", out)
    assert len(json.loads(Path(export).read_text())["deliveries"]) == 9
    assert out.rstrip().endswith("gone now.)")


async def _wait_for(sandbox: Sandbox, condition: Callable[[], bool]) -> None:
    arrived = asyncio.Event()
    loop = asyncio.get_running_loop()
    sandbox.add_listener(lambda *_: loop.call_soon_threadsafe(arrived.set))
    async with asyncio.timeout(60):
        while not condition():
            arrived.clear()
            await arrived.wait()


async def test_bridges_run_talks_to_any_bot_api_server(tmp_path: Path):
    """`bridges run` with BRIDGES_TELEGRAM_BASE_URL pointing at the sandbox does the loop."""
    # DEBUG logs outgrow a pipe's buffer long before the test reads it; a file never blocks.
    log_file = (tmp_path / "stderr.log").open("wb")
    async with Sandbox(token=TOKEN) as sandbox:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.ops.cli",
            "run",
            cwd=tmp_path,
            env=_env(
                tmp_path,
                BRIDGES_TELEGRAM_TOKEN=TOKEN,
                BRIDGES_TELEGRAM_BASE_URL=sandbox.base_url,
                BRIDGES_TICK_SECONDS="1",
                BRIDGES_LOG_LEVEL="DEBUG",
            ),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log_file,
        )
        try:
            alex = sandbox.user(1001, "Alex")
            alex.send("/start")
            await _wait_for(sandbox, lambda: len(alex.inbox) >= 2)
            assert "not therapy" in alex.inbox[0].text
            alex.press("🇬🇧 English")
            alex.send("/timezone Asia/Kathmandu")
            alex.send("/time 09:15")
            await _wait_for(sandbox, lambda: "first lesson" in alex.last.text)
            alex.press("Yes, send it now")
            await _wait_for(sandbox, lambda: "Day 1 of" in alex.last.text)
            assert ("default", "nl") in sandbox.commands
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=30)
            log_file.close()
        stderr = (tmp_path / "stderr.log").read_bytes()
        assert process.returncode == 0, stderr.decode()
        logged = stderr.decode()
        assert "Bridges is running" in logged
        assert TOKEN not in logged and TOKEN.split(":")[1] not in logged


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _fresh_postgres(url: str) -> None:
    """An empty public schema: a worker needs PostgreSQL, and this test its own state."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    finally:
        await connection.close()


async def test_bridges_worker_ticks_without_taking_updates_and_stops_on_sigterm(
    tmp_path: Path, postgres_database: str
):
    """`bridges worker --metrics-port N` sends a due lesson, serves /healthz, exits 0."""
    database = postgres_database
    await _fresh_postgres(database)
    engine = create_engine(database)
    await upgrade_schema(engine)
    two_days_ago = system_clock() - timedelta(days=2)
    await make_learner(Repo(engine), two_days_ago, zone="UTC", daily_time="00:00")
    await engine.dispose()
    port = _free_port()
    async with Sandbox(token=TOKEN) as sandbox:
        alex = sandbox.user(1001, "Alex")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.ops.cli",
            "worker",
            "--metrics-port",
            str(port),
            cwd=tmp_path,
            env=_env(
                tmp_path,
                BRIDGES_TELEGRAM_TOKEN=TOKEN,
                BRIDGES_TELEGRAM_BASE_URL=sandbox.base_url,
                BRIDGES_TICK_SECONDS="1",
                BRIDGES_LISTEN_HOST="127.0.0.1",
                BRIDGES_LOG_FORMAT="json",
                BRIDGES_DATABASE_URL=database,
            ),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await _wait_for(sandbox, lambda: len(alex.inbox) >= 1)
            assert "Day 1 of" in alex.inbox[0].text
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    assert response.status == 200, await response.text()
                async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                    assert 'bridges_lessons_total{outcome="sent"} 1.0' in await response.text()
            assert sandbox.calls("getUpdates") == []
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0, stderr.decode()
        lines = [json.loads(line) for line in stderr.decode().splitlines()]
        assert any("Bridges is running (worker)" in line["message"] for line in lines)
        assert TOKEN.split(":")[1] not in stderr.decode()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "BRIDGES_WEBHOOK_URL is not set"),
        ({"BRIDGES_WEBHOOK_URL": "https://bridges.example/tg"}, "BRIDGES_WEBHOOK_SECRET must"),
        (
            {"BRIDGES_WEBHOOK_URL": "https://x.example/tg", "BRIDGES_WEBHOOK_SECRET": "a b"},
            "BRIDGES_WEBHOOK_SECRET must",
        ),
    ],
)
def test_webhook_needs_its_url_and_secret(tmp_path: Path, env: dict[str, str], expected: str):
    result = _bridges("run", "--webhook", tmp_path=tmp_path, BRIDGES_TELEGRAM_TOKEN=TOKEN, **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bridges: ") and expected in lines[0]


async def test_sigterm_during_a_long_fan_out_stops_soon_and_leaves_nothing_half_sent(
    tmp_path: Path, postgres_database: str
):
    """300 learners due at 30 a second is ten seconds of sending; SIGTERM after the first few."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import text

    from storage.db import create_engine, upgrade_schema
    from storage.repo import Repo
    from tests.helpers import make_learner

    await _fresh_postgres(postgres_database)  # a worker needs PostgreSQL
    engine = create_engine(postgres_database)
    await upgrade_schema(engine)
    repo = Repo(engine)
    now = datetime.now(UTC)  # the worker runs on the system clock
    for learner_id in range(3000, 3300):
        await make_learner(repo, now, learner_id=learner_id)
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE learner SET next_due_at = :due"),
            {"due": now - timedelta(minutes=1)},
        )
    log_file = (tmp_path / "stderr.log").open("wb")
    async with Sandbox(token=TOKEN, auto_users=True) as sandbox:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.ops.cli",
            "worker",
            cwd=tmp_path,
            env=_env(
                tmp_path,
                BRIDGES_TELEGRAM_TOKEN=TOKEN,
                BRIDGES_TELEGRAM_BASE_URL=sandbox.base_url,
                BRIDGES_TICK_SECONDS="1",
                BRIDGES_DATABASE_URL=postgres_database,
            ),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log_file,
        )
        try:
            await _wait_for(sandbox, lambda: len(sandbox.calls("sendMessage")) >= 10)
        finally:
            process.send_signal(signal.SIGTERM)
            # Liveness, not speed: it must not send the whole backlog before exiting.
            await asyncio.wait_for(process.wait(), timeout=30)
            log_file.close()
        sent = len(sandbox.calls("sendMessage"))
    assert process.returncode == 0, (tmp_path / "stderr.log").read_text()
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT state, claimed_at < '2001-01-01' AS released, count(*) "
                "FROM delivery GROUP BY state, released"
            )
        )
        states = {(str(state), bool(released)): int(count) for state, released, count in rows}
    await engine.dispose()
    assert sent < 300  # stopped claiming
    # Every lesson that went out is recorded; what it had claimed but not sent it handed
    # back for the next process (lease already expired); nothing is left half-sent.
    assert states.get(("sent", False)) == sent
    assert set(states) <= {("sent", False), ("sending", True)}


def test_worker_refuses_sqlite_in_one_line(tmp_path: Path):
    """bridges-worker.service on SQLite would tick on an empty database of its own."""
    result = _bridges("worker", tmp_path=tmp_path, BRIDGES_TELEGRAM_TOKEN=TOKEN)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bridges: ") and "PostgreSQL" in lines[0]
    assert not (tmp_path / "cli.db").exists()


DOWN = "postgresql://postgres:pw-not-shown-anywhere@127.0.0.1:1/bridges"


@pytest.mark.parametrize("command", [("run",), ("db", "upgrade")])
def test_a_database_that_is_down_is_one_line_not_a_traceback(tmp_path: Path, command: tuple[str]):
    result = _bridges(
        *command, tmp_path=tmp_path, BRIDGES_TELEGRAM_TOKEN=TOKEN, BRIDGES_DATABASE_URL=DOWN
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "the database did not answer" in lines[0]
    assert "Traceback" not in result.stderr and "pw-not-shown-anywhere" not in result.stderr


def test_a_start_up_failure_is_a_redacted_json_line_when_asked(tmp_path: Path):
    """With DEBUG the traceback comes along, inside the one JSON object, redacted."""
    result = _bridges(
        "run",
        tmp_path=tmp_path,
        BRIDGES_TELEGRAM_TOKEN=TOKEN,
        BRIDGES_DATABASE_URL=DOWN,
        BRIDGES_LOG_FORMAT="json",
        BRIDGES_LOG_LEVEL="DEBUG",
    )
    assert result.returncode == 1
    entries = [json.loads(line) for line in result.stderr.strip().splitlines()]
    [failure] = [entry for entry in entries if entry["level"] == "ERROR"]
    assert failure["message"].startswith("bridges run failed: the database did not answer")
    assert "Traceback" in failure["exception"]
    assert "pw-not-shown-anywhere" not in result.stderr
    assert TOKEN.split(":")[1] not in result.stderr


async def _stamp_newer(url: str) -> None:
    """The database as a newer Bridges would leave it: at a revision this code lacks."""
    from sqlalchemy import text

    engine = create_engine(url)
    await upgrade_schema(engine)
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    await engine.dispose()


@pytest.mark.parametrize("command", [("run",), ("db", "upgrade")])
async def test_a_database_newer_than_the_code_says_upgrade_bridges(
    tmp_path: Path, command: tuple[str]
):
    await _stamp_newer(f"sqlite:///{tmp_path / 'cli.db'}")
    result = await asyncio.to_thread(
        _bridges, *command, tmp_path=tmp_path, BRIDGES_TELEGRAM_TOKEN=TOKEN
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    if command == ("run",):
        assert len(lines) == 1, result.stderr
    else:  # `db upgrade` says what Alembic is doing first
        assert len(lines) > 1, result.stderr
        assert all("alembic" in line for line in lines[:-1]), result.stderr
    assert "Traceback" not in result.stderr
    assert "revision 9999, newer than this Bridges" in lines[-1]
    assert lines[-1].endswith("upgrade Bridges")


def test_db_upgrade_says_what_it_migrated(tmp_path: Path):
    result = _bridges("db", "upgrade", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Running upgrade" in result.stderr and "is up to date" in result.stderr


def test_the_sandbox_token_passes_the_token_check_and_is_printed(tmp_path: Path):
    """README points `bridges run` at `python -m bot.tools.sandbox`: its token must be accepted."""
    from bot.ops.settings import Settings, checked_token
    from bot.tools.sandbox.server import SANDBOX_TOKEN

    settings = Settings(_env_file=None, telegram_token=SANDBOX_TOKEN)  # type: ignore[call-arg]
    assert checked_token(settings) == SANDBOX_TOKEN
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bot.tools.sandbox", "--port", "0", "--quiet"],
        cwd=tmp_path,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    with process.stdout:
        try:
            first = process.stdout.readline()
            second = process.stdout.readline()
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert first.startswith("sandbox Bot API: base_url=http://127.0.0.1:")
    assert second.strip() == f"sandbox token: {SANDBOX_TOKEN}"
    readme = (Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
    assert f"BRIDGES_TELEGRAM_TOKEN={SANDBOX_TOKEN}" in readme  # what README tells people to run


def test_piped_demo_takes_an_early_answer_and_a_typed_number(tmp_path: Path):
    # The README's second run: day 1 answered in words right after its lesson, day 2's
    # scale with a typed "4" (two "later" buttons show, so 4 is typed, not pressed).
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bot.ops.cli", "demo"],
        cwd=tmp_path,
        env=_env(tmp_path, LANG="C.UTF-8", TMPDIR=str(tmp_path)),
        input="/start\n1\n1\n2\n1\nyes, I sent it!\n:next\n4\n:next\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Your answer: Yes, I sent it" in out
    assert "It counts for today: I won't ask you again this evening." in out
    assert "Evening check-in" not in out
    assert "(no button 4: sent as a typed message)" in out
    assert "Your answer: 4" in out and "2-day streak" in out


# The README's third run: two phones, a link, a mutual reveal (one answer kept) and an unlink.
TOGETHER_RUN = (
    "/start\n1\n1\n2\n2\n/together\n:as Sam\n:open\n1\n1\n2\n2\n1\n:next\nnot yet\n1\n"
    ":as Alex\nyes, I sent it!\n:next\n/together off\n:next\n"
)


def test_piped_demo_plays_two_phones_linked_then_unlinked(tmp_path: Path):
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bot.ops.cli", "demo"],
        cwd=tmp_path,
        env=_env(tmp_path, LANG="C.UTF-8", TMPDIR=str(tmp_path)),
        input=TOGETHER_RUN,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "── you are Sam now, on their own phone ──" in out
    assert "🤝 Alex has invited you to take Bridges together." in out  # :open tapped the link
    assert "Bridges (to Alex) › 🤝 You and Sam are taking Bridges together now." in out
    assert "🔒 Kept to yourself. Alex will see only that you answered." in out
    evening = out.index(", 20:00 (Europe/Amsterdam) ──")  # the demo's first evening
    assert "Sam answered, and kept the answer to themself." in out[evening:]
    assert "Bridges (to Sam) › 🤝 You have both answered" in out[evening:]
    assert "Alex answered: “Yes, I sent it”" in out[evening:]
    ended = out.index("Bridges (to Sam) › The Bridges link has ended.")
    assert ended > out.index(", 08:00 (Europe/Amsterdam) ──", evening)  # Sam's next lesson
    readme = (Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
    assert TOGETHER_RUN.replace("\n", "\\n") in readme
