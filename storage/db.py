"""Engines, connection settings and schema migrations.

The app builds its engine here from an explicit URL (never at import time), so
tests pass their own. On SQLite a transaction that writes starts with ``BEGIN
IMMEDIATE``: SQLite has one writer, and taking the write lock up front turns a
concurrent claim into a short wait (busy_timeout) instead of a failed upgrade
from reader to writer halfway through. A transaction on an engine view with the
`READ_ONLY` execution option starts a plain deferred ``BEGIN`` instead, so reads
run beside the writer under WAL and never queue for its lock.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

# Alembic needs a directory on disk; an installed wheel has one in site-packages.
MIGRATIONS = Path(str(files("storage.migrations")))
SQLITE_BUSY_TIMEOUT_MS = 10_000
# Execution option that marks an engine view whose transactions only read.
READ_ONLY = "bridges_read_only"
# pg_advisory_xact_lock key for migrations ("bridges" in ASCII, a fixed 64-bit number):
# N processes starting together queue on it and the first one migrates.
MIGRATION_LOCK_KEY = 0x62726964676573


def is_postgres(session: AsyncSession) -> bool:
    """Whether this session talks to PostgreSQL (SKIP LOCKED, unnest, greatest) or SQLite."""
    return session.get_bind().dialect.name == "postgresql"


def normalise_url(url: str) -> str:
    """Give a plain database URL its async driver: operators write what they know."""
    parsed = make_url(url)
    driver = parsed.drivername
    if driver in {"postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"}:
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif driver in {"sqlite", "sqlite+pysqlite"}:
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def redact_url(url: str) -> str:
    """The URL without its password, for logs and error messages."""
    return make_url(url).render_as_string(hide_password=True)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for `url`, with SQLite's pragmas and write-lock-first transactions."""
    url = normalise_url(url)
    engine = create_async_engine(url, echo=echo, pool_pre_ping=not url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would defer BEGIN; we issue it ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY, False):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config() -> Config:
    """Alembic's configuration, built in code: the URL comes from our settings, not an ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade_schema(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema up to `revision` inside the running event loop."""
    await _migrate(engine, command.upgrade, revision)


async def downgrade_schema(engine: AsyncEngine, revision: str = "base") -> None:
    """Undo migrations down to `revision` (tests prove every migration can be undone)."""
    await _migrate(engine, command.downgrade, revision)


async def _migrate(engine: AsyncEngine, step: Callable[[Config, str], None], revision: str) -> None:
    """Run an Alembic command on a connection of ours.

    Alembic is synchronous; it gets our connection through ``run_sync`` (the
    cookbook's connection sharing) so no second event loop is ever started.
    On PostgreSQL the transaction first takes an advisory lock, held until it
    commits: processes started together (replicas, a worker and a bot) wait
    for the first, then find the schema at head and change nothing.
    """

    def _run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        step(config, revision)

    if engine.dialect.name == "sqlite":
        async with engine.connect() as connection:
            await connection.run_sync(_without_foreign_keys, _run)
        return
    async with engine.begin() as connection:
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
        )
        await connection.run_sync(_run)


def _without_foreign_keys(connection: Connection, run: Callable[[Connection], None]) -> None:
    """Run a SQLite migration with foreign keys off, then prove they still hold.

    Alembic changes a SQLite table by copying it and dropping the original; with
    foreign keys on, that DROP cascades and empties every table that points at
    it (a learner table rebuilt would take all deliveries and answers along).
    The pragma only works outside a transaction, so it is set on the driver's
    connection before ours begins, and `foreign_key_check` must find nothing
    before the migration commits.
    """
    driver = connection.connection.dbapi_connection
    assert driver is not None
    _pragma(driver, "PRAGMA foreign_keys=OFF")
    try:
        with connection.begin():
            run(connection)
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration left {len(broken)} rows with broken references")
    finally:
        _pragma(driver, "PRAGMA foreign_keys=ON")


def _pragma(driver: Any, statement: str) -> None:
    cursor = driver.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()
