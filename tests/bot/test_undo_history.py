"""`undo` never deletes more than the change it reverses: someone added before a draft or a
delivered nudge is not taken away with that history (undo says so and points at `forget`),
and undoing a note keeps the nudges delivered about it, as `delete n1` does."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rapport.bot.core.drafts import DraftService
from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from rapport.storage.models import Note, Nudge
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say, snapshot

ALEX = console_user("alex")


async def test_undo_does_not_take_a_person_away_with_their_drafts(
        rapport: Rapport, engine: AsyncEngine, clock: Clock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = DraftService(sessions=sessions, clock=clock)
    await say(rapport, "add Lee Park every 2 weeks")
    drafted = await rapport.handle_text(ALEX, "draft Lee")
    assert drafted.draft is not None
    done = await rapport.drafter.finish(ALEX, drafted.draft.draft_id,
                                        "Lee! Coffee on Thursday?", "post")
    assert done.ok
    before = await snapshot(engine)
    for _ in range(2):  # and it stays so: undo never skips it for something older
        refused = await rapport.handle_text(ALEX, "undo")
        assert not refused.ok and refused.text == (
            "I can't undo “added Lee Park”: Lee Park has 1 draft since, and undo won't "
            "delete those with them. To remove Lee Park with everything about them, use "
            "“forget Lee Park”. Nothing changed.")
    assert await snapshot(engine) == before
    assert "1 sent" in await say(rapport, "stats")


async def test_undo_does_not_take_a_person_away_with_a_delivered_nudge(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await say(rapport, "add Lee Park every 1 week")
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    assert (await sweeper.sweep()).sent == 1
    refused = await rapport.handle_text(ALEX, "undo")
    assert not refused.ok and "Lee Park has 1 delivered nudge since" in refused.text


async def test_undo_of_a_note_keeps_the_nudge_delivered_about_it(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await say(rapport, "add Dana Scully")
    await say(rapport, "note Dana: the offsite on Tuesday")
    clock.set(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    assert (await sweeper.sweep()).sent == 1
    assert await say(rapport, "undo") == "Undone: added note n1 for Dana Scully."
    async with db.session_factory(engine)() as session:
        notes = (await session.scalars(select(Note))).all()
        nudge = await session.scalar(select(Nudge))
    # As after `delete n1`: the reminder stays as history, closed and without its note.
    assert notes == [] and nudge is not None
    assert (nudge.status, nudge.note_id) == ("expired", None)
    assert "#1" not in await say(rapport, "due")
    exported = (await rapport.handle_text(ALEX, "export")).attachment
    assert exported is not None
    assert [n["reason"] for n in json.loads(exported.data)["nudges"]] == ["follow_up"]
