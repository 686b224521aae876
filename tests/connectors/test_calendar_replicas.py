"""Several replicas syncing calendars at once (SQLite, and PostgreSQL when configured): each
connection is claimed by one, and each meeting logged once even when two runs overlap."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.connectors.calendars.sync import CalendarSync
from rapport.storage import db
from rapport.storage.models import CalendarConnection, Touchpoint
from tests.conftest import Clock
from tests.connectors.seed import seed_calendars
from tests.fakes.calendar_fixtures import FernetCipher, calendar_settings, calendar_sync
from tests.fakes.google_api import FakeGoogle
from tests.fakes.microsoft_api import FakeMicrosoft


async def _touchpoints(engine: AsyncEngine) -> list[tuple[int, datetime]]:
    async with db.session_factory(engine)() as session:
        return [(contact_id, happened_at) for contact_id, happened_at in await session.execute(
            select(Touchpoint.contact_id, Touchpoint.happened_at))]


def _syncs(engine: AsyncEngine, google: FakeGoogle, microsoft: FakeMicrosoft,
           fernet: FernetCipher, clock: Clock) -> list[CalendarSync]:
    settings = calendar_settings(google, microsoft, "http://127.0.0.1:9")
    return [calendar_sync(engine, settings, fernet, clock, owner=owner, batch_size=5)
            for owner in ("replica-a", "replica-b")]


async def test_two_replicas_claim_each_connection_once(
        any_engine: AsyncEngine, fake_google: FakeGoogle, fake_microsoft: FakeMicrosoft,
        fernet: FernetCipher, clock: Clock) -> None:
    seeded = await seed_calendars(any_engine, fake_google, fernet, clock.now, users=12,
                                  events_per_user=6)
    first, second = _syncs(any_engine, fake_google, fake_microsoft, fernet, clock)

    reports = await asyncio.gather(first.run_once(), second.run_once())

    assert sum(r.claimed for r in reports) == seeded.users
    assert sum(r.synced for r in reports) == seeded.users
    touches = await _touchpoints(any_engine)
    assert len(touches) == len(set(touches)) == seeded.expected_touchpoints > 0
    # Each account's calendar was read once (a full sync of one page).
    assert len(fake_google.events_requests()) == seeded.users
    async with db.session_factory(any_engine)() as session:
        leased = await session.scalar(select(func.count()).select_from(CalendarConnection)
                                      .where(CalendarConnection.lease_owner.is_not(None)))
    assert leased == 0


async def test_overlapping_runs_on_one_connection_log_each_meeting_once(
        any_engine: AsyncEngine, fake_google: FakeGoogle, fake_microsoft: FakeMicrosoft,
        fernet: FernetCipher, clock: Clock) -> None:
    """A replica whose lease expired mid-sync while another took the connection over: both
    read and apply the same pages at the same time."""
    seeded = await seed_calendars(any_engine, fake_google, fernet, clock.now, users=4,
                                  events_per_user=8)
    first, second = _syncs(any_engine, fake_google, fake_microsoft, fernet, clock)
    claims = await first._claim(clock.now)
    assert len(claims) == seeded.users

    await asyncio.gather(*(sync.sync_claimed(claim, clock.now)
                           for claim in claims for sync in (first, second)))

    touches = await _touchpoints(any_engine)
    assert len(touches) == len(set(touches)) == seeded.expected_touchpoints
    # And a later run, after the next interval, finds nothing new to log.
    clock.advance(minutes=6)
    report = await second.run_once()
    assert report.synced == seeded.users and report.logged == 0
    assert len(await _touchpoints(any_engine)) == seeded.expected_touchpoints
