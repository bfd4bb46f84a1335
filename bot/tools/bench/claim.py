"""`bridges bench claim`: how fast the tick reserves due learners' deliveries.

Seeds `--learners` learners all due in the bench's minute, then calls
`Repo.claim_due` (the tick's own claim) batch after batch and times each
batch: claims per second and the per-batch latency a tick would see at that
table size.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.tools.bench.common import Progress, machine, percentile, pyplot, save, say
from lessons.loader import load_course
from scheduler.clock import system_clock
from scheduler.delivery import course_outline
from storage.seed import DEFAULT_POSTGRES_URL, bench_database


@dataclass
class ClaimRun:
    """One run's figures; `result()` is the JSON line."""

    learners: int
    db: str
    batch: int
    claimed: int = 0
    seconds: float = 0.0
    seed_seconds: float = 0.0
    batch_ms: list[float] = field(default_factory=list)
    elapsed: list[float] = field(default_factory=list)  # seconds since start, after each batch

    def result(self) -> dict[str, Any]:
        return {
            "claims_per_s": round(self.claimed / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(self.batch_ms, 50), 2),
            "p99_ms": round(percentile(self.batch_ms, 99), 2),
            "learners": self.learners,
            "db": self.db,
            "machine": machine(),
            "batch": self.batch,
            "claimed": self.claimed,
            "batches": len(self.batch_ms),
            "seed_s": round(self.seed_seconds, 2),
        }


async def bench_claim(
    *,
    learners: int,
    db: str,
    batch: int = 100,
    claims: int = 20_000,
    postgres_url: str = DEFAULT_POSTGRES_URL,
) -> ClaimRun:
    """Seed, then claim `claims` learners (all of them when 0) in batches of `batch`."""
    run = ClaimRun(learners=learners, db=db, batch=batch)
    outline = course_outline(load_course())
    target = learners if claims <= 0 else min(claims, learners)
    async with bench_database(db, postgres_url=postgres_url) as database:
        start = system_clock() - timedelta(minutes=1)
        say(f"seeding {learners:,} learners into {db} ...")
        began = time.perf_counter()
        await database.seed(learners, start, spread=timedelta(seconds=59))
        run.seed_seconds = time.perf_counter() - began
        say(f"seeded in {run.seed_seconds:.1f}s")
        progress = Progress("claim", target)
        began = time.perf_counter()
        while run.claimed < target:
            size = min(batch, target - run.claimed)
            t0 = time.perf_counter()
            got = await database.repo.claim_due(system_clock(), outline, batch=size)
            t1 = time.perf_counter()
            if not got:
                break
            run.claimed += len(got)
            run.batch_ms.append((t1 - t0) * 1000)
            run.elapsed.append(t1 - began)
            progress.update(run.claimed, f"{run.claimed / (t1 - began):,.0f} claims/s")
        run.seconds = time.perf_counter() - began
        progress.finish()
    return run


def plot(run: ClaimRun, path: str) -> None:
    plt = pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.hist(run.batch_ms, bins=50, color="#3b75af")
    left.axvline(percentile(run.batch_ms, 99), color="#c44", linestyle="--", label="p99")
    left.set_xlabel(f"ms per claim_due batch of {run.batch}")
    left.set_ylabel("batches")
    left.legend()
    per_second: dict[int, int] = {}
    for elapsed in run.elapsed:
        per_second[int(elapsed)] = per_second.get(int(elapsed), 0) + run.batch
    seconds = sorted(per_second)
    right.plot(seconds, [per_second[s] for s in seconds], color="#3b75af")
    right.set_xlabel("seconds into the run")
    right.set_ylabel("claims/s")
    right.set_ylim(bottom=0)
    figure.suptitle(f"claim_due on {run.db}, {run.learners:,} learners due")
    save(figure, path)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    run = await bench_claim(
        learners=args.learners,
        db=args.db,
        batch=args.batch,
        claims=args.claims,
        postgres_url=args.postgres_url,
    )
    if args.plot:
        plot(run, args.plot)
    return run.result()
