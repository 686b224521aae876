"""Sweep cost against its floor: a full plan+claim+deliver sweep vs a bare indexed SELECT.

Generates users and contacts (about 2% due), then times, on the same database in one run:
  floor  SELECT of the due contacts through the same index the sweep uses;
  sweep  Sweeper.sweep(): plan every due nudge, claim it, deliver to a no-op messenger, record.
  writes the writes no sweep can skip, as plain SQL on the driver: insert a nudge for each due
         contact (INSERT ... SELECT), move each contact's plan_at a cadence on, mark every
         nudge sent; on SQLite on a copy of the same database with Rapport's settings
         (WAL, synchronous=NORMAL, foreign keys, its page cache) and both commits; on
         PostgreSQL in a transaction rolled back, so without its commit.
Prints one row per size, so growth with due nudges vs all contacts is visible side by side.
A small sweep runs first, untimed: a server sweeps again and again, and both the floor's
query and the sweep's statements are compiled by its first sweep, not by every one.

    python bench/sweep.py                                # make bench scale (SQLite)
    python bench/sweep.py --users 50000 --contacts 1000000 --url postgresql+asyncpg://...
    python bench/sweep.py --phases                       # where the first size's sweep went
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import random
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select, text

from rapport.launch import keep_from_collector
from rapport.scheduler.delivery import Sweeper
from rapport.scheduler.messenger import DeliveryResult, OutgoingMessage
from rapport.scheduler.planning import NudgePlanner
from rapport.storage import db
from rapport.storage.models import Contact, Nudge, User, Workspace

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class NoopMessenger:
    platform = "bench"

    def __init__(self) -> None:
        self.messages = 0

    async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        self.messages += 1
        return DeliveryResult.sent("noop")


async def _reset(engine) -> None:  # type: ignore[no-untyped-def]
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await db.upgrade(engine)


async def generate(engine, users: int, contacts: int, due_share: float) -> int:  # type: ignore[no-untyped-def]
    """Users with realistic cadences; `due_share` of contacts due now. Returns the due count."""
    rng = random.Random(7)
    async with engine.begin() as connection:
        await connection.execute(insert(Workspace), [dict(
            id=1, platform="bench", external_id="T1", name="bench", ai_enabled=True,
            disclosure_policy="optional", active=True, created_at=NOW)])
        await connection.execute(insert(User), [dict(
            id=u + 1, workspace_id=1, external_id=f"U{u}", display_name=f"User {u}", tz="UTC",
            tz_from_platform=True, window_start_minute=0, window_end_minute=1440,
            working_days=127, daily_cap=3, digest=True, ai_enabled=True, tone="warm",
            weekly_summary=True, active=True, sent_day_count=0, created_at=NOW)
            for u in range(users)])
    due = 0
    batch: list[dict[str, object]] = []
    for c in range(contacts):
        cadence = rng.choice((14, 28, 42, 90))
        is_due = rng.random() < due_share
        due += is_due
        last = NOW - timedelta(days=cadence + 1) if is_due else \
            NOW - timedelta(days=rng.randint(0, cadence - 2))
        next_due = last + timedelta(days=cadence)
        batch.append(dict(workspace_id=1, user_id=c % users + 1, name=f"Contact {c}",
                          name_key=f"contact {c}", kind="colleague", cadence_days=cadence,
                          last_touch_at=last, next_due_at=next_due, plan_at=next_due,
                          created_at=NOW - timedelta(days=400)))
        if len(batch) == 20_000:
            async with engine.begin() as connection:
                await connection.execute(insert(Contact), batch)
            batch = []
    if batch:
        async with engine.begin() as connection:
            await connection.execute(insert(Contact), batch)
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            await connection.execute(text("ANALYZE"))
    else:
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
    return due


# Two transactions, as a sweep commits its planning before the messages go out.
_WRITES_SQLITE = ((
    "INSERT INTO nudges (workspace_id, user_id, contact_id, reason, dedupe_key, due_at, "
    "deliver_after, status, snooze_count, attempts, created_at) "
    "SELECT workspace_id, user_id, id, 'cadence', "
    "'cadence:' || id || ':' || strftime('%Y%m%d%H%M', plan_at), next_due_at, plan_at, "
    "'planned', 0, 0, :now FROM contacts WHERE plan_at <= :now",
    "UPDATE contacts SET plan_at = strftime('%Y-%m-%d %H:%M:%S', plan_at, "
    "'+' || cadence_days || ' days') || substr(plan_at, 20) WHERE plan_at <= :now"), (
    "UPDATE nudges SET status = 'sent', delivered_at = :now WHERE status = 'planned'",))
_WRITES_POSTGRESQL = (
    "INSERT INTO nudges (workspace_id, user_id, contact_id, reason, dedupe_key, due_at, "
    "deliver_after, status, snooze_count, attempts, created_at) "
    "SELECT workspace_id, user_id, id, 'cadence', 'cadence:' || id || ':' || "
    "to_char(plan_at AT TIME ZONE 'UTC', 'YYYYMMDDHH24MI'), next_due_at, plan_at, "
    "'planned', 0, 0, :now FROM contacts WHERE plan_at <= :now",
    "UPDATE contacts SET plan_at = plan_at + make_interval(days => cadence_days) "
    "WHERE plan_at <= :now",
    "UPDATE nudges SET status = 'sent', delivered_at = :now WHERE status = 'planned'")


async def inherent_writes(engine, url: str, due: int) -> float:  # type: ignore[no-untyped-def]
    """Seconds the writes every sweep must make take as plain SQL (see the module's doc)."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            await connection.execute(select(func.count()).select_from(Contact)
                                     .where(Contact.plan_at <= NOW))
            started = time.perf_counter()
            for statement in _WRITES_POSTGRESQL:
                await connection.execute(text(statement), {"now": NOW})
            spent = time.perf_counter() - started
            await connection.rollback()
        return spent
    # Closing every connection checkpoints the WAL into the file; the pool opens new ones.
    await engine.dispose()
    return _sqlite_writes(Path(url.split("///", 1)[1]), due)


def _sqlite_writes(original: Path, due: int) -> float:
    copy = original.with_name(original.stem + "-writes.db")
    shutil.copyfile(original, copy)
    connection = sqlite3.connect(copy, isolation_level=None)
    try:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                       "cache_size=-16384", "temp_store=MEMORY"):
            connection.execute(f"PRAGMA {pragma}")
        now = NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
        # The same warm-up as the floor's: the due rows found through the plan_at index.
        warm = connection.execute("SELECT id FROM contacts WHERE plan_at <= ?", (now,))
        assert len(warm.fetchall()) == due
        started = time.perf_counter()
        for transaction in _WRITES_SQLITE:
            connection.execute("BEGIN IMMEDIATE")
            for statement in transaction:
                connection.execute(statement, {"now": now})
            connection.execute("COMMIT")
        spent = time.perf_counter() - started
        sent = connection.execute("SELECT count(*) FROM nudges WHERE status = 'sent'")
        assert sent.fetchone()[0] == due
    finally:
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
    return spent


@contextlib.contextmanager
def timed_phases(spent: dict[str, float]) -> Iterator[None]:
    """Add the wall time of each step of a sweep to `spent` while inside (wrapping the
    Sweeper's own methods; nothing else changes): planning (its units of work, less the first
    claim, which shares planning's last unit), each batch's claim as run in its unit of work,
    sending, and each wave's record (its unit of work, and the writes in it)."""
    planning = "planning (without the first claim)"
    claims = "claims (inside their units)"
    steps = {"_claim": claims,
             "_send": "sending to the no-op messenger",
             "_record": "recording waves (units of work)",
             "_write_results": "  of which the writes in them"}
    originals = {name: getattr(Sweeper, name) for name in steps}
    spent.setdefault(planning, 0.0)  # printed in this order
    for label in steps.values():
        spent.setdefault(label, 0.0)
    plan_then = NudgePlanner.plan_then

    async def timed_planning(*args: Any, **kwargs: Any) -> Any:
        started, claimed_before = time.perf_counter(), spent[claims]
        try:
            return await plan_then(*args, **kwargs)
        finally:
            spent[planning] += (time.perf_counter() - started
                                - (spent[claims] - claimed_before))

    def timing(name: str, original: Any) -> Any:
        if asyncio.iscoroutinefunction(original):
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    spent[steps[name]] += time.perf_counter() - started
            return timed_async

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[steps[name]] += time.perf_counter() - started
        return timed

    for name, original in originals.items():
        setattr(Sweeper, name, timing(name, original))
    NudgePlanner.plan_then = timed_planning  # type: ignore[method-assign]
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(Sweeper, name, original)
        NudgePlanner.plan_then = plan_then  # type: ignore[method-assign]


async def measure(url: str, users: int, contacts: int, due_share: float,
                  profile: str = "", phases: dict[str, float] | None = None
                  ) -> dict[str, float]:
    engine = db.create_engine(url, pool_size=5)
    await _reset(engine)
    due = await generate(engine, users, contacts, due_share)
    writes = await inherent_writes(engine, url, due)
    # As `rapport serve` and `rapport worker` do once started: what was built so far is kept
    # from the collector, so a full collection during the sweep walks only the sweep's own
    # objects (one came due at 200k and walked everything: 40 ms of a 355 ms sweep).
    keep_from_collector()
    sessions = db.session_factory(engine)
    started = time.perf_counter()
    async with engine.connect() as connection:
        rows = (await connection.execute(
            select(Contact.id, Contact.user_id, Contact.workspace_id, Contact.cadence_days,
                   Contact.next_due_at, Contact.plan_at).where(Contact.plan_at <= NOW)
            .order_by(Contact.plan_at))).all()
    floor = time.perf_counter() - started
    assert len(rows) == due, (len(rows), due)
    messenger = NoopMessenger()
    sweeper = Sweeper(sessions=sessions, messengers={"bench": messenger}, clock=lambda: NOW,
                      batch_size=2000)
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled")
        profiler.start()
    with timed_phases(phases) if phases is not None else contextlib.nullcontext():
        started, cpu_started = time.perf_counter(), time.process_time()
        report = await sweeper.sweep(NOW)
        sweep = time.perf_counter() - started
        # Steadier than wall time on a shared machine (every thread of this process; on
        # PostgreSQL the server's work is not in it).
        sweep_cpu = time.process_time() - cpu_started
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False), file=sys.stderr)
    async with sessions() as session:
        sent = await session.scalar(select(func.count()).select_from(Nudge)
                                    .where(Nudge.status == "sent"))
    # A user whose nudges straddle two batches gets one digest now and the rest after the
    # digest spacing: deferred on purpose, not lost.
    assert report.planned == due and sent + report.deferred == due, (report, sent, due)
    await engine.dispose()
    return {"contacts": contacts, "due": due, "floor_s": floor, "sweep_s": sweep,
            "writes_s": writes,
            "sweep_cpu_s": sweep_cpu,
            "messages": messenger.messages, "deferred": report.deferred,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=None, help="database URL (default: a temp SQLite)")
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--due-share", type=float, default=0.02)
    parser.add_argument("--one-size", action="store_true",
                        help="only --contacts (skip the two linearity sizes; for full scale)")
    parser.add_argument("--profile", action="store_true",
                        help="pyinstrument the first size's sweep (tree on stderr)")
    parser.add_argument("--phases", action="store_true",
                        help="print where the first size's sweep spent its time, each step "
                             "against the floor")
    args = parser.parse_args()
    sizes = [(args.contacts, args.due_share), (args.contacts * 2, args.due_share),
             (args.contacts * 2, args.due_share / 2)]
    if args.one_size:
        sizes = sizes[:1]
    print(f"{'contacts':>10} {'due':>7} {'floor s':>9} {'sweep s':>9} {'ratio':>7} "
          f"{'writes s':>9} {'÷ writes':>8} "
          f"{'per due ms':>11} {'CPU s':>7} {'peak RSS MB':>12} {'deferred':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(measure(args.url or f"sqlite+aiosqlite:///{tmp}/warm.db",
                            min(args.users, 100), 5000, args.due_share))
        for index, (contacts, share) in enumerate(sizes):
            url = args.url or f"sqlite+aiosqlite:///{tmp}/bench{index}.db"
            phases: collections.Counter[str] | None = \
                collections.Counter() if args.phases and index == 0 else None
            row = asyncio.run(measure(url, args.users, contacts, share,
                                      profile="1" if args.profile and index == 0 else "",
                                      phases=phases))
            print(f"{row['contacts']:>10,} {row['due']:>7,} {row['floor_s']:>9.3f} "
                  f"{row['sweep_s']:>9.3f} {row['sweep_s'] / row['floor_s']:>6.1f}x "
                  f"{row['writes_s']:>9.3f} {row['sweep_s'] / row['writes_s']:>7.2f}x "
                  f"{1000 * row['sweep_s'] / max(row['due'], 1):>11.3f} "
                  f"{row['sweep_cpu_s']:>7.3f} "
                  f"{row['peak_rss_mb']:>12.0f} {row['deferred']:>9,}")
            if phases is not None:
                for step, seconds in phases.items():
                    print(f"    {step:<36} {seconds:>7.3f} s  "
                          f"{seconds / row['floor_s']:>5.1f}x the floor")


if __name__ == "__main__":
    main()
