"""Statements for many rows (PreparedMany) write what `Connection.execute` writes, on every
backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from rapport.storage import db
from rapport.storage.models import Contact, Touchpoint
from rapport.storage.prepared import PreparedMany
from rapport.storage.uow import Database
from tests.storage.people import insert_people

PARIS = timezone(timedelta(hours=1))


async def test_prepared_rows_read_back_as_executed_rows(any_engine: AsyncEngine) -> None:
    now = datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)
    table: Any = Touchpoint.__table__
    keys = ("workspace_id", "user_id", "contact_id", "happened_at", "kind", "summary",
            "source", "created_at")
    prepared = PreparedMany(insert(table), keys)
    clocks = PreparedMany(update(Contact).where(Contact.id == bindparam("b_id")).values(
        last_touch_at=bindparam("b_last"), next_due_at=bindparam("b_due")),
        ("b_id", "b_last", "b_due"))

    def work(session: Session) -> list[Any]:
        workspace, user, (dana, lee) = insert_people(session, now)
        rows = [dict(workspace_id=workspace, user_id=user, contact_id=contact,
                     happened_at=at, kind="meeting", summary=summary, source="calendar",
                     created_at=now)
                for contact, at, summary in ((dana, now, None),
                                             (lee, now.astimezone(PARIS), "lunch"),
                                             (dana, now - timedelta(days=3), None))]
        session.connection().execute(insert(table), rows)  # the reference
        prepared.executemany(session, rows)
        prepared.executemany(session, [])  # nothing to do
        clocks.executemany(session, [
            {"b_id": dana, "b_last": now.astimezone(PARIS), "b_due": None},
            {"b_id": lee, "b_last": now - timedelta(days=1), "b_due": now + timedelta(days=7)}])
        written = session.execute(select(
            Touchpoint.contact_id, Touchpoint.happened_at, Touchpoint.kind, Touchpoint.summary,
            Touchpoint.source).order_by(Touchpoint.id)).all()
        return [written, session.execute(select(
            Contact.id, Contact.last_touch_at, Contact.next_due_at).order_by(Contact.id)).all(),
            (dana, lee)]

    written, contacts, (dana, lee) = await Database(db.session_factory(any_engine)).run(work)
    assert written[3:] == written[:3]
    assert [row.happened_at for row in written[:3]] == [
        now, now, now - timedelta(days=3)]
    assert all(row.happened_at.tzinfo is not None for row in written)
    assert [tuple(row) for row in contacts] == [
        (dana, now, None), (lee, now - timedelta(days=1), now + timedelta(days=7))]


async def test_values_fixed_in_the_statement_are_written_with_every_row(
        any_engine: AsyncEngine) -> None:
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    # A literal, NULL and an expression with a constant, beside the rows' own keys.
    statement = update(Contact).where(Contact.id == bindparam("b_id")).values(
        kind="friend", company=None, cadence_days=Contact.cadence_days + 7,
        next_due_at=bindparam("b_due"))
    prepared = PreparedMany(statement, ("b_id", "b_due"))

    def work(session: Session) -> list[Any]:
        _workspace, _user, (dana, lee) = insert_people(session, now)
        session.execute(update(Contact).values(company="Acme", cadence_days=14))
        session.connection().execute(statement, [{"b_id": dana, "b_due": now}])  # reference
        prepared.executemany(session, [{"b_id": lee, "b_due": now}])
        return [tuple(row) for row in session.execute(select(
            Contact.kind, Contact.company, Contact.cadence_days, Contact.next_due_at)
            .order_by(Contact.id))]

    dana, lee = await Database(db.session_factory(any_engine)).run(work)
    assert dana == lee == ("friend", None, 21, now)
