"""A second `done` the same day with what the talk was about is the day's conversation, not
another one (README: once a day per person): its words go to today's conversation when that
has none, `undo` takes back just them, and a conversation that says something else already
is left as it is, with how to change it. A kind of another (`done Lee: coffee` after a chat)
is still another conversation (tests/bot/test_done_once_a_day.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from rapport.storage.models import Nudge, Touchpoint
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say, snapshot

ALEX = console_user("alex")
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a week after the clock's Mon Nov 23


async def _out(rapport: Rapport, engine: AsyncEngine, clock: Clock, *lines: str) -> int:
    """`lines` typed on Mon Nov 23, then Monday's sweep: how many nudges went out."""
    for line in lines:
        await say(rapport, line, ALEX)
    clock.set(MONDAY)
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    return (await sweeper.sweep()).sent


async def _talks(engine: AsyncEngine) -> list[tuple[str, str | None]]:
    async with db.session_factory(engine)() as session:
        rows = await session.execute(select(Touchpoint.kind, Touchpoint.summary)
                                     .order_by(Touchpoint.id))
        return [(kind, summary) for kind, summary in rows]


async def test_a_second_done_with_a_summary_adds_it_to_todays_chat(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    assert await _out(rapport, engine, clock, "add Dana Scully",
                      "note Dana: ask about the trip on Monday") == 1
    assert await say(rapport, "done Dana", ALEX) == (
        "Nice. Logged that you reached out to Dana Scully and marked the reminder to ask "
        "Dana about the trip done.")
    before = await snapshot(engine)
    assert await say(rapport, "done Dana: she loved it", ALEX) == (
        "Added “she loved it” to today's chat with Dana Scully.")
    assert await _talks(engine) == [("chat", "she loved it")]
    # Said again, nothing new.
    again = await rapport.handle_text(ALEX, "done Dana: she loved it")
    assert not again.ok and again.text == (
        "Today's conversation with Dana Scully is logged already (“log Dana Scully: …” "
        "logs another). Nothing changed.")
    # Something else: not a second conversation, and where to change the first.
    other = await rapport.handle_text(ALEX, "done Dana: the photos")
    assert not other.ok and other.text == (
        "Today's chat with Dana Scully is logged already, about “she loved it”, and nothing "
        "is logged twice: “edit t1: …” changes what it says (“log Dana Scully: …” logs "
        "another). Nothing changed.")
    assert await _talks(engine) == [("chat", "she loved it")]
    assert await say(rapport, "undo", ALEX) == (
        "Undone: added “she loved it” to today's chat with Dana Scully.")
    assert await snapshot(engine) == before


async def test_a_summary_done_for_a_nudge_left_open_goes_to_todays_chat(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    # The rhythm and a noted question out: the first Done answers the rhythm, the second,
    # with what was said, the question, and the day's conversation takes its words.
    assert await _out(rapport, engine, clock, "add Dana Scully every 1 week",
                      "note Dana: ask about the trip on Monday") == 2
    first = await say(rapport, "done Dana", ALEX)
    assert first.startswith("Nice. Logged that you reached out to Dana Scully.\nStill open:")
    async with db.session_factory(engine)() as session:
        trip = await session.scalar(select(Nudge.id).where(Nudge.reason == "follow_up"))
    assert await say(rapport, "done Dana: she loved it", ALEX) == (
        "Nice. Marked the reminder to ask Dana about the trip done and added “she loved it” "
        "to today's chat with Dana Scully.")
    assert await _talks(engine) == [("chat", "she loved it")]
    assert await say(rapport, "undo", ALEX) == (
        f"Undone: marked nudge #{trip} about Dana Scully done. It's open again: see “due”.")
    assert await _talks(engine) == [("chat", None)]
