"""Rhythms count days and months on the user's calendar, in their zone: a month from Berlin's
Mon Mar 1 00:30 is Thu Apr 1 (in UTC it began on Feb 28), and a week from New York's Saturday
night before the clocks spring forward is the next Saturday night, not Sunday. The planner's
arithmetic, and the sweep that asks again a rhythm later, both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.scheduler import planner
from rapport.scheduler.planning import NudgePlanner
from rapport.storage import db
from rapport.storage.models import Contact, Nudge, User, Workspace
from rapport.storage.uow import Database
from tests.conftest import truncate_all

BERLIN, NEW_YORK, AUCKLAND = (ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"),
                              ZoneInfo("Pacific/Auckland"))


def _at(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


def test_rhythms_step_on_the_users_calendar() -> None:
    # A rhythm is due from the start of its day there, whatever the hour it counts from.
    # Berlin, a coffee on Mon Mar 1 at 00:30: monthly means Thu Apr 1.
    coffee = _at(BERLIN, 2027, 3, 1, 0, 30)
    assert planner.cadence_next_due(coffee, 30, coffee, 1, tz="Europe/Berlin") == \
        _at(BERLIN, 2027, 4, 1, 0, 0)
    # Auckland, logged for Mar 1 (noon there): monthly is Apr 1, across its autumn change.
    logged = _at(AUCKLAND, 2027, 3, 1, 12, 0)
    assert planner.cadence_next_due(logged, 30, logged, 1, tz="Pacific/Auckland") == \
        _at(AUCKLAND, 2027, 4, 1, 0, 0)
    # New York, Sat Mar 13 23:30, the night before DST: weekly is Sat Mar 20.
    saturday = _at(NEW_YORK, 2027, 3, 13, 23, 30)
    assert planner.cadence_next_due(saturday, 7, saturday, tz="America/New_York") == \
        _at(NEW_YORK, 2027, 3, 20, 0, 0)
    # Saturday evening before the autumn change (EDT), two weeks on is a day in EST.
    autumn = _at(NEW_YORK, 2027, 10, 30, 21, 0)
    assert planner.cadence_next_due(autumn, 14, autumn, tz="America/New_York") == \
        _at(NEW_YORK, 2027, 11, 13, 0, 0)
    assert planner.local_date(planner.cadence_next_due(  # type: ignore[arg-type]
        saturday, 7, saturday, tz="America/New_York"), "America/New_York").weekday() == 5
    # A wall time the spring jump skips reads just after the jump; UTC is plain arithmetic.
    assert planner.cadence_step(_at(NEW_YORK, 2027, 3, 7, 2, 30), 7,
                                tz="America/New_York") == _at(NEW_YORK, 2027, 3, 14, 3, 0)
    utc = datetime(2027, 1, 31, 10, 0, tzinfo=UTC)
    assert planner.cadence_step(utc, 30, 1) == datetime(2027, 2, 28, 10, 0, tzinfo=UTC)
    assert planner.cadence_step(utc, 14) == utc + timedelta(days=14)
    assert planner.cadence_step(utc, None, None, tz="Europe/Berlin") is None


async def _users_and_contacts(engine: AsyncEngine, now: datetime,
                              contacts: dict[str, tuple[str, int, int | None, datetime]]
                              ) -> dict[str, int]:
    """Users in the zones named, and their contacts: name -> (zone, days, months, due)."""
    zones = sorted({zone for zone, *_ in contacts.values()})
    ids: dict[str, int] = {}
    async with engine.begin() as connection:
        await connection.execute(insert(Workspace).values(
            id=1, platform="console", external_id="T1", name="console", ai_enabled=True,
            disclosure_policy="optional", active=True, created_at=now))
        for user_id, zone in enumerate(zones, start=1):
            await connection.execute(insert(User).values(
                id=user_id, workspace_id=1, external_id=f"u{user_id}", display_name="u",
                tz=zone, tz_from_platform=True, window_start_minute=9 * 60,
                window_end_minute=17 * 60, working_days=0b0011111, daily_cap=3, digest=False,
                ai_enabled=True, tone="warm", weekly_summary=True, active=True,
                sent_day_count=0, created_at=now))
        for name, (zone, days, months, due) in contacts.items():
            ids[name] = int((await connection.execute(insert(Contact).values(
                workspace_id=1, user_id=zones.index(zone) + 1, name=name, name_key=name,
                kind="colleague", cadence_days=days, cadence_months=months, next_due_at=due,
                plan_at=due, created_at=now - timedelta(days=400))
                .returning(Contact.id))).scalar_one())
    return ids


async def _plans(engine: AsyncEngine) -> dict[int, datetime | None]:
    async with engine.connect() as connection:
        return {contact: plan.astimezone(UTC) if plan is not None else None
                for contact, plan in
                (await connection.execute(select(Contact.id, Contact.plan_at))).all()}


async def test_the_sweep_asks_again_a_rhythm_later_on_the_users_calendar(
        any_engine: AsyncEngine) -> None:
    now = datetime(2027, 3, 14, 12, 0, tzinfo=UTC)
    ids = await _users_and_contacts(any_engine, now, {
        # Unanswered since the night before DST: asked again the next Saturday night.
        "dst_week": ("America/New_York", 7, None, _at(NEW_YORK, 2027, 3, 13, 23, 30)),
        # Monthly from Berlin's Mar 1 00:30 (Feb 28 in UTC): Apr 1, not Mar 28.
        "berlin_month": ("Europe/Berlin", 30, 1, _at(BERLIN, 2027, 3, 1, 0, 30)),
        "auckland_month": ("Pacific/Auckland", 30, 1, _at(AUCKLAND, 2027, 3, 1, 12, 0)),
        # No clock change in between: the whole UTC days of the set-based UPDATE.
        "berlin_fortnight": ("Europe/Berlin", 14, None, _at(BERLIN, 2027, 3, 10, 9, 0)),
        "utc_week": ("UTC", 7, None, datetime(2027, 3, 13, 23, 30, tzinfo=UTC)),
    })
    planner_ = NudgePlanner(Database(db.session_factory(any_engine)), batch_size=2)
    assert await planner_.plan(now, lambda: False) == 5
    assert await _plans(any_engine) == {
        ids["dst_week"]: _at(NEW_YORK, 2027, 3, 20, 23, 30),
        ids["berlin_month"]: _at(BERLIN, 2027, 4, 1, 0, 30),
        ids["auckland_month"]: _at(AUCKLAND, 2027, 4, 1, 12, 0),
        ids["berlin_fortnight"]: _at(BERLIN, 2027, 3, 24, 9, 0),
        ids["utc_week"]: datetime(2027, 3, 20, 23, 30, tzinfo=UTC),
    }
    async with any_engine.connect() as connection:
        assert len((await connection.execute(select(Nudge.id))).all()) == 5


@pytest.fixture
async def new_york_server(postgres_ready: str) -> AsyncIterator[AsyncEngine]:
    """The test database through connections whose session TimeZone is New York's, as a
    server set up in that zone gives them."""
    engine = db.create_engine(postgres_ready, pool_size=2)

    @event.listens_for(engine.sync_engine, "connect")
    def _zone(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SET TIME ZONE 'America/New_York'")
        cursor.close()

    await truncate_all(engine)
    yield engine
    await engine.dispose()


@pytest.mark.postgres
async def test_postgresql_moves_whole_utc_days_whatever_the_servers_zone(
        new_york_server: AsyncEngine) -> None:
    # A UTC user's weekly rhythm across New York's spring jump: seven times 24 hours, as in
    # Python; a day interval in the session's zone would give an hour less.
    now = datetime(2027, 3, 14, 12, 0, tzinfo=UTC)
    due = datetime(2027, 3, 13, 23, 30, tzinfo=UTC)
    ids = await _users_and_contacts(new_york_server, now, {"utc_week": ("UTC", 7, None, due)})
    planner_ = NudgePlanner(Database(db.session_factory(new_york_server)), batch_size=10)
    assert await planner_.plan(now, lambda: False) == 1
    assert await _plans(new_york_server) == {ids["utc_week"]: due + timedelta(days=7)}
