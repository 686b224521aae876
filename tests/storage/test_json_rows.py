"""`JsonRowsInsert`: many rows in one statement with one JSON parameter store what SQLAlchemy's
own INSERT stores, on every backend, and read back what RETURNING gives; ids of touchpoints
come back in the order asked, twins included. `JsonRowsUpdate` writes what SQLAlchemy's
UPDATE by id writes, to the rows named and no other."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import String, Table, cast, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from rapport.storage import db, queries
from rapport.storage.models import Contact, Touchpoint
from rapport.storage.prepared import JsonRowsInsert, JsonRowsUpdate, json_text
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


CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
CLOCKS = JsonRowsUpdate(CONTACTS, key="id", shared=("created_at",),
                        per_row=("last_touch_at", "next_due_at", "company"))


def _contacts(session: Session, ids: list[int]) -> list[tuple[Any, ...]]:
    c = Contact
    return [tuple(row) for row in session.execute(
        select(c.last_touch_at, cast(c.last_touch_at, String).label("last"), c.next_due_at,
               c.company,
               c.created_at, cast(c.created_at, String).label("created"), c.name)
        .where(c.id.in_(ids)).order_by(c.id))]


async def test_an_update_of_many_rows_writes_what_sqlalchemy_writes(
        any_engine: AsyncEngine) -> None:
    def work(session: Session) -> dict[str, Any]:
        names = ["Dana", "Lee", "Zoë", "Sam", "Untouched"]
        _workspace, _user, ids = insert_people(session, NOW, names=names)
        theirs, ours, untouched = ids[:2], ids[2:4], ids[4]
        # Moments in two zones, a NULL, text with quotes and unicode, and a shared moment.
        values = [(NOW - timedelta(days=3), None, "O'Brien & “Sons”"),
                  (NOW.astimezone(PARIS), NOW + timedelta(days=14, microseconds=7), None)]
        for contact, (last, due, company) in zip(theirs, values, strict=True):
            session.execute(update(Contact).where(Contact.id == contact).values(
                last_touch_at=last, next_due_at=due, company=company,
                created_at=NOW.astimezone(PARIS) - timedelta(days=1)))
        written = CLOCKS.execute(
            session, [(contact, *row) for contact, row in zip(ours, values, strict=True)],
            created_at=NOW.astimezone(PARIS) - timedelta(days=1))
        return {"core": [row[:-1] for row in _contacts(session, theirs)],
                "ours": [row[:-1] for row in _contacts(session, ours)],
                "untouched": _contacts(session, [untouched]), "written": written,
                "none": CLOCKS.execute(session, [], created_at=NOW)}

    found = await Database(db.session_factory(any_engine)).run(work)
    assert found["ours"] == found["core"]
    assert found["ours"][0][0] == NOW - timedelta(days=3)
    assert found["ours"][1][3] is None
    assert found["ours"][0][4] == NOW - timedelta(days=1)
    untouched = found["untouched"][0]
    assert untouched[:4] == (None, None, None, None)
    assert (untouched[4], untouched[6]) == (NOW, "Untouched")
    assert found["written"] == 2
    assert found["none"] == 0


_JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1),
                         st.text(), st.floats(allow_nan=False, allow_infinity=False))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_JSON_VALUES, max_size=6), max_size=8))
def test_rows_are_encoded_as_the_standard_encoder_would_and_read_back_by_sqlite(
        rows: list[list[Any]]) -> None:
    """orjson stands in for `json.dumps`: the text must be the one the standard encoder
    writes (compact, non-ASCII kept), and SQLite's `json_each` must read each row back."""
    encoded = json_text(rows)
    assert isinstance(encoded, str)
    assert json.loads(encoded) == rows
    if not any(isinstance(value, float) for row in rows for value in row):
        # Floats may be spelled differently (1e16 against 1e+16); no JSON row holds one.
        assert encoded == json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    with sqlite3.connect(":memory:") as connection:
        read = [json.loads(value) for (value,) in connection.execute(
            "SELECT json(value) FROM json_each(?)", (encoded,))]
    assert read == rows
