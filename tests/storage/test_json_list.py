"""`in_json_list`: an IN list given as one JSON array parameter selects exactly what an
expanding IN selects, for ids and for text with quotes and any script, negated, empty, and
longer than any statement's limit of bound parameters; prepared on every backend."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from rapport.storage import db
from rapport.storage.models import Contact, Workspace
from rapport.storage.prepared import Prepared, in_json_list
from rapport.storage.uow import Database
from tests.storage.people import insert_people

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
EMAILS = ["o'brien@example.com", 'say "hi"@example.com', "zoë@例え.jp", "🙂@example.com",
          "back\\slash@example.com", "plain@example.com", "123"]

BY_ID = Prepared(select(Contact.email).where(in_json_list(Contact.id, "ids"))
                 .order_by(Contact.id))
NOT_BY_ID = Prepared(select(Contact.email).where(
    Contact.user_id == bindparam("user_id"), in_json_list(Contact.id, "ids", negated=True))
    .order_by(Contact.id))
BY_EMAIL = Prepared(select(Contact.id).where(in_json_list(Contact.email, "emails"))
                    .order_by(Contact.id))


async def test_json_list_selects_what_an_expanding_in_selects(any_engine: AsyncEngine) -> None:
    def work(session: Session) -> dict[str, Any]:
        _workspace, user, ids = insert_people(
            session, NOW, names=[f"Person {n}" for n in range(len(EMAILS))], emails=EMAILS)
        some = [ids[0], ids[2], ids[4], ids[-1]]
        # Longer than SQLite's and asyncpg's 32,766 bound parameters in one statement.
        many = [*some, *range(10**9, 10**9 + 40_000)]

        def expanding(values: list[Any], column: Any, negated: bool = False) -> list[Any]:
            condition = column.not_in(values) if negated else column.in_(values)
            return list(session.execute(
                select(Contact.email if column is Contact.id else Contact.id)
                .where(Contact.user_id == user, condition).order_by(Contact.id)).scalars())

        return {
            "by_id": ([row[0] for row in BY_ID.rows(session, ids=some)],
                      expanding(some, Contact.id)),
            "many": ([row[0] for row in BY_ID.rows(session, ids=many)],
                     expanding(some, Contact.id)),
            "none": [row[0] for row in BY_ID.rows(session, ids=[])],
            "not_by_id": ([row[0] for row in NOT_BY_ID.rows(session, user_id=user, ids=some)],
                          expanding(some, Contact.id, negated=True)),
            "not_none": ([row[0] for row in NOT_BY_ID.rows(session, user_id=user, ids=[])],
                         EMAILS),
            "by_email": ([row[0] for row in BY_EMAIL.rows(session, emails=EMAILS[1:4])],
                         expanding(EMAILS[1:4], Contact.email)),
            "every_email": ([row[0] for row in BY_EMAIL.rows(session, emails=EMAILS)], ids),
            "email_case": [row[0] for row in BY_EMAIL.rows(session, emails=["ZOË@例え.jp"])],
        }

    found = await Database(db.session_factory(any_engine)).run(work)
    for key in ("by_id", "many", "not_by_id", "not_none", "by_email", "every_email"):
        ours, reference = found[key]
        assert ours == reference, key
    assert found["by_id"][0] == [EMAILS[0], EMAILS[2], EMAILS[4], EMAILS[-1]]
    assert len(found["by_email"][0]) == 3
    assert found["none"] == [] and found["email_case"] == []


_NAMES = Prepared(select(Workspace.id, Workspace.name)
                  .where(in_json_list(Workspace.id, "ids")).order_by(Workspace.id))
_RENAME = Prepared(update(Workspace).where(in_json_list(Workspace.id, "ids"))
                   .values(name="renamed"))


async def test_ids_in_one_parameter_select_and_update_exactly_those_rows(
        any_engine: AsyncEngine) -> None:
    def work(session: Session) -> list[Any]:
        ids = list(session.execute(insert(Workspace).returning(Workspace.id), [dict(
            platform="console", external_id=f"T{n}", name=f"w{n}", ai_enabled=True,
            disclosure_policy="optional", active=True, created_at=NOW)
            for n in range(3000)]).scalars())
        wanted = [*ids[::3], ids[6], -1]  # a duplicate and an id that does not exist
        expected = [tuple(row) for row in session.execute(
            select(Workspace.id, Workspace.name).where(Workspace.id.in_(wanted))
            .order_by(Workspace.id))]
        found = _NAMES.rows(session, ids=wanted)
        changed = _RENAME.execute(session, ids=ids[:10])
        renamed = session.execute(select(Workspace.id).where(Workspace.name == "renamed")
                                  .order_by(Workspace.id)).scalars().all()
        return [expected, found, _NAMES.rows(session, ids=[]), changed, renamed, ids[:10]]

    expected, found, none, changed, renamed, first_ten = await Database(
        db.session_factory(any_engine)).run(work)
    assert found == expected and len(found) == 1000
    assert none == []
    assert changed == 10 and renamed == first_ten
