"""Migrations: empty database to head on SQLite and PostgreSQL, and models match the result."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import column, event, func, insert, inspect, select, table, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rapport.storage import db, met
from rapport.storage.models import (
    Base,
    CalendarConnection,
    CapturedEvent,
    Contact,
    MetPerson,
    Tag,
    Touchpoint,
    User,
    Workspace,
    is_modelled,
)
from rapport.storage.names import name_key
from rapport.storage.types import UTCDateTime
from tests.conftest import PG_SKIP_REASON, PG_URL
from tests.storage.people import insert_people

SCHEMA = "rapport_migration_check"


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                            "include_object": is_modelled})
    return compare_metadata(context, Base.metadata)


def _index_names(connection: Connection) -> set[str]:
    inspector = inspect(connection)
    return {index["name"] for table in inspector.get_table_names()
            for index in inspector.get_indexes(table) if index["name"]}


async def _check_head(engine: AsyncEngine) -> None:
    assert await db.current_revision(engine) is None
    await db.upgrade(engine)
    assert await db.current_revision(engine) == db.head_revision()
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences) == []
        indexes = await connection.run_sync(_index_names)
    # The sweep's range scans depend on these.
    assert {"ix_contacts_plan_at", "ix_notes_plan_at", "ix_nudges_active_deliver_after",
            "ix_important_dates_plan_at"} <= indexes
    await db.upgrade(engine)  # a second start finds the schema at head and changes nothing
    assert await db.current_revision(engine) == db.head_revision()


async def test_sqlite_empty_to_head_matches_models(tmp_path: Path) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    try:
        await _check_head(engine)
        async with engine.connect() as connection:
            mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar()
            keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar()
        assert mode == "wal" and keys == 1
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def _own_schema() -> AsyncIterator[AsyncEngine]:
    """An engine whose connections work in a schema of their own, away from the shared test
    schema, dropped afterwards."""
    assert PG_URL is not None
    admin = db.create_engine(PG_URL, pool_size=1)
    async with admin.begin() as connection:
        await connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    engine = db.create_engine(PG_URL, pool_size=1)
    engine.sync_engine.dialect.default_schema_name = SCHEMA

    @event.listens_for(engine.sync_engine, "connect")
    def _search_path(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.run_async(
            lambda conn: conn.execute(f"SET search_path TO {SCHEMA}"))

    try:
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as connection:
            await connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await admin.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)
async def test_postgresql_empty_to_head_matches_models() -> None:
    async with _own_schema() as engine:
        await _check_head(engine)


def test_the_known_head_is_alembics_head() -> None:
    # Start-up skips Alembic when the database is at SCHEMA_HEAD: it must be the real head.
    assert db.SCHEMA_HEAD == db.head_revision()


async def test_followers_of_month_goals_get_calendar_months(empty_engine: AsyncEngine
                                                             ) -> None:
    """0014_goal_months: people following a goal set in months (stored as 30 days a month,
    365 a year) count calendar months; their own rhythms and goals in weeks are untouched."""
    engine = empty_engine
    await db.upgrade(engine, "0013_cadence_own")
    now = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    contact = {"workspace_id": 1, "user_id": 1, "kind": "colleague", "created_at": now}
    async with engine.begin() as connection:
        await connection.execute(insert(Workspace), [dict(
            id=1, platform="console", external_id="T1", name="w", ai_enabled=True,
            disclosure_policy="optional", active=True, created_at=now)])
        await connection.execute(insert(User), [dict(
            id=1, workspace_id=1, external_id="U1", display_name="u", tz="UTC",
            tz_from_platform=True, window_start_minute=540, window_end_minute=1020,
            working_days=31, daily_cap=3, digest=True, ai_enabled=True, tone="warm",
            weekly_summary=True, active=True, sent_day_count=0, created_at=now)])
        await connection.execute(insert(Contact), [
            {**contact, "name": name, "name_key": name.lower(), "cadence_days": days,
             "goal_cadence_days": goal, "cadence_own": own, "cadence_months": months}
            for name, days, goal, own, months in (
                ("monthly goal", 30, 30, False, None), ("quarterly goal", 90, 90, False, None),
                ("yearly goal", 365, 365, False, None), ("weekly goal", 28, 28, False, None),
                ("own 30 days", 30, 30, True, None), ("own monthly", 30, None, True, 1),
                ("no rhythm", None, None, False, None))])
    await db.upgrade(engine)
    async with engine.connect() as connection:
        months = dict((await connection.execute(
            select(Contact.name, Contact.cadence_months))).all())
    assert months == {"monthly goal": 1, "quarterly goal": 3, "yearly goal": 12,
                      "weekly goal": None, "own 30 days": None, "own monthly": 1,
                      "no rhythm": None}


# Contacts as the code before 0015 keyed them (casefolded, so "o’brien" and "o'brien"
# differed; insert_people's lower case is the same for these names), and what 0015 makes of
# them: the same key for names that read the same, and a visible "(2)" on the newer of two
# contacts that now collide (never a failed upgrade, nothing merged).
BEFORE_0015 = ("Dana O'Brien", "Dana O’Brien", "DANA O‘BRIEN", "Ann Smith–Jones", "Lee O’Neil",
               "D’Arcy Smith", "Kim O'Day", "Kim O'Day (2)", "Kim O’Day", "Dana Scully",
               "Zoë Lee", "Zoe Lee", "José García")
AFTER_0015 = [
    ("Dana O'Brien", "dana o'brien", "dana"),
    ("Dana O’Brien (2)", "dana o'brien (2)", "dana"),
    ("DANA O‘BRIEN (3)", "dana o'brien (3)", "dana"),
    ("Ann Smith–Jones", "ann smith-jones", "ann"),
    ("Lee O’Neil", "lee o'neil", "lee"),
    ("D’Arcy Smith", "d'arcy smith", "d'arcy"),
    ("Kim O'Day", "kim o'day", "kim"),
    ("Kim O'Day (2)", "kim o'day (2)", "kim"),
    ("Kim O’Day (3)", "kim o'day (3)", "kim"),
    ("Dana Scully", "dana scully", "dana"),
    # Accents on Latin letters are left out of keys: "Zoe Lee" had that key already.
    ("Zoë Lee (2)", "zoe lee (2)", "zoe"),
    ("Zoe Lee", "zoe lee", "zoe"),
    ("José García", "jose garcia", "jose"),
]


async def _contacts(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(
            select(Contact.user_id, Contact.name, Contact.name_key, Contact.first_key)
            .order_by(Contact.id))]


async def _downgrade(engine: AsyncEngine, revision: str) -> None:
    from alembic import command

    config = db.alembic_config()

    def _run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_run)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=[
    pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)])])
async def empty_engine(request: pytest.FixtureRequest, tmp_path: Path
                       ) -> AsyncIterator[AsyncEngine]:
    """A database with no schema yet: an SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
        try:
            yield engine
        finally:
            await engine.dispose()
    else:
        async with _own_schema() as engine:
            yield engine


async def test_name_keys_are_recomputed_and_collisions_renamed(empty_engine: AsyncEngine
                                                               ) -> None:
    await db.upgrade(empty_engine, "0014_goal_months")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    async with AsyncSession(empty_engine) as session, session.begin():
        _, user, _ = await session.run_sync(lambda s: insert_people(s, now, names=BEFORE_0015))
        # Someone else's contact of the same name is theirs: it is not renamed.
        _, other, _ = await session.run_sync(lambda s: insert_people(
            s, now, names=["Dana O’Brien"], workspace="other"))
    await db.upgrade(empty_engine)
    expected = [(user, *row) for row in AFTER_0015] + [(other, "Dana O’Brien", "dana o'brien",
                                                        "dana")]
    assert await _contacts(empty_engine) == expected
    # Each key is what the code computes from the name now: every lookup finds them.
    assert all(key == name_key(name) for _, name, key, _ in expected)
    # Down again: keys as 0014 computed them, the names kept; and up gives the same result.
    await _downgrade(empty_engine, "0014_goal_months")
    assert [key for _, _, key, _ in await _contacts(empty_engine)][:3] == [
        "dana o'brien", "dana o’brien (2)", "dana o‘brien (3)"]
    await db.upgrade(empty_engine)
    assert await _contacts(empty_engine) == expected


async def test_tag_keys_lose_their_accents_and_a_collision_gets_a_number(
        empty_engine: AsyncEngine) -> None:
    await db.upgrade(empty_engine, "0014_goal_months")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    async with AsyncSession(empty_engine) as session, session.begin():
        workspace, user, _ = await session.run_sync(lambda s: insert_people(s, now))
        await session.execute(insert(Tag), [
            {"workspace_id": workspace, "user_id": user, "name": name, "name_key": name,
             "created_at": now} for name in ("équipe", "equipe", "café", "clients")])
    await db.upgrade(empty_engine)
    async with empty_engine.connect() as connection:
        tags = (await connection.execute(select(Tag.name, Tag.name_key).order_by(Tag.id))).all()
    assert [tuple(tag) for tag in tags] == [("équipe-2", "equipe-2"), ("equipe", "equipe"),
                                            ("café", "cafe"), ("clients", "clients")]


async def test_typed_logs_at_noon_of_their_day_are_marked_as_days(empty_engine: AsyncEngine
                                                                   ) -> None:
    """0017_touchpoint_day_only: what the code before it recognised as a day (a typed log at
    noon in the person's zone) is marked; a moment, or a calendar meeting at noon, is not."""
    await db.upgrade(empty_engine, "0016_contact_role")
    now = datetime(2026, 12, 3, tzinfo=UTC)
    touchpoints = table("touchpoints", *(column(name) for name in (
        "id", "workspace_id", "user_id", "contact_id", "happened_at", "kind", "source",
        "created_at")))
    async with AsyncSession(empty_engine) as session, session.begin():
        workspace, user, [dana, _] = await session.run_sync(lambda s: insert_people(s, now))
        await session.execute(update(User).where(User.id == user).values(tz="Asia/Tokyo"))
        noon_in_tokyo = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
        await session.execute(insert(touchpoints), [
            {"id": touch_id, "workspace_id": workspace, "user_id": user, "contact_id": dana,
             "happened_at": at, "kind": "chat", "source": source, "created_at": now}
            for touch_id, at, source in (
                (1, noon_in_tokyo, "command"),
                (2, datetime(2026, 12, 1, 12, 0, tzinfo=UTC), "command"),  # 21:00 in Tokyo
                (3, noon_in_tokyo + timedelta(seconds=1), "command"),
                (4, noon_in_tokyo, "calendar"))])
    await db.upgrade(empty_engine)
    async with empty_engine.connect() as connection:
        marked = dict((await connection.execute(
            select(Touchpoint.id, Touchpoint.day_only))).all())
    assert marked == {1: True, 2: False, 3: False, 4: False}


# met_attendees as 0016 held it: a row per meeting and person.
_MET_ATTENDEES = table("met_attendees", column("connection_id"), column("workspace_id"),
                       column("user_id"), column("event_id"), column("series_id"),
                       column("email"), column("display_name"),
                       column("start_at", UTCDateTime()), column("end_at", UTCDateTime()))


async def _met_attendees(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    t = _MET_ATTENDEES.c
    async with engine.connect() as connection:
        return sorted(tuple(row) for row in await connection.execute(
            select(t.event_id, t.series_id, t.email, t.display_name, t.start_at, t.end_at)))


async def _met_people(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    m = MetPerson
    async with engine.connect() as connection:
        return sorted((row.connection_id, row.email, row.display_name, row.first_start_at,
                       met.meetings(row.meetings), row.meetings)
                      for row in await connection.execute(select(m)))


@contextlib.contextmanager
def _met_changed_since() -> Iterator[None]:
    """rapport.storage.met as if it had changed since 0019 (every function of it gone): a
    revision writes and reads the list format of its own day, which it holds itself."""
    def gone(*args: object, **kwargs: object) -> Any:
        raise AssertionError("a migration used rapport.storage.met as it is today")

    with pytest.MonkeyPatch.context() as patch:
        for name in ("micros", "moment", "entry", "ordered", "entry_text", "encode", "decode",
                     "first_day", "day_start", "meetings"):
            patch.setattr(met, name, gone)
        yield


async def test_people_met_fold_into_one_row_per_person_and_unfold_again(
        empty_engine: AsyncEngine) -> None:
    """0019_met_people: every meeting of every person met is kept, in one list per
    connection and person, oldest first, with the last name the calendar gave; down again,
    one row per meeting (each with that name); up again, the same lists. Whatever
    rapport.storage.met has become since: the revision keeps the format of its day."""
    await db.upgrade(empty_engine, "0016_contact_role")
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    monday = datetime(2026, 11, 23, 9, 30, 0, 123456, tzinfo=UTC)
    async with AsyncSession(empty_engine) as session, session.begin():
        workspace, user, _ = await session.run_sync(lambda s: insert_people(s, now))
        connections = [(await session.execute(insert(CalendarConnection).values(
            workspace_id=workspace, user_id=user, provider=provider, status="active",
            connected_at=now, updated_at=now).returning(CalendarConnection.id))).scalar_one()
            for provider in ("google", "microsoft")]
        google, microsoft = connections
        rows = [(google, "e2", None, "sam@globex.com", None, monday + timedelta(days=1)),
                (google, "e1", None, "sam@globex.com", "Sam Lee", monday),
                (google, "e3", "s'1", "sam@globex.com", "Sam", monday + timedelta(days=2)),
                (google, "e1", None, "zoë@例え.jp", "佐藤 ゾーイ 🙂", monday),
                (microsoft, "AAMk=", None, "sam@globex.com", None, monday)]
        await session.execute(insert(_MET_ATTENDEES), [
            {"connection_id": connection, "workspace_id": workspace, "user_id": user,
             "event_id": event_id, "series_id": series_id, "email": email,
             "display_name": name, "start_at": start, "end_at": start + timedelta(minutes=45)}
            for connection, event_id, series_id, email, name, start in rows])
    with _met_changed_since():
        await db.upgrade(empty_engine)
    folded = await _met_people(empty_engine)

    def meeting(event_id: str, series_id: str | None, start: datetime) -> met.Meeting:
        return met.Meeting(event_id, series_id, start, start + timedelta(minutes=45))

    assert [row[:5] for row in folded] == [
        (google, "sam@globex.com", "Sam", monday,
         [meeting("e1", None, monday), meeting("e2", None, monday + timedelta(days=1)),
          meeting("e3", "s'1", monday + timedelta(days=2))]),
        (google, "zoë@例え.jp", "佐藤 ゾーイ 🙂", monday, [meeting("e1", None, monday)]),
        (microsoft, "sam@globex.com", None, monday, [meeting("AAMk=", None, monday)])]
    # The text of 0019's format, to the character: what today's met reads.
    assert folded[1][5] == f'[["e1",null,{met.micros(monday)},' \
        f'{met.micros(monday + timedelta(minutes=45))}]]'
    # Down: a row per meeting again, each with its person's name.
    with _met_changed_since():
        await _downgrade(empty_engine, "0016_contact_role")
    by_person = {(row[0], row[1]): row[2] for row in folded}
    assert await _met_attendees(empty_engine) == sorted(
        (event_id, series_id, email, by_person[(connection, email)], start,
         start + timedelta(minutes=45))
        for connection, event_id, series_id, email, _name, start in rows)
    # Up again: the very same lists, to the character.
    with _met_changed_since():
        await db.upgrade(empty_engine)
    assert await _met_people(empty_engine) == folded


async def test_meetings_that_have_begun_leave_the_brief_jobs_index(empty_engine: AsyncEngine
                                                                   ) -> None:
    """0021_unbriefed_meetings: a meeting that has begun is marked handled, one to come stays
    to brief, one briefed keeps its moment; the index of every start goes for the partial
    one, and comes back on the way down."""
    await db.upgrade(empty_engine, "0020_delivered_messages")
    now = datetime.now(UTC)
    briefed_at = now - timedelta(days=2, minutes=30)
    async with AsyncSession(empty_engine) as session, session.begin():
        workspace, user, _ = await session.run_sync(lambda s: insert_people(s, now))
        connection_id = (await session.execute(insert(CalendarConnection).values(
            workspace_id=workspace, user_id=user, provider="google", status="active",
            connected_at=now, updated_at=now).returning(CalendarConnection.id))).scalar_one()
        await session.execute(insert(CapturedEvent), [
            {"connection_id": connection_id, "workspace_id": workspace, "user_id": user,
             "event_id": event_id, "start_at": start, "end_at": start + timedelta(hours=1),
             "updated_at": now, "brief_sent_at": brief}
            for event_id, start, brief in (
                ("begun", now - timedelta(days=1), None),
                ("to come", now + timedelta(days=1), None),
                ("briefed", now - timedelta(days=2), briefed_at))])
    await db.upgrade(empty_engine)
    async with empty_engine.connect() as connection:
        marks = dict((await connection.execute(
            select(CapturedEvent.event_id, CapturedEvent.brief_sent_at))).all())
        indexes = await connection.run_sync(_index_names)
    assert marks["to come"] is None and marks["briefed"] == briefed_at
    assert marks["begun"] == now - timedelta(days=1)  # its own start: no brief went out
    assert "ix_captured_events_unbriefed_start_at" in indexes
    assert "ix_captured_events_start_at" not in indexes
    await _downgrade(empty_engine, "0020_delivered_messages")
    async with empty_engine.connect() as connection:
        indexes = await connection.run_sync(_index_names)
    assert "ix_captured_events_start_at" in indexes
    assert "ix_captured_events_unbriefed_start_at" not in indexes


async def test_nudges_get_a_not_before_that_starts_empty_and_goes_again(
        empty_engine: AsyncEngine) -> None:
    """0022_nudge_not_before: a nudge waiting at the upgrade has no other wait recorded (a
    settings change re-plans it as before); on the way down the column goes, the nudge and
    the draft that points at it stay."""
    await db.upgrade(empty_engine, "0021_unbriefed_meetings")
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    nudges = table("nudges", column("id"), column("workspace_id"), column("user_id"),
                   column("contact_id"), column("reason"), column("dedupe_key"),
                   column("due_at", UTCDateTime()), column("deliver_after", UTCDateTime()),
                   column("status"), column("snooze_count"), column("attempts"),
                   column("created_at", UTCDateTime()))
    drafts = table("drafts", column("workspace_id"), column("user_id"), column("nudge_id"),
                   column("provider"), column("draft_text"), column("disclosure"),
                   column("created_at", UTCDateTime()))
    async with AsyncSession(empty_engine) as session, session.begin():
        workspace, user, [dana, _] = await session.run_sync(lambda s: insert_people(s, now))
        nudge = (await session.execute(insert(nudges).values(
            workspace_id=workspace, user_id=user, contact_id=dana, reason="cadence",
            dedupe_key="cadence:1:202612041200", due_at=now,
            deliver_after=now + timedelta(hours=1), status="planned", snooze_count=0,
            attempts=1, created_at=now).returning(nudges.c.id))).scalar_one()
        await session.execute(insert(drafts).values(
            workspace_id=workspace, user_id=user, nudge_id=nudge, provider="template",
            draft_text="Hi", disclosure=False, created_at=now))
    await db.upgrade(empty_engine)
    async with empty_engine.connect() as connection:
        waits = (await connection.execute(select(
            column("deliver_after", UTCDateTime()), column("not_before", UTCDateTime()))
            .select_from(table("nudges")))).all()
    assert [tuple(row) for row in waits] == [(now + timedelta(hours=1), None)]

    await _downgrade(empty_engine, "0021_unbriefed_meetings")

    async with empty_engine.connect() as connection:
        columns = await connection.run_sync(
            lambda sync: {c["name"] for c in inspect(sync).get_columns("nudges")})
        kept = (await connection.execute(select(nudges.c.id))).scalars().all()
        drafted = (await connection.execute(select(drafts.c.nudge_id))).scalars().all()
    assert "not_before" not in columns and "deliver_after" in columns
    assert kept == [nudge] and drafted == [nudge]
    await db.upgrade(empty_engine)
    assert await db.current_revision(empty_engine) == db.head_revision()


async def test_titles_and_nicknames_leave_stored_keys_and_a_collision_gets_a_number(
        empty_engine: AsyncEngine) -> None:
    """0023_name_key_titles: "show Hiro" finds a contact saved as "Dr. Hiro Tanaka" (its first
    key was "dr."); the same person saved twice, with and without the title, stays twice."""
    await db.upgrade(empty_engine, "0022_nudge_not_before")
    now = datetime(2026, 12, 5, tzinfo=UTC)
    names = ("Hiro Tanaka", "Dr. Hiro Tanaka", "Prof Ada Lovelace", "Chris “CJ” Johnson",
             "Dana Scully", "Sir")
    async with AsyncSession(empty_engine) as session, session.begin():
        _, user, _ = await session.run_sync(lambda s: insert_people(s, now, names=names))
    await db.upgrade(empty_engine)
    expected = [(user, "Hiro Tanaka", "hiro tanaka", "hiro"),
                (user, "Dr. Hiro Tanaka (2)", "hiro tanaka (2)", "hiro"),
                (user, "Prof Ada Lovelace", "ada lovelace", "ada"),
                (user, "Chris “CJ” Johnson", "chris johnson", "chris"),
                (user, "Dana Scully", "dana scully", "dana"),
                (user, "Sir", "sir", "sir")]
    assert await _contacts(empty_engine) == expected
    assert all(key == name_key(name) for _, name, key, _ in expected)
    # Down again: keys as 0022 computed them, the names kept; up gives the same result.
    await _downgrade(empty_engine, "0022_nudge_not_before")
    assert [row[2:] for row in await _contacts(empty_engine)] == [
        ("hiro tanaka", "hiro"), ("dr. hiro tanaka (2)", "dr."), ("prof ada lovelace", "prof"),
        ('chris "cj" johnson', "chris"), ("dana scully", "dana"), ("sir", "sir")]
    await db.upgrade(empty_engine)
    assert await _contacts(empty_engine) == expected


async def test_a_title_before_a_surname_alone_stays_and_numbers_skip_names_taken(
        empty_engine: AsyncEngine) -> None:
    """From 0022: "Mr. Smith" and "Mrs. Smith" stay two people; a number given to tell two
    apart is one the user has no name with yet ("Dr. Hiro Tanaka (2)" was someone's name
    already); of two that read alike, the newer is renamed, never one linked to a chat account
    for an unlinked one."""
    await db.upgrade(empty_engine, "0022_nudge_not_before")
    now = datetime(2026, 12, 5, tzinfo=UTC)
    names = ("Mr. Smith", "Mrs. Smith", "Hiro Tanaka", "Dr. Hiro Tanaka", "Dr. Hiro Tanaka (2)",
             "Pat Doe", "Dr. Pat Doe", "Dr. Ann Lee", "Ann Lee", "Maria Lopez (Ella)",
             "Maria Lopez")
    async with AsyncSession(empty_engine) as session, session.begin():
        _, user, ids = await session.run_sync(lambda s: insert_people(s, now, names=names))
        await session.execute(update(Contact).where(Contact.id == ids[6])
                              .values(platform_user_id="U0PAT"))
    await db.upgrade(empty_engine)
    expected = [(user, "Mr. Smith", "mr smith", "mr"),
                (user, "Mrs. Smith", "mrs smith", "mrs"),
                (user, "Hiro Tanaka", "hiro tanaka", "hiro"),
                (user, "Dr. Hiro Tanaka (3)", "hiro tanaka (3)", "hiro"),
                (user, "Dr. Hiro Tanaka (2)", "hiro tanaka (2)", "hiro"),
                (user, "Pat Doe (2)", "pat doe (2)", "pat"),
                (user, "Dr. Pat Doe", "pat doe", "pat"),
                (user, "Dr. Ann Lee", "ann lee", "ann"),
                (user, "Ann Lee (2)", "ann lee (2)", "ann"),
                (user, "Maria Lopez (Ella)", "maria lopez (ella)", "maria"),
                (user, "Maria Lopez", "maria lopez", "maria")]
    assert await _contacts(empty_engine) == expected
    assert all(key == name_key(name) for _, name, key, _ in expected)
    await _downgrade(empty_engine, "0022_nudge_not_before")
    assert [row[2] for row in await _contacts(empty_engine)] == [
        " ".join(name.casefold().split()) for _, name, _, _ in expected]
    await db.upgrade(empty_engine)
    assert await _contacts(empty_engine) == expected


async def test_calendar_touchpoints_get_an_index_of_their_own(empty_engine: AsyncEngine
                                                              ) -> None:
    """0026_calendar_touch_index: the partial index of calendar touchpoints comes with the
    upgrade, holds them alone, and goes on the way down; touchpoints are untouched."""
    await db.upgrade(empty_engine, "0025_name_key_pictures")
    now = datetime(2026, 12, 7, tzinfo=UTC)
    async with AsyncSession(empty_engine) as session, session.begin():
        workspace, user, (dana, _) = await session.run_sync(lambda s: insert_people(s, now))
        await session.execute(insert(Touchpoint), [
            {"workspace_id": workspace, "user_id": user, "contact_id": dana,
             "happened_at": now - timedelta(days=days), "kind": "meeting", "source": source,
             "created_at": now} for days, source in ((1, "calendar"), (2, "command"))])
    await db.upgrade(empty_engine)
    async with empty_engine.connect() as connection:
        indexes = await connection.run_sync(lambda sync: inspect(sync).get_indexes(
            "touchpoints"))
        touches = (await connection.execute(select(func.count()).select_from(Touchpoint))
                   ).scalar()
    [index] = [index for index in indexes
               if index["name"] == "ix_touchpoints_calendar_contact_id_happened_at"]
    assert index["column_names"] == ["contact_id", "happened_at"]
    options = index.get("dialect_options", {})
    condition = str(options.get("sqlite_where", options.get("postgresql_where")))
    assert "source" in condition and "'calendar'" in condition
    assert touches == 2
    await _downgrade(empty_engine, "0025_name_key_pictures")
    async with empty_engine.connect() as connection:
        names = await connection.run_sync(_index_names)
    assert "ix_touchpoints_calendar_contact_id_happened_at" not in names
    assert "ix_touchpoints_contact_id_happened_at" in names


_DRAFTS_0027 = table("drafts", column("id"), column("workspace_id"), column("user_id"),
                     column("contact_id"), column("provider"), column("sent_context"),
                     column("draft_text"), column("final_text"), column("edit_distance"),
                     column("disclosure"), column("outcome"), column("created_at", UTCDateTime()))
_UNDO_ENTRIES = table("undo_entries", column("id"), column("workspace_id"), column("user_id"),
                      column("description"), column("kind"), column("payload"),
                      column("created_at", UTCDateTime()))


async def _draft_rows(engine: AsyncEngine, *columns: str) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(
            select(*(column(name) for name in columns)).select_from(table("drafts"))
            .order_by(column("id")))]


async def _undo_images(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        payload = (await connection.execute(select(_UNDO_ENTRIES.c.payload))).scalar_one()
    images: list[dict[str, Any]] = json.loads(payload)["deleted"]["drafts"]
    return images


async def test_drafts_get_their_length_and_blacked_out_texts_become_null(
        empty_engine: AsyncEngine) -> None:
    """0028_draft_length: every draft records its length; one whose text retention replaced
    by █ (one per character, to keep that length) loses it, in the table and in what the undo
    journal keeps, and keeps its length. On the way down the blacked-out text comes back."""
    await db.upgrade(empty_engine, "0027_pending_files")
    now = datetime(2026, 12, 15, tzinfo=UTC)
    kept, blacked = "Dana, coffee on Friday? ☕", "\u2588" * 31
    async with AsyncSession(empty_engine) as session, session.begin():
        workspace, user, (dana, _) = await session.run_sync(lambda s: insert_people(s, now))
        base = {"workspace_id": workspace, "user_id": user, "contact_id": dana,
                "provider": "openai", "disclosure": False, "outcome": "copied",
                "created_at": now}
        await session.execute(insert(_DRAFTS_0027), [
            {**base, "id": 1, "draft_text": kept, "final_text": "Dana, coffee Friday?",
             "sent_context": '{"first_name": "Dana"}', "edit_distance": 9},
            {**base, "id": 2, "draft_text": blacked, "final_text": None,
             "sent_context": None, "edit_distance": 12}])
        images = [{**base, "created_at": now.isoformat(), "id": 3, "draft_text": kept,
                   "final_text": None, "sent_context": None, "edit_distance": 4},
                  {**base, "created_at": now.isoformat(), "id": 4, "draft_text": blacked,
                   "final_text": None, "sent_context": None, "edit_distance": 5}]
        await session.execute(insert(_UNDO_ENTRIES).values(
            workspace_id=workspace, user_id=user, description="forgot Lee", kind="forget",
            payload=json.dumps({"inserted": [], "deleted": {"drafts": images}},
                               ensure_ascii=False), created_at=now))

    await db.upgrade(empty_engine)

    assert await _draft_rows(empty_engine, "draft_text", "draft_length", "final_text",
                             "sent_context", "edit_distance") == [
        (kept, len(kept), "Dana, coffee Friday?", '{"first_name": "Dana"}', 9),
        (None, 31, None, None, 12)]
    assert [(image["draft_text"], image.get("draft_length")) for image in
            await _undo_images(empty_engine)] == [(kept, len(kept)), (None, 31)]

    await _downgrade(empty_engine, "0027_pending_files")

    async with empty_engine.connect() as connection:
        columns = await connection.run_sync(
            lambda sync: {c["name"]: c for c in inspect(sync).get_columns("drafts")})
    assert "draft_length" not in columns and not columns["draft_text"]["nullable"]
    assert await _draft_rows(empty_engine, "draft_text", "final_text", "edit_distance") == [
        (kept, "Dana, coffee Friday?", 9), (blacked, None, 12)]
    assert [image["draft_text"] for image in await _undo_images(empty_engine)] == [kept, blacked]
    await db.upgrade(empty_engine)
    assert await db.current_revision(empty_engine) == db.head_revision()
    assert await _draft_rows(empty_engine, "draft_text", "draft_length") == [
        (kept, len(kept)), (None, 31)]
