"""Each bench once at a tiny size: its JSON keys and its correctness counters, never its timing."""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from bot.tools.bench import (
    add_bench_commands,
    checkin,
    claim,
    fanout,
    kill,
    lateness,
    limit,
    memory,
    run_bench,
)
from storage.seed import bench_database
from tests.conftest import POSTGRES_URL

DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _args(bench: str, *argv: str, plot: Path | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_bench_commands(parser)
    extra = ["--plot", str(plot)] if plot is not None else []
    return parser.parse_args([bench, *argv, "--postgres-url", POSTGRES_URL, *extra])


@pytest.mark.parametrize("db", DATABASES)
async def test_claim_reports_its_keys_and_claims_everyone(db: str, tmp_path: Path):
    args = _args(
        "claim",
        "--learners",
        "200",
        "--db",
        db,
        "--batch",
        "50",
        "--claims",
        "0",
        plot=tmp_path / "claim.png",
    )
    result = await claim.main(args)
    assert {"claims_per_s", "p50_ms", "p99_ms", "learners", "db", "machine", "batch"} <= set(result)
    assert result["claimed"] == 200 and result["batches"] == 4
    assert (result["learners"], result["db"], result["batch"]) == (200, db, 50)
    assert (tmp_path / "claim.png").stat().st_size > 0


@pytest.mark.parametrize("db", DATABASES)
async def test_fanout_sends_everyone_once(db: str, tmp_path: Path):
    args = _args("fanout", "--learners", "200", "--db", db, plot=tmp_path / "fanout.png")
    result = await fanout.main(args)
    assert {"lessons_per_s", "duplicates", "missed", "learners", "db", "machine"} <= set(result)
    assert result["duplicates"] == 0
    assert result["missed"] == 0
    assert result["sent"] == 200
    assert (tmp_path / "fanout.png").stat().st_size > 0


async def test_memory_measures_bridges_and_the_job_per_learner_script(tmp_path: Path):
    result = await memory.bench_memory([200], settle=0.2)
    memory.plot(result, str(tmp_path / "memory.png"))
    assert (
        set(result["rss_mb"]) == set(result["jobs_rss_mb"]) == set(result["startup_s"]) == {"200"}
    )
    assert result["rss_mb"]["200"] > 0 and result["jobs_rss_mb"]["200"] > 0
    assert "machine" in result
    assert (tmp_path / "memory.png").stat().st_size > 0


async def test_checkin_times_answers_idle_and_during_a_fanout(tmp_path: Path):
    run = await checkin.bench_checkin(answers=3, fanout_learners=150)
    checkin.plot(run, str(tmp_path / "checkin.png"))
    result = run.result()
    assert {"idle_p99_ms", "idle_p50_ms", "fanout_p99_ms", "fanout_p50_ms", "machine"} <= set(
        result
    )
    assert len(run.idle_ms) == 3 and len(run.fanout_ms) == 3
    assert run.fanout_sent_during > 0  # the answers really were timed during a fan-out


@pytest.mark.parametrize("db", DATABASES)
async def test_seeding_inserts_done_learners_and_the_database_is_dropped(db: str):
    async with bench_database(db, postgres_url=POSTGRES_URL) as database:
        from scheduler.clock import system_clock

        ids = await database.seed(500, system_clock())
        assert await database.count_learners() == 500
        learner = await database.repo.get_learner(ids[1])
        assert learner is not None
        assert (learner.onboarding_step, learner.status, learner.language) == (
            "done",
            "active",
            "nl",
        )
        url = database.url
    if db == "postgresql":
        name = url.rsplit("/", 1)[1]
        connection = await asyncpg.connect(POSTGRES_URL)
        try:
            left = await connection.fetchval(
                "SELECT count(*) FROM pg_database WHERE datname = $1", name
            )
        finally:
            await connection.close()
        assert left == 0
    else:
        assert not await asyncio.to_thread(Path(url.removeprefix("sqlite:///")).exists)


def test_plot_without_matplotlib_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code = run_bench(_args("claim", "--learners", "10", plot=tmp_path / "x.png"))
    assert code == 2
    err = capsys.readouterr().err
    assert "pip install -e '.[bench]'" in err
    assert not (tmp_path / "x.png").exists()


def test_cli_prints_progress_on_stderr_and_one_json_line_last_on_stdout(tmp_path: Path):
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "bot.ops.cli",
            "bench",
            "claim",
            "--learners",
            "50",
            "--db",
            "sqlite",
            "--claims",
            "0",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[-1])["claimed"] == 50
    assert "50/50" in result.stderr  # the progress bar (text mode reads its \r as a newline)


def test_a_bad_learner_list_is_a_friendly_error(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_:
        _args("memory", "--learners", "lots")
    assert exit_.value.code == 2
    assert "learner counts like 0,100000,1000000" in capsys.readouterr().err


@pytest.mark.postgres
async def test_limit_two_workers_share_the_budget_without_a_429(tmp_path: Path):
    args = _args("limit", "--processes", "2", "--seconds", "2", plot=tmp_path / "limit.png")
    result = await limit.main(args)
    assert {"share_of_limit", "http_429", "learners", "db", "machine"} <= set(result)
    assert result["http_429"] == 0  # the strict sandbox refused nothing
    assert result["most_in_one_second"] <= 30
    assert (result["sent"], result["missed"], result["duplicates"]) == (60, 0, 0)
    assert result["processes"] == 2
    assert (tmp_path / "limit.png").stat().st_size > 0


async def test_lateness_window_halves_the_worst_wait_of_first_in_first_out(tmp_path: Path):
    # Virtual time: 200 learners in one minute at 1 message a second is a backlog of 200 s.
    run = await lateness.bench_lateness(learners=200, per_second=1.0, early_minutes=5)
    lateness.plot(run, str(tmp_path / "lateness.png"))
    result = run.result()
    assert {"fifo_max_s", "window_max_s", "window_p95_s", "learners", "db", "machine"} <= set(
        result
    )
    assert result["sent"] == [200, 200]
    assert min(run.fifo.lateness) >= 0  # first-in-first-out never sends before the time
    assert result["window_earliest_s"] < 0  # the window starts before it
    assert result["window_max_s"] <= 0.75 * result["fifo_max_s"]
    assert (tmp_path / "lateness.png").stat().st_size > 0


def test_kill_plan_visits_every_crash_point_like_the_kill_test():
    assert kill.plan(20, 12) == [
        *(("claim:before", n) for n in (1, 2, 3, 4)),
        *(("claim:after", n) for n in (1, 2, 3, 4)),
        *(("send:before", n) for n in (1, 5, 8, 12)),
        *(("send:after", n) for n in (1, 5, 8, 12)),
        *(("record:after", n) for n in (1, 5, 8, 12)),
    ]
    assert [point for point, _ in kill.plan(5, 12)] == list(kill.POINTS)


@pytest.mark.postgres
async def test_kill_loses_nothing_and_doubles_only_between_reply_and_record(tmp_path: Path):
    args = _args("kill", "--rounds", "5", "--learners", "3", plot=tmp_path / "kill.png")
    result = await kill.main(args)
    assert {"rounds", "lost", "duplicates", "learners", "db", "machine"} <= set(result)
    assert (result["rounds"], result["not_killed"], result["lost"]) == (5, 0, 0)
    assert result["duplicates"] == result["per_point"]["send:after"]["duplicates"] == 1
    assert result["duplicates_elsewhere"] == 0
    assert (tmp_path / "kill.png").stat().st_size > 0
