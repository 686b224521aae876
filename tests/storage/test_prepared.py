"""Prepared statements give exactly what SQLAlchemy gives, on the SQLite driver and on
PostgreSQL, and refuse what they cannot run faithfully."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import bindparam, event, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from rapport.bot.core.rapport import Rapport
from rapport.storage import db, queries
from rapport.storage.models import Contact, Nudge, Touchpoint, User, Workspace
from rapport.storage.prepared import Prepared, attach_driver
from rapport.storage.uow import Database
from tests.conftest import PG_SKIP_REASON, PG_URL, Clock, console_user, truncate_all

# Microseconds and a zone other than UTC on the way in: both must survive the round trip.
MOMENT = datetime(2026, 11, 30, 9, 15, 42, 123456, tzinfo=UTC)
IN_BERLIN = MOMENT.astimezone(ZoneInfo("Europe/Berlin"))


async def _user(engine: AsyncEngine, clock: Clock) -> tuple[int, int, int]:
    """(workspace id, user id, contact id) of a console user who keeps Dana."""
    rapport = Rapport(sessions=db.session_factory(engine), clock=clock)
    await rapport.handle_text(console_user(), "add Dana every 2 weeks")
    database = Database(db.session_factory(engine))

    def ids(session: Session) -> tuple[int, int, int]:
        found = queries.user_ids(session, "console", "local", "alex")
        assert found is not None
        contact = queries.contact_by_key(session, found[1], "dana")
        assert contact is not None
        return found[0], found[1], contact.id

    return await database.run(ids, write=False)


async def test_rows_written_and_read_through_prepared_statements_match_sqlalchemy(
        any_engine: AsyncEngine, clock: Clock) -> None:
    workspace_id, user_id, contact_id = await _user(any_engine, clock)
    database = Database(db.session_factory(any_engine))

    def write(session: Session) -> int:
        touchpoint = queries.insert_touchpoint(
            session, workspace_id=workspace_id, user_id=user_id, contact_id=contact_id,
            happened_at=IN_BERLIN, kind="coffee", summary="Q3 “plan” ✓", source="command",
            now=MOMENT)
        queries.set_contact_clock(session, contact_id, last_touch_at=IN_BERLIN,
                                  next_due_at=None)
        return touchpoint

    touchpoint_id = await database.run(write)

    def read(session: Session) -> tuple[object, ...]:
        orm_touch = session.execute(select(Touchpoint.happened_at, Touchpoint.summary,
                                           Touchpoint.created_at)
                                    .where(Touchpoint.id == touchpoint_id)).one()
        orm_user = session.execute(
            select(User.tz, User.window_start_minute, User.window_end_minute,
                   User.working_days, User.daily_cap, User.paused_until, User.digest,
                   User.ai_enabled, User.tone, User.weekly_summary, Workspace.platform,
                   Workspace.ai_enabled, Workspace.disclosure_policy, User.active,
                   Workspace.external_id, User.external_id, User.prep_minutes)
            .join(Workspace, Workspace.id == User.workspace_id)
            .where(User.id == user_id)).one()
        clock_inputs = queries.contact_clock_inputs(session, contact_id)
        return (tuple(orm_touch), tuple(orm_user), queries.user_context_row(
            session, workspace_id, user_id), clock_inputs)

    orm_touch, orm_user, prepared_user, clock_inputs = await database.run(read, write=False)
    assert orm_touch == (MOMENT, "Q3 “plan” ✓", MOMENT)
    assert orm_touch[0].tzinfo is not None  # type: ignore[index]
    assert prepared_user == orm_user
    # Booleans come back as booleans, not SQLite's 0 and 1.
    assert [type(value) for value in prepared_user] == [type(value) for value in orm_user]
    assert clock_inputs is not None and clock_inputs.last_touch_at == MOMENT
    assert clock_inputs.last_touch_at.tzinfo is not None
    assert clock_inputs.cadence_days == 14 and clock_inputs.created_at.tzinfo is not None


async def test_constants_in_a_prepared_statement_and_changed_row_counts(
        any_engine: AsyncEngine, clock: Clock) -> None:
    workspace_id, user_id, contact_id = await _user(any_engine, clock)
    database = Database(db.session_factory(any_engine))

    def nudges(session: Session) -> tuple[list[int], list[int]]:
        ids = []
        for reason, status in (("cadence", "sent"), ("cadence", "done"), ("note", "sent"),
                               ("cadence", "planned")):
            ids.append(session.execute(insert(Nudge).values(
                workspace_id=workspace_id, user_id=user_id, contact_id=contact_id,
                reason=reason, status=status, due_at=MOMENT, deliver_after=MOMENT,
                created_at=MOMENT, dedupe_key=f"{reason}-{status}")
                .returning(Nudge.id)).scalar_one())
        return ids, queries.open_cadence_nudge_ids(session, user_id, contact_id)

    created, open_ids = await database.run(nudges)
    # The reason ("cadence") and the statuses are fixed in the statement; only the ids vary.
    assert sorted(open_ids) == [created[0], created[3]]

    def trim(session: Session) -> int:
        for n in range(5):
            queries.insert_undo_entry(session, workspace_id=workspace_id, user_id=user_id,
                                      description=f"change {n}", kind="change", payload=None,
                                      now=MOMENT + timedelta(seconds=n))
        queries.trim_undo_entries(session, user_id, 2)
        latest = queries.latest_undo_entry(session, user_id)
        assert latest is not None and latest.description == "change 4"
        return len(session.execute(select(queries.UndoEntry.id)
                                   .where(queries.UndoEntry.user_id == user_id)).all())

    assert await database.run(trim) == 2


async def test_units_on_a_sqlite_file_run_prepared_statements_on_the_driver(
        engine: AsyncEngine) -> None:
    database = Database(db.session_factory(engine))
    # The session of a unit on the SQLite thread carries its sqlite3 connection, so a
    # prepared statement goes straight to the driver (the whole point of preparing).
    assert await database.run(lambda session: "rapport.sqlite_driver" in session.info,
                              write=False)


async def test_driver_errors_surface_as_sqlalchemys(any_engine: AsyncEngine,
                                                    clock: Clock) -> None:
    workspace_id, user_id, _contact_id = await _user(any_engine, clock)
    database = Database(db.session_factory(any_engine))

    def orphan(session: Session) -> int:
        return queries.insert_touchpoint(
            session, workspace_id=workspace_id, user_id=user_id, contact_id=999_999,
            happened_at=MOMENT, kind="coffee", summary=None, source="command", now=MOMENT)

    # A foreign key the driver refuses is SQLAlchemy's IntegrityError, as callers expect
    # (a busy database likewise arrives as its OperationalError).
    with pytest.raises(IntegrityError):
        await database.run(orphan)


def test_statements_that_cannot_be_run_faithfully_are_refused() -> None:
    dialect = sqlite.dialect()
    # SQLAlchemy would fill `kind`'s Python-side default; the driver would not.
    missing_default = Prepared(insert(Touchpoint).values(
        {column: bindparam(column) for column in (
            "workspace_id", "user_id", "contact_id", "happened_at", "summary", "source",
            "created_at")}))
    with pytest.raises(ValueError, match="kind"):
        missing_default._plan(dialect)
    # An IN list is rendered at execution time.
    in_list = Prepared(select(Contact.id).where(Contact.id.in_([1, 2, 3])))
    with pytest.raises(ValueError, match=r"rendered at execution|expanding"):
        in_list._plan(dialect)


def test_attach_driver_ignores_a_connection_that_is_not_sqlite3() -> None:
    class NotSqlite:
        class connection:  # the shape of SQLAlchemy's Connection.connection
            driver_connection = object()

        dialect = sqlite.dialect()

    session = Session()
    attach_driver(session, NotSqlite())  # type: ignore[arg-type]
    assert "rapport.sqlite_driver" not in session.info


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)
async def test_on_postgresql_prepared_statements_run_on_the_asyncpg_adapter(
        postgres_ready: str, clock: Clock) -> None:
    """Not through SQLAlchemy's execution (its events never see them), with the same rows."""
    engine = db.create_engine(postgres_ready, pool_size=2)
    await truncate_all(engine)
    try:
        _workspace_id, user_id, contact_id = await _user(engine, clock)
        executed: list[str] = []
        record = lambda *args: executed.append(args[2])  # noqa: E731
        event.listen(engine.sync_engine, "before_cursor_execute", record)
        database = Database(db.session_factory(engine))

        def both(session: Session) -> tuple[object, object]:
            found = queries.contact_by_key(session, user_id, "dana")
            assert found is not None
            core = session.execute(select(Contact.id, Contact.name, Contact.platform_user_id)
                                   .where(Contact.id == contact_id)).one()
            return (found.id, found.name, found.platform_user_id), tuple(core)

        prepared, core = await database.run(both, write=False)
        assert prepared == core == (contact_id, "Dana", None)
        assert len(executed) == 1 and "platform_user_id" in executed[0]  # only the Core one
    finally:
        await engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)
async def test_a_connection_lost_under_a_prepared_statement_is_retried_on_a_fresh_one(
        postgres_ready: str, clock: Clock) -> None:
    """The server drops the unit's connection (a failover, a restart): the prepared
    statement's error says the connection was lost, the pool forgets it, and the unit runs
    once more, as it does for SQLAlchemy's own statements."""
    engine = db.create_engine(postgres_ready, pool_size=1)
    admin = db.create_engine(postgres_ready, pool_size=1)
    await truncate_all(engine)
    try:
        _workspace_id, user_id, contact_id = await _user(engine, clock)
        database = Database(db.session_factory(engine))
        backends: list[int] = []

        def look_up(session: Session) -> object:
            backends.append(session.execute(text("SELECT pg_backend_pid()")).scalar_one())
            if len(backends) == 1:
                killer = admin.sync_engine.connect()  # the adapter needs the greenlet: fine
                try:
                    killer.execute(text("SELECT pg_terminate_backend(:pid)"),
                                   {"pid": backends[0]})
                finally:
                    killer.close()
            return queries.contact_by_key(session, user_id, "dana")

        found = await database.run(look_up, write=False)
        assert found is not None and found.id == contact_id
        assert len(backends) == 2 and backends[0] != backends[1]
    finally:
        await admin.dispose()
        await engine.dispose()
