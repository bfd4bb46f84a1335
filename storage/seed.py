"""Throwaway databases full of learners, for the benchmarks (`bridges bench ...`).

A million learners must be seeded in seconds, not the hours the repository's
one-transaction-per-call API would take: PostgreSQL gets them through asyncpg's
COPY (`copy_records_to_table`), SQLite through one `executemany` in a single
transaction. Every benchmark database is the bench's own (a
`bridges_bench_<random>` database on the PostgreSQL server, a temporary SQLite
file) and is dropped when the bench ends, on errors and Ctrl-C too.

Only benchmarks use this module; the bot never does.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import case, func, select
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from scheduler.states import DeliveryState, LearnerStatus, Step
from storage.db import create_engine, upgrade_schema
from storage.models import Delivery, Learner
from storage.repo import Repo

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
# Learner ids start here so they never look like a real small test id.
FIRST_LEARNER_ID = 10_000_000
# A mix of zones on both sides of UTC, with and without DST.
ZONES = ("Europe/Amsterdam", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC")
LANGUAGES = ("en", "nl")
_CHUNK = 50_000
_COLUMNS = (
    "id",
    "first_name",
    "language",
    "timezone",
    "daily_time",
    "onboarding_step",
    "status",
    "next_lesson",
    "next_due_at",
    "paused_since",
    "paused_until",
    "created_at",
)

SeedRow = tuple[int, str, str, str, str, str, str, int, datetime, None, None, datetime]


@dataclass(frozen=True)
class Audit:
    """What the database says after a fan-out: who got a sent lesson, and any doubles."""

    sent_learners: frozenset[int]
    duplicates: int  # (learner, lesson) pairs with more than one delivery row


@dataclass(frozen=True)
class Tally:
    """A set of learners' deliveries by state: what a killed tick left, or what recovery made."""

    sent: int
    sending: int
    failed: int
    learners_sent: int  # distinct learners with at least one sent delivery
    max_sent_per_lesson: int  # > 1 would be two sent rows of one lesson to one learner
    resends: int  # sum of the rows' resend counters (expired leases sent once more)


@dataclass
class BenchDatabase:
    """A bench's own migrated database: its URL (with the async driver), engine and repository."""

    kind: str
    url: str
    engine: AsyncEngine
    repo: Repo

    async def seed(
        self, count: int, due_at: datetime, *, spread: timedelta = timedelta(0), first_id: int = 0
    ) -> range:
        """Insert `count` onboarded, active learners due between `due_at` and `due_at + spread`.

        Returns their ids. Languages alternate en/nl; zones cycle through ZONES
        with `daily_time` set to the local time of their due instant, so the
        claim computes a realistic next occurrence.
        """
        start = FIRST_LEARNER_ID + first_id
        ids = range(start, start + count)
        rows = learner_rows(ids, due_at, spread)
        if self.kind == "postgresql":
            await _copy_postgres(self.url, rows)
        else:
            await _executemany_sqlite(self.engine, rows)
        return ids

    async def count_learners(self) -> int:
        async with self.engine.connect() as connection:
            result = await connection.execute(select(func.count()).select_from(Learner))
            return int(result.scalar_one())

    async def audit(self, ids: range) -> Audit:
        """Learners in `ids` with a sent delivery, and (learner, lesson) pairs seen twice."""
        learner = Delivery.__table__.c.learner_id  # type: ignore[attr-defined]
        lesson = Delivery.__table__.c.lesson_id  # type: ignore[attr-defined]
        state = Delivery.__table__.c.state  # type: ignore[attr-defined]
        in_range = learner.between(ids.start, ids.stop - 1)
        async with self.engine.connect() as connection:
            sent = await connection.execute(
                select(learner).where(in_range, state == DeliveryState.SENT).distinct()
            )
            sent_learners = frozenset(int(row[0]) for row in sent)
            doubles = await connection.execute(
                select(func.count()).select_from(
                    select(learner, lesson)
                    .where(in_range)
                    .group_by(learner, lesson)
                    .having(func.count() > 1)
                    .subquery()
                )
            )
            return Audit(sent_learners, int(doubles.scalar_one()))

    async def tally(self, ids: range) -> Tally:
        """Count the deliveries of learners in `ids` by state (the kill bench's ledger)."""
        table = Delivery.__table__  # type: ignore[attr-defined]
        learner, state = table.c.learner_id, table.c.state
        in_range = learner.between(ids.start, ids.stop - 1)

        def count(wanted: DeliveryState) -> Any:
            return func.coalesce(func.sum(case((state == wanted, 1), else_=0)), 0)

        is_sent = state == DeliveryState.SENT
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(
                        count(DeliveryState.SENT),
                        count(DeliveryState.SENDING),
                        count(DeliveryState.FAILED),
                        func.count(func.distinct(case((is_sent, learner), else_=None))),
                        func.coalesce(func.sum(table.c.resends), 0),
                    ).where(in_range)
                )
            ).one()
            per_lesson = (
                select(func.count().label("n"))
                .where(in_range, is_sent)
                .group_by(learner, table.c.lesson_id)
                .subquery()
            )
            most = (
                await connection.execute(select(func.coalesce(func.max(per_lesson.c.n), 0)))
            ).scalar_one()
        return Tally(
            sent=int(row[0]),
            sending=int(row[1]),
            failed=int(row[2]),
            learners_sent=int(row[3]),
            max_sent_per_lesson=int(most),
            resends=int(row[4]),
        )


def learner_rows(ids: Iterable[int], due_at: datetime, spread: timedelta) -> Iterator[SeedRow]:
    """One row per id, in the learner table's column order (the COPY and the INSERT share it)."""
    ids = list(ids)
    step = spread / max(len(ids), 1)
    created = due_at - timedelta(days=1)
    zones = [ZoneInfo(zone) for zone in ZONES]
    for index, learner_id in enumerate(ids):
        due = due_at + step * index
        zone = zones[index % len(zones)]
        daily_time = due.astimezone(zone).strftime("%H:%M")
        yield (
            learner_id,
            f"Learner {learner_id}",
            LANGUAGES[index % len(LANGUAGES)],
            ZONES[index % len(ZONES)],
            daily_time,
            Step.DONE.value,
            LearnerStatus.ACTIVE.value,
            1,
            due,
            None,
            None,
            created,
        )


async def _copy_postgres(url: str, rows: Iterator[SeedRow]) -> None:
    connection = await asyncpg.connect(_plain_postgres_url(url))
    try:
        async with connection.transaction():
            while chunk := list(itertools.islice(rows, _CHUNK)):
                await connection.copy_records_to_table("learner", records=chunk, columns=_COLUMNS)
        # A live table has planner statistics; without them a fresh one is seq-scanned.
        await connection.execute("ANALYZE learner")
    finally:
        await connection.close()


async def _executemany_sqlite(engine: AsyncEngine, rows: Iterator[SeedRow]) -> None:
    """One transaction, one INSERT statement executed for many parameter sets."""
    table = Learner.__table__  # type: ignore[attr-defined]
    async with engine.begin() as connection:
        while chunk := list(itertools.islice(rows, _CHUNK)):
            await connection.execute(
                table.insert(), [dict(zip(_COLUMNS, row, strict=True)) for row in chunk]
            )
        await connection.exec_driver_sql("ANALYZE learner")


def _plain_postgres_url(url: str) -> str:
    """asyncpg's own URL form: no SQLAlchemy driver suffix."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(server_url: str, sql: str) -> None:
    connection = await asyncpg.connect(_plain_postgres_url(server_url))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@asynccontextmanager
async def bench_database(
    kind: str, *, postgres_url: str = DEFAULT_POSTGRES_URL
) -> AsyncIterator[BenchDatabase]:
    """A fresh, migrated database of `kind` ("sqlite" or "postgresql"), dropped on the way out.

    PostgreSQL: `bridges_bench_<random>` on `postgres_url`'s server, dropped
    WITH (FORCE) even after an error or Ctrl-C. SQLite: a file in a temporary
    directory that is removed.
    """
    if kind == "postgresql":
        name = f"bridges_bench_{secrets.token_hex(6)}"
        await _admin(postgres_url, f'CREATE DATABASE "{name}"')
        url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        cleanup_dir: Path | None = None
    elif kind == "sqlite":
        cleanup_dir = Path(tempfile.mkdtemp(prefix="bridges_bench_"))
        url = f"sqlite:///{cleanup_dir / 'bench.db'}"
    else:
        raise ValueError(f"unknown database kind {kind!r}: use sqlite or postgresql")
    engine = create_engine(url)
    try:
        await upgrade_schema(engine)
        yield BenchDatabase(kind, url, engine, Repo(engine))
    finally:
        # Shielded: a Ctrl-C during the bench must still drop what it made.
        await asyncio.shield(engine.dispose())
        if kind == "postgresql":
            await asyncio.shield(
                _admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            )
        if cleanup_dir is not None:
            shutil.rmtree(cleanup_dir, ignore_errors=True)
