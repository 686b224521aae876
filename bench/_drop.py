"""Calendar sync cost against its floor: syncing N users' calendars vs only fetching the same
pages from the same fake, side by side in one run.

Seeds N users with a connected calendar of E meetings over the last week (plus 3 in the coming
days, for briefs) on a local Google (or Microsoft) fake, twice: first users with no contacts
(the connector's own cost: nothing to log), then users with contacts (every meeting with one
of them becomes a touchpoint through the core's record_touchpoints). For each set it times:
  floor  the same events.list (or calendarView/delta) pages fetched with the same client, the
         same pool and the same concurrency, bodies parsed as JSON, nothing else; timed
         before the sync and again after it, and the mean of the two taken;
  sync   CalendarSync.run_once(): claim with leases, fetch, parse, match attendees to
         contacts, store captured events, log `meeting` touchpoints through the core, record
         cursors and tokens.
Prints both times and their ratio per set (and the process CPU each took, steadier than wall
time on a shared machine), the touchpoints written and the meetings ready for a brief.
`--url` to PostgreSQL drops and recreates the `public` schema: use a scratch database.

    python bench/calendar_sync.py                       # make bench scale: 50 users x 50 meetings
    python bench/calendar_sync.py --users 1000          # the issue's scale, SQLite
    python bench/calendar_sync.py --provider microsoft --users 200
    python bench/calendar_sync.py --url postgresql+asyncpg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, text

from rapport.bot.connectors.calendars.briefs import upcoming_meetings
from rapport.bot.connectors.calendars.oauth import CalendarHttp
from rapport.bot.connectors.calendars.providers import ProviderConfig, providers_from_settings
from rapport.bot.connectors.calendars.sync import CalendarSync
from rapport.launch import keep_from_collector
from rapport.storage import db
from rapport.storage.models import Touchpoint
from tests.connectors.seed import seed_calendars
from tests.fakes.calendar_fixtures import FernetCipher, calendar_settings
from tests.fakes.google_api import FakeGoogle
from tests.fakes.microsoft_api import FakeMicrosoft

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CONCURRENCY = int(__import__("os").environ.get("BENCH_CONCURRENCY", "8"))


async def floor(provider: ProviderConfig, http: CalendarHttp, tokens: list[str],
                window_start: datetime) -> tuple[float, int]:
    """Fetch every account's full-sync pages as the sync does; (seconds, pages)."""
    semaphore = asyncio.Semaphore(CONCURRENCY)
    pages = 0

    async def fetch(token: str) -> None:
        nonlocal pages
        client = http.client(provider, token={"access_token": token, "token_type": "Bearer"})
        async with semaphore, client:
            if provider.name == "google":
                url = f"{provider.api_url}/calendar/v3/calendars/primary/events"
                params: dict[str, str] | None = {
                    "singleEvents": "true", "maxResults": "250",
                    "timeMin": window_start.isoformat().replace("+00:00", "Z")}
                while True:
                    body: Any = (await client.get(url, params=params)).json()
                    pages += 1
                    if "nextPageToken" not in body:
                        return
                    params = {**(params or {}), "pageToken": body["nextPageToken"]}
            else:
                url = f"{provider.api_url}/v1.0/me/calendarView/delta"
                headers = {"Prefer": 'odata.maxpagesize=100, outlook.timezone="UTC"'}
                params = {"startDateTime": window_start.isoformat().replace("+00:00", "Z"),
                          "endDateTime": (NOW + timedelta(days=60)).isoformat()
                          .replace("+00:00", "Z")}
                while True:
                    body = (await client.get(url, params=params, headers=headers)).json()
                    pages += 1
                    if "@odata.nextLink" not in body:
                        return
                    url, params = body["@odata.nextLink"], None

    started = time.perf_counter()
    await asyncio.gather(*(fetch(token) for token in tokens))
    return time.perf_counter() - started, pages


def database_thread_cpu() -> float:
    """CPU seconds the units' SQLite thread has used so far (0 where there is none): the part
    of the sync's CPU that is the database's, read from /proc (Linux only)."""
    for thread in threading.enumerate():
        if thread.name == "rapport-sqlite" and thread.native_id is not None:
            try:
                with open(f"/proc/self/task/{thread.native_id}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                return 0.0
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


async def measure(engine: Any, fake: FakeGoogle | FakeMicrosoft, provider: ProviderConfig,
                  cipher: FernetCipher, http: CalendarHttp, *, users: int, events: int,
                  contacts: int, prefix: str
                  ) -> tuple[tuple[float, float], float, int, Any, tuple[float, float], float,
                             float]:
    """Seed a set of users, then time the floor and the sync over exactly that set."""
    seeded = await seed_calendars(engine, fake, cipher, NOW, users=users,
                                  events_per_user=events, upcoming_per_user=3,
                                  contacts_per_user=contacts, prefix=prefix)
    # Untimed: what exists now is kept from the collector, as `rapport serve` keeps what
    # start-up built; and the fakes' calendars, in this process here but on Google's or
    # Microsoft's servers in production, are never walked by it. Otherwise a full collection
    # of the seeding's objects was charged to whichever phase reached the threshold first,
    # the sync in one run and not in the next (0.12-0.15 s of CPU each).
    keep_from_collector()
    # Untimed: open the pool's connections and warm the code paths, which would otherwise
    # be charged to whichever is timed first (the floor).
    await floor(provider, http, seeded.access_tokens[:CONCURRENCY], NOW - timedelta(days=30))
    cpu = time.process_time()
    floor_seconds, pages = await floor(provider, http, seeded.access_tokens,
                                       NOW - timedelta(days=30))
    floor_cpu = time.process_time() - cpu
    sync = CalendarSync(sessions=db.session_factory(engine),
                        providers={provider.name: provider}, cipher=cipher, http=http,
                        clock=lambda: NOW, concurrency=CONCURRENCY)
    database_cpu = database_thread_cpu()
    started, cpu = time.perf_counter(), time.process_time()
    report = await sync.run_once()
    sync_seconds = time.perf_counter() - started
    sync_cpu = time.process_time() - cpu
    database_cpu = database_thread_cpu() - database_cpu
    assert report.synced == seeded.users and report.logged == seeded.expected_touchpoints
    # The floor again, right after: a shared machine's speed drifts by a quarter from one
    # minute to the next, so the sync is compared with the mean of a floor timed on each
    # side of it (both are printed).
    cpu = time.process_time()
    after_seconds, _ = await floor(provider, http, seeded.access_tokens, NOW - timedelta(days=30))
    after_cpu = time.process_time() - cpu
    return ((floor_seconds, after_seconds), sync_seconds, pages, report,
            (floor_cpu, after_cpu), sync_cpu, database_cpu)


async def main(args: argparse.Namespace) -> None:
    cipher = FernetCipher()
    url = args.url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/calendar-bench.db"
    engine = db.create_engine(url, pool_size=CONCURRENCY)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await db.upgrade(engine)
    for name in filter(None, os.environ.get("DROP", "").split(",")):
        async with engine.begin() as connection:
            await connection.execute(text(f"DROP INDEX {name}"))
    print(f"calendar sync, {args.provider}, {engine.dialect.name}: {args.users} users x "
          f"{args.events} meetings last week (+3 upcoming each), concurrency {CONCURRENCY}")
    async with FakeGoogle(clock=lambda: NOW) as google, \
            FakeMicrosoft(clock=lambda: NOW) as microsoft:
        fake = google if args.provider == "google" else microsoft
        settings = calendar_settings(google, microsoft, "http://127.0.0.1:9")
        provider = providers_from_settings(settings)[args.provider]
        http = CalendarHttp()
        # First the same calendars for users with no contacts (nothing to log): the
        # connector's own cost; then with contacts, where every meeting with one of them
        # is a touchpoint written through the core (record_touchpoints, one batch per page).
        for label, contacts, prefix in (("no contacts (connector only)", 0, "bare-"),
                                        (f"{args.contacts} contacts per user", args.contacts,
                                         "")):
            floors, sync_s, pages, report, floor_cpus, sync_cpu, database_cpu = await measure(
                engine, fake, provider, cipher, http, users=args.users, events=args.events,
                contacts=contacts, prefix=prefix)
            floor_s, floor_cpu = sum(floors) / 2, sum(floor_cpus) / 2
            print(f"  {label}: {pages} pages")
            print(f"    floor (fetch the same pages only): {floor_s:7.2f} s   "
                  f"(before the sync {floors[0]:.2f} s, after {floors[1]:.2f} s)")
            print(f"    sync (CalendarSync.run_once):      {sync_s:7.2f} s   "
                  f"ratio {sync_s / floor_s:.1f}x   {report.logged} touchpoints")
            # CPU of this process (every thread, the in-process fake included) says the
            # same with less noise from a shared machine; on PostgreSQL it leaves out the
            # server's own CPU.
            print(f"    process CPU: floor {floor_cpu:.2f} s (before {floor_cpus[0]:.2f}, after "
                  f"{floor_cpus[1]:.2f}), sync {sync_cpu:.2f} s, "
                  f"ratio {sync_cpu / floor_cpu:.2f}x")
            if database_cpu:
                # The SQLite thread's share: what the database work costs, apart from the
                # event loop's fetching and parsing (which the floor pays too).
                print(f"      of which the SQLite thread {database_cpu:.2f} s, the rest "
                      f"{sync_cpu - database_cpu:.2f} s")
        await http.aclose()
    async with db.session_factory(engine)() as session:
        touchpoints = await session.scalar(select(func.count()).select_from(Touchpoint))
        briefs = await upcoming_meetings(session, start=NOW, end=NOW + timedelta(days=2))
    await engine.dispose()
    print(f"  produced: {touchpoints} meeting touchpoints, {len(briefs)} upcoming meetings "
          f"with contacts ready for a brief")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--contacts", type=int, default=12, help="contacts per user")
    parser.add_argument("--provider", choices=("google", "microsoft"), default="google")
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    asyncio.run(main(parser.parse_args()))
