"""What the person hears when the database refuses a change (a value it can't hold, a row that
clashes with one already there): never "try again", which would not help, and nothing half
written."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from rapport.bot.core.context import UserContext
from rapport.bot.core.rapport import NOT_STORED, Rapport
from rapport.bot.core.views import Reply
from rapport.storage import db
from rapport.storage.models import Contact, Note
from tests.conftest import console_user, say, snapshot


async def test_a_change_the_database_refuses_gets_a_plain_answer_and_changes_nothing(
        any_engine: AsyncEngine, caplog: pytest.LogCaptureFixture) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine))
    await say(rapport, "add Dana Scully")
    before = await snapshot(any_engine)

    def clash(session: Session, ctx: UserContext) -> Reply:
        dana = session.execute(select(Contact).where(Contact.user_id == ctx.user_id)).scalar_one()
        session.execute(insert(Note).values(
            workspace_id=dana.workspace_id, user_id=dana.user_id, contact_id=dana.id,
            text="written first, in the same unit", created_at=dana.created_at))
        # The same (user, name key) again: the unique constraint refuses it.
        session.execute(insert(Contact).values(
            workspace_id=dana.workspace_id, user_id=dana.user_id, name="Dana Scully",
            name_key=dana.name_key, kind="colleague", created_at=dana.created_at))
        return Reply("stored")

    async def use_case(ctx: UserContext) -> Reply:
        return await rapport.db.run(lambda session: clash(session, ctx), write=True)

    with caplog.at_level(logging.ERROR, logger="rapport.bot.core.rapport"):
        reply = await rapport.guarded(console_user(), use_case)
    assert not reply.ok and reply.text == NOT_STORED
    assert "try again" not in reply.text
    assert [r.message for r in caplog.records] == ["database refused a change"]
    assert await snapshot(any_engine) == before
