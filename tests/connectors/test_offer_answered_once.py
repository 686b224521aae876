"""An offer to add someone met ("You met Sam Lee (Globex) twice this month. Add to your
people?") is answered once: two clicks at the same moment (Add and Never, or Add twice, from
two devices or a double click) used to both succeed on PostgreSQL, each reading the offer
open before the other's answer was committed. The second now hears it was answered."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core import commands as c
from rapport.bot.core.views import Reply
from rapport.storage import db
from rapport.storage.models import Contact, Suggestion, UndoEntry
from tests.connectors.test_attendee_offers import ALEX, _sam_offered
from tests.fakes.calendar_fixtures import CalendarApp

_WAITING = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")
_STATUS = {"accept": "accepted", "keep": "kept", "silence": "silenced"}
_SAID = {"accept": "“Add” (Sam Lee was added then), so I",
         "keep": "“Not now”, so I didn't add Sam Lee and",
         "silence": "“Never”, so I didn't add Sam Lee and"}


@pytest.fixture
def engine(any_engine: AsyncEngine) -> AsyncEngine:
    """The calendar app's database: SQLite and, when configured, PostgreSQL."""
    return any_engine


async def _both_waiting(engine: AsyncEngine, count: int) -> None:
    """Until `count` other sessions wait for a lock (the held offer's row)."""
    for _ in range(3000):
        async with engine.connect() as connection:
            if (await connection.scalar(_WAITING)) >= count:
                return
        await asyncio.sleep(0.01)
    raise AssertionError("the two answers never met at the offer's row")


async def _at_once(engine: AsyncEngine, offer_id: int, clicks: list[Awaitable[Reply]]
                   ) -> list[Reply]:
    """Both clicks run at the same moment. On PostgreSQL the offer's row is held meanwhile
    by a third session, so each has read whatever it reads before either ends; released,
    they go on together."""
    if engine.dialect.name != "postgresql":
        return list(await asyncio.gather(*clicks))
    holder = db.create_engine(engine.url.render_as_string(hide_password=False), pool_size=1)
    try:
        async with holder.connect() as connection:
            await connection.execute(text("SELECT id FROM suggestions WHERE id = :id "
                                          "FOR UPDATE"), {"id": offer_id})
            running = [asyncio.ensure_future(click) for click in clicks]
            await _both_waiting(engine, len(running))
            await connection.rollback()
        return list(await asyncio.gather(*running))
    finally:
        await holder.dispose()


@pytest.mark.parametrize("answers", [("accept", "silence"), ("silence", "accept"),
                                     ("accept", "accept"), ("keep", "silence")])
async def test_two_answers_at_once_to_an_offer_make_one(
        calendar_app: CalendarApp, engine: AsyncEngine, answers: tuple[str, str]) -> None:
    app = calendar_app
    _, offer = await _sam_offered(app, "google")
    rapport = app.runtime.rapport
    replies = await _at_once(engine, offer.id, [
        rapport.execute(ALEX, c.AnswerSuggestion(offer.id, answer)) for answer in answers])

    [won] = [answer for answer, reply in zip(answers, replies, strict=True) if reply.ok]
    [refused] = [reply for reply in replies if not reply.ok]
    assert refused.text == (f"You already answered suggestion {offer.id} with {_SAID[won]} "
                            "left everything as it is.")
    async with app.runtime.sessions() as session:
        status = await session.scalar(select(Suggestion.status)
                                      .where(Suggestion.id == offer.id))
        sams = await session.scalar(select(func.count()).select_from(Contact)
                                    .where(Contact.name == "Sam Lee"))
        entries = await session.scalar(select(func.count()).select_from(UndoEntry)
                                       .where(UndoEntry.description.contains("Sam Lee")))
    assert status == _STATUS[won]
    assert sams == (1 if won == "accept" else 0)
    assert entries == 1
    # A later click says the same, and `undo` takes back the one answer given.
    again = await rapport.execute(ALEX, c.AnswerSuggestion(offer.id, "accept"))
    assert (again.ok, again.text) == (False, refused.text)
    undone = await rapport.handle_text(ALEX, "undo")
    assert undone.ok and undone.text.startswith("Undone: ")
    async with app.runtime.sessions() as session:
        assert await session.scalar(select(Suggestion.status)
                                    .where(Suggestion.id == offer.id)) == "open"
        assert await session.scalar(select(func.count()).select_from(Contact)
                                    .where(Contact.name == "Sam Lee")) == 0
