"""Read-only questions an operator asks of the database: reachable? migrated? how far behind?

`/healthz`, `/metrics` and `bridges doctor` ask them; nothing here writes.
`start_failure` turns what went wrong while starting (the database down, a
schema newer than this code) into one line the CLI can print without
knowing SQLAlchemy or Alembic.
The backlog query is the claim's own condition (an indexed range on
`next_due_at`), so scraping it every few seconds costs what one tick's
first look costs. Errors come back as `DatabaseUnavailable` with a short
reason, so the caller (which must not know SQLAlchemy) can name them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import func, text
from sqlalchemy.engine import Connection
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from storage.db import alembic_config
from storage.due import due_filter
from storage.models import Learner

# A database that does not answer within this is as good as down for a health check.
PROBE_TIMEOUT_SECONDS = 5.0


class DatabaseUnavailable(Exception):
    """The database could not answer; the message is short and never holds a password."""


@dataclass(frozen=True)
class SchemaState:
    current: str | None
    head: str
    # False when the database was migrated by a newer Bridges than this one: upgrading
    # the database cannot help, upgrading Bridges can.
    known: bool = True

    @property
    def at_head(self) -> bool:
        return self.current == self.head

    @property
    def newer_than_code(self) -> bool:
        return self.current is not None and not self.known


@dataclass(frozen=True)
class Backlog:
    """Learners due now and not yet claimed, and the earliest `next_due_at` among them."""

    due: int
    oldest_due_at: datetime | None

    def lateness_seconds(self, now: datetime) -> float:
        if self.oldest_due_at is None:
            return 0.0
        return max(0.0, (now - self.oldest_due_at).total_seconds())


def sqlite_file_missing(url: str) -> bool:
    """True for a SQLite URL whose file is not there (connecting would quietly create it)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database:
        return False
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return False
    return not Path(parsed.database).exists()


def head_revision() -> str:
    """The newest migration this code ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "storage/migrations has no revisions"
    return head


def known_revisions() -> set[str]:
    """Every migration this code ships; a database at any other revision is newer than it."""
    script = ScriptDirectory.from_config(alembic_config())
    return {revision.revision for revision in script.walk_revisions()}


def start_failure(error: BaseException) -> str | None:
    """One line for a database problem met while starting or migrating; None for anything else.

    Alembic meets a revision it does not ship when the database was migrated by a newer
    Bridges: `bridges db upgrade` cannot fix that, so the line says what can.
    """
    if isinstance(error, CommandError) and "Can't locate revision" in str(error):
        revision = str(error).rpartition(" ")[2].strip("'\"")
        return (
            f"the database is at revision {revision}, newer than this Bridges "
            f"(newest it knows: {head_revision()}): upgrade Bridges"
        )
    if isinstance(error, DatabaseUnavailable):
        return f"the database did not answer: {error}"
    if isinstance(error, SQLAlchemyError | OSError | TimeoutError):
        return f"the database did not answer: {short_reason(error)}"
    return None


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def short_reason(error: BaseException) -> str:
    """One line naming what went wrong, without SQL or connection strings."""
    cause = getattr(error, "orig", None) or error.__cause__ or error
    detail = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    name = type(cause).__name__
    return f"{name}: {detail[:200]}" if detail else name


class HealthProbe:
    """Health queries on one engine; built by the CLI beside the Repo."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def schema(self) -> SchemaState:
        """The database's Alembic revision next to the code's head (also proves it answers)."""
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS), self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
                current = await conn.run_sync(_current_revision)
        except (SQLAlchemyError, OSError, TimeoutError) as error:
            raise DatabaseUnavailable(short_reason(error)) from error
        known = current is None or current in known_revisions()
        return SchemaState(current=current, head=head_revision(), known=known)

    async def backlog(self, now: datetime) -> Backlog:
        """Who is due at `now` by the claim's own rules, and since when."""
        query = select(func.count(), func.min(col(Learner.next_due_at))).where(
            *due_filter(now, timedelta(0))
        )
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS), self._engine.connect() as conn:
                row = (await conn.execute(query)).one()
        except (SQLAlchemyError, OSError, TimeoutError) as error:
            raise DatabaseUnavailable(short_reason(error)) from error
        due, oldest = int(row[0]), row[1]
        if oldest is not None and oldest.tzinfo is None:  # in case an aggregate loses the type
            oldest = oldest.replace(tzinfo=UTC)
        return Backlog(due=due, oldest_due_at=oldest)
