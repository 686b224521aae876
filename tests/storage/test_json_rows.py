"""`JsonRowsInsert`: many rows in one statement with one JSON parameter store what SQLAlchemy's
own INSERT stores, on every backend, and read back what RETURNING gives; ids of touchpoints
come back in the order asked, twins included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import String, Table, cast, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from rapport.storage import db, queries
from rapport.storage.models import Touchpoint
from rapport.storage.prepared import JsonRowsInsert
from rapport.storage.uow import Database
from tests.storage.people import insert_people

NOW = datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)
PARIS = timezone(timedelta(hours=1))
TOUCHPOINTS: Table = Touchpoint.__table__  # type: ignore[assignment]


def _stored(session: Session, source: str) -> list[tuple[Any, ...]]:
    t = Touchpoint
    return [tuple(row) for row in session.execute(
        select(t.contact_id, t.happened_at, cast(t.happened_at, String).label("happened"),
               t.kind, t.summary, t.created_at, cast(t.created_at, String).label("created"))
        .where(t.source == source).order_by(t.id))]


async def test_touchpoints_in_one_statement_store_what_sqlalchemy_stores(
        any_engine: AsyncEngine) -> None:
    def work(session: Session) -> dict[str, Any]:
        workspace, user, (dana, lee) = insert_people(session, NOW)
        # Lee twice at the same moment (one in another zone): two rows, two ids.
        meetings = [(dana, NOW - timedelta(days=2)), (lee, NOW.astimezone(PARIS)),
                    (dana, NOW - timedelta(days=1, microseconds=1)), (lee, NOW)]
        ids = queries.insert_touchpoints(
            session, workspace_id=workspace, user_id=user, kind="meeting ‘1:1’ ✓",
            summary=None, source="json", now=NOW.astimezone(PARIS), meetings=meetings)
        session.execute(insert(TOUCHPOINTS), [dict(
            workspace_id=workspace, user_id=user, contact_id=contact, happened_at=at,
            kind="meeting ‘1:1’ ✓", summary=None, source="core", created_at=NOW)
            for contact, at in meetings])
        by_id = {row.id: row.happened_at for row in session.execute(
            select(Touchpoint.id, Touchpoint.happened_at).where(Touchpoint.id.in_(ids)))}
        contacts = {row.id: row.contact_id for row in session.execute(
            select(Touchpoint.id, Touchpoint.contact_id).where(Touchpoint.id.in_(ids)))}
        return {"ours": _stored(session, "json"), "core": _stored(session, "core"),
                "ids": ids, "moments": [by_id[i] for i in ids],
                "contacts": [contacts[i] for i in ids], "meetings": meetings,
                "none": queries.insert_touchpoints(
                    session, workspace_id=workspace, user_id=user, kind="x", summary=None,
                    source="json", now=NOW, meetings=[])}

    found = await Database(db.session_factory(any_engine)).run(work)
    assert found["ours"] == found["core"]
    assert len(set(found["ids"])) == 4
    assert found["moments"] == [at for _contact, at in found["meetings"]]
    assert found["contacts"] == [contact for contact, _at in found["meetings"]]
    assert found["none"] == []


def test_a_column_with_a_python_default_must_be_given() -> None:
    with pytest.raises(ValueError, match="kind, source"):
        JsonRowsInsert(TOUCHPOINTS, shared=("workspace_id", "user_id", "created_at"),
                       per_row=("contact_id", "happened_at"))
