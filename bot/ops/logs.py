"""Logging set-up: to standard error, with secrets redacted, as text or JSON lines.

httpx logs every request URL at INFO, and Telegram's URLs contain the bot
token; those loggers are turned down to WARNING and a filter on every handler
replaces any secret that still slips into a record. The filter runs before
the formatter, so the JSON lines a log collector reads are redacted too.

Alembic's migration logger says "Context impl ..." at INFO every time anything
opens a migration context, and /healthz does that on every call: it is kept at
WARNING except in `bridges db upgrade`, whose whole job is to say what it migrated.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

REDACTED = "[REDACTED]"
MIGRATION_LOGGER = "alembic.runtime.migration"


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # The whole token first, then the part after its colon, which is the secret part.
        expanded: list[str] = []
        for secret in secrets:
            expanded.extend([secret, secret.partition(":")[2]] if ":" in secret else [secret])
        self.secrets = [secret for secret in expanded if len(secret) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        changed = False
        for secret in self.secrets:
            if secret in message:
                message = message.replace(secret, REDACTED)
                changed = True
            if record.exc_text and secret in record.exc_text:
                record.exc_text = record.exc_text.replace(secret, REDACTED)
        if changed:
            record.msg, record.args = message, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(
    level: str = "INFO",
    secrets: Iterable[str] = (),
    *,
    fmt: str = "text",
    migrations: bool = False,
) -> None:
    """Log to standard error as `text` (the default) or `json` lines, with `secrets` redacted.

    `migrations` lets Alembic say which migrations ran (for `bridges db upgrade`).
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger(MIGRATION_LOGGER).setLevel(logging.NOTSET if migrations else logging.WARNING)
