"""Recording many conversations at once (a calendar sync) leaves exactly the rows and clocks
that recording them one by one does."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from rapport.bot.core.rapport import Rapport
from rapport.bot.core.touchpoints import Met, record_touchpoint, record_touchpoints
from rapport.storage import db
from rapport.storage.models import Contact, Nudge, Touchpoint
from tests.bot import seed
from tests.conftest import Clock, console_user

D = timedelta(days=1)


async def _history(rapport: Rapport, now: datetime) -> tuple[int, int, list[int]]:
    ctx = await rapport.user_context(console_user())
    ids = (ctx.workspace_id, ctx.user_id)
    async with rapport.sessions() as session, session.begin():
        dana = seed.contact(ids, "Dana Scully", now, cadence=14, next_due=now - 2 * D)
        lee = seed.contact(ids, "Lee Park", now, cadence=None)
        kim = seed.contact(ids, "Kim Wu", now, cadence=7, next_due=now + 3 * D)
        kim.last_touch_at = now - 4 * D
        await seed.add_all(session, dana, lee, kim)
        await seed.add_all(session, seed.touch(kim, now - 4 * D, "typed"),
                           seed.nudge(dana, "sent", now - 2 * D, delivered=now - 2 * D),
                           seed.nudge(dana, "planned", now + D),
                           seed.nudge(kim, "snoozed", now - D, delivered=now - D))
        ids_of = [dana.id, lee.id, kim.id]
    return ctx.workspace_id, ctx.user_id, ids_of


def _state(session: Session) -> dict[str, Any]:
    return {
        "touchpoints": sorted(session.execute(select(
            Touchpoint.contact_id, Touchpoint.happened_at, Touchpoint.kind,
            Touchpoint.source)).all()),
        "clocks": sorted(session.execute(select(
            Contact.id, Contact.last_touch_at, Contact.next_due_at, Contact.plan_at)).all()),
        "nudges": sorted(session.execute(select(Nudge.id, Nudge.status, Nudge.acted_at)).all()),
    }


async def test_a_batch_leaves_the_rows_and_clocks_one_by_one_leaves(
        any_engine: AsyncEngine, clock: Clock) -> None:
    now = clock.now
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    workspace_id, user_id, (dana, lee, kim) = await _history(rapport, now)
    # Out of order, three times with Dana (two meetings at the same moment: each gets a
    # touchpoint of its own), once older than Kim's typed conversation.
    meetings = [Met(dana, now - D), Met(lee, now - 3 * D), Met(dana, now - 5 * D),
                Met(kim, now - 6 * D), Met(lee, now - 2 * D), Met(dana, now - D)]

    def one_by_one(session: Session) -> dict[str, Any]:
        for met in meetings:
            record_touchpoint(session, workspace_id=workspace_id, user_id=user_id,
                              contact_id=met.contact_id, happened_at=met.happened_at,
                              kind="meeting", summary=None, source="calendar", now=now)
        state = _state(session)
        session.rollback()
        return state

    def batched(session: Session) -> tuple[list[int], dict[str, Any]]:
        ids = record_touchpoints(session, workspace_id=workspace_id, user_id=user_id,
                                 meetings=meetings, kind="meeting", source="calendar", now=now)
        in_order = [session.get(Touchpoint, touchpoint_id) for touchpoint_id in ids]
        assert [(t.contact_id, t.happened_at) for t in in_order if t is not None] == \
            [(met.contact_id, met.happened_at) for met in meetings]
        state = _state(session)
        session.rollback()
        return ids, state

    async with rapport.sessions() as session:
        expected = await session.run_sync(one_by_one)
    async with rapport.sessions() as session:
        ids, got = await session.run_sync(batched)
    assert len(ids) == len(set(ids)) == 6
    assert got == expected
    # What the batch changed, spelled out: Dana's sent nudge done, her planned one expired,
    # Kim's snoozed one expired; Dana's clock from her newest meeting, Kim's typed one stands.
    clocks = {row[0]: row[1] for row in got["clocks"]}
    assert clocks[dana] == now - D and clocks[lee] == now - 2 * D and clocks[kim] == now - 4 * D
    assert sorted(status for _, status, _ in got["nudges"]) == ["done", "expired", "expired"]


async def test_an_empty_batch_writes_nothing(engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(engine), clock=clock)
    async with rapport.sessions() as session:
        assert await session.run_sync(lambda s: record_touchpoints(
            s, workspace_id=1, user_id=1, meetings=[], kind="meeting", source="calendar",
            now=clock.now)) == []
