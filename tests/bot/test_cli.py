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
import pytest

from bot.sandbox import Sandbox
from scheduler.clock import system_clock
from storage.db import create_engine, upgrade_schema
from storage.repo import Repo
from tests.helpers import make_learner

TOKEN = "123456:" + "Q" * 35


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGES_")}
    env.update(BRIDGES_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}", **extra)
    return env


def _bridges(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bot.cli", *args],
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
        [sys.executable, "-m", "bot.cli", "demo"],
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
        "I'll send this lesson again on",
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
            "bot.cli",
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


async def test_bridges_worker_ticks_without_taking_updates_and_stops_on_sigterm(tmp_path: Path):
    """`bridges worker --metrics-port N` sends a due lesson, serves /healthz, exits 0."""
    database = f"sqlite:///{tmp_path / 'cli.db'}"
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
            "bot.cli",
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
