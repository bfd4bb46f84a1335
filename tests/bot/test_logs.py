"""Logs: plain text by default, JSON lines on request, the token redacted in both."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import configure_logging

TOKEN = "123456:" + "L" * 35


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
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
