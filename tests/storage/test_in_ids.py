"""Many ids bound as one parameter (`in_ids`) select what an IN list selects, on every backend,
and prepare like any other statement."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from rapport.storage import db
from rapport.storage.models import Workspace
from rapport.storage.prepared import Prepared
from rapport.storage.types import in_ids
from rapport.storage.uow import Database

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

_NAMES = Prepared(select(Workspace.id, Workspace.name)
                  .where(in_ids(Workspace.id, "ids")).order_by(Workspace.id))
_RENAME = Prepared(update(Workspace).where(in_ids(Workspace.id, "ids")).values(name="renamed"))


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
