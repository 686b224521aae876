"""A change that moves the next ask past now closes the reminder already out for it: a longer
rhythm (`every`, `goal <person>`, a group's goal) closes the rhythm's, a note given another
day closes the note's, as `every … off` does; `undo` brings it back. A note given another
day is then asked about on that day."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say

NEW_YORK = console_user(tz="America/New_York")


def _ny(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute,
                    tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)


async def _sweep(engine: AsyncEngine, clock: Clock, at: datetime) -> list[str]:
    """Sweep at `at`: the headlines delivered."""
    clock.set(at)
    inbox = Inbox()
    await Sweeper(sessions=db.session_factory(engine), messengers={"console": inbox},
                  owner="test", clock=clock).sweep()
    return [item.headline for message in inbox.delivered for item in message.items]


async def _out_about(rapport: Rapport, name: str) -> list[str]:
    """The lines of `due`'s "Due now" about `name`."""
    due = await say(rapport, "due", NEW_YORK)
    return [line for line in due.split("Due now:\n")[-1].splitlines()
            if line.startswith("  #") and name in line]


async def test_a_longer_rhythm_closes_the_reminder_out_and_undo_brings_it_back(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    clock.set(_ny(10, 5, 10))
    await say(rapport, "add Dana Scully every 2 weeks", NEW_YORK)
    await say(rapport, "add Mei Lin every 2 weeks", NEW_YORK)
    assert len(await _sweep(engine, clock, _ny(10, 26, 10, 5))) == 2
    reply = await say(rapport, "every Dana 6 weeks", NEW_YORK)
    assert reply.endswith("(next: Mon Nov 16).")
    assert await _out_about(rapport, "Dana") == []
    assert "Health: 1 of 2 people within their rhythm" in await say(rapport, "stats", NEW_YORK)
    await say(rapport, "undo", NEW_YORK)
    assert len(await _out_about(rapport, "Dana")) == 1
    # A goal for one person is their rhythm: the same.
    reply = await say(rapport, "goal Mei Lin every 4 weeks", NEW_YORK)
    assert "(next: Mon Nov 2)" in reply, reply
    assert await _out_about(rapport, "Mei") == []
    # Still due with the new rhythm: the reminder stays out.
    await say(rapport, "every Dana 3 weeks", NEW_YORK)
    assert len(await _out_about(rapport, "Dana")) == 1


async def test_a_groups_longer_goal_closes_its_followers_reminders(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    clock.set(_ny(10, 5, 10))
    await say(rapport, "add Kim Wu #clients", NEW_YORK)
    await say(rapport, "goal clients every 2 weeks", NEW_YORK)
    assert len(await _sweep(engine, clock, _ny(10, 26, 10, 5))) == 1
    await say(rapport, "goal clients every 6 weeks", NEW_YORK)
    assert await _out_about(rapport, "Kim") == []
    await say(rapport, "undo", NEW_YORK)
    assert len(await _out_about(rapport, "Kim")) == 1


async def test_a_note_given_a_later_day_closes_its_reminder_and_asks_on_that_day(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    clock.set(_ny(10, 5, 10))
    await say(rapport, "add Mei Lin", NEW_YORK)
    await say(rapport, "note Mei: renewal decision after Oct 20", NEW_YORK)
    assert len(await _sweep(engine, clock, _ny(10, 26, 10, 5))) == 1
    reply = await say(rapport, "edit n1: renewal decision pushed to Nov 20", NEW_YORK)
    assert "I'll remind you on Fri Nov 20" in reply
    assert await _out_about(rapport, "Mei") == []
    await say(rapport, "undo", NEW_YORK)
    assert len(await _out_about(rapport, "Mei")) == 1
    await say(rapport, "edit n1: renewal decision pushed to Nov 20", NEW_YORK)
    assert await _sweep(engine, clock, _ny(11, 19, 10)) == []
    assert await _sweep(engine, clock, _ny(11, 20, 10)) == [
        "Ask Mei about the renewal decision pushed to Nov 20 (you noted it on Mon Oct 5)"]


async def test_a_note_moved_before_its_reminder_went_out_is_asked_on_the_new_day(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    clock.set(_ny(10, 5, 10))
    await say(rapport, "add Mei Lin", NEW_YORK)
    await say(rapport, "note Mei: renewal decision after Oct 22", NEW_YORK)
    # Planned on Friday evening, after the window: not out yet.
    assert await _sweep(engine, clock, _ny(10, 23, 18)) == []
    await say(rapport, "edit n1: renewal decision pushed to Nov 20", NEW_YORK)
    assert await _sweep(engine, clock, _ny(10, 26, 10)) == []
    assert len(await _sweep(engine, clock, _ny(11, 20, 10))) == 1
