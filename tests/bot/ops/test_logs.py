"""Logs: plain text by default, JSON lines on request, the token redacted in both."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.ops.logs import MIGRATION_LOGGER, configure_logging
from storage.db import create_engine, upgrade_schema
from storage.health import HealthProbe

TOKEN = "123456:" + "L" * 35


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    migration_level = logging.getLogger(MIGRATION_LOGGER).level
    yield
    logging.getLogger(MIGRATION_LOGGER).setLevel(migration_level)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def _log_with_secret() -> None:
    log = logging.getLogger("bridges.test")
    log.info("calling https://api.telegram.org/bot%s/getMe", TOKEN)
    try:
        raise RuntimeError(f"failed at /bot{TOKEN}/sendMessage")
    except RuntimeError:
        log.exception("send failed")


def test_text_is_the_default(capsys: pytest.CaptureFixture[str]):
    configure_logging("INFO", secrets=[TOKEN])
    _log_with_secret()
    err = capsys.readouterr().err
    assert "INFO bridges.test: calling https://api.telegram.org/bot[REDACTED]/getMe" in err
    assert "RuntimeError" in err
    assert TOKEN.split(":")[1] not in err
    with pytest.raises(json.JSONDecodeError):
        json.loads(err.splitlines()[0])


def test_json_lines_carry_time_level_logger_message_and_exception(
    capsys: pytest.CaptureFixture[str],
):
    configure_logging("INFO", secrets=[TOKEN], fmt="json")
    _log_with_secret()
    err = capsys.readouterr().err
    assert TOKEN.split(":")[1] not in err
    first, second = (json.loads(line) for line in err.splitlines())
    assert first["level"] == "INFO" and first["logger"] == "bridges.test"
    assert first["message"] == "calling https://api.telegram.org/bot[REDACTED]/getMe"
    assert first["time"].endswith("+00:00")
    assert "exception" not in first
    assert second["level"] == "ERROR" and second["message"] == "send failed"
    assert "RuntimeError: failed at /bot[REDACTED]/sendMessage" in second["exception"]


async def test_health_probes_write_no_alembic_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Every /healthz opens a migration context; Alembic's INFO lines stay out of the log."""
    engine = create_engine(f"sqlite:///{tmp_path / 'quiet.db'}")
    try:
        await upgrade_schema(engine)
        capsys.readouterr()
        configure_logging("INFO")
        await HealthProbe(engine).schema()
        await HealthProbe(engine).schema()
    finally:
        await engine.dispose()
    assert "alembic" not in capsys.readouterr().err


async def test_db_upgrade_logging_still_says_what_it_migrated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    configure_logging("INFO", migrations=True)
    engine = create_engine(f"sqlite:///{tmp_path / 'loud.db'}")
    try:
        await upgrade_schema(engine)
    finally:
        await engine.dispose()
    assert "Running upgrade" in capsys.readouterr().err
