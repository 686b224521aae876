"""A rhythm restarts from the day a conversation happened, not its hour: the next ask is due
on the rhythm's day and reaches the user at the start of their window that day (or the next
moment they may be nudged), whether the conversation was logged in the evening, for a day
(kept at noon) or answered with `done`, across a DST change and in calendar months too."""

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


async def test_an_evening_log_is_due_at_the_window_start_of_the_rhythms_day(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    clock.set(_ny(10, 1, 10))
    await say(rapport, "add Dana Scully every 2 weeks", NEW_YORK)
    clock.set(_ny(10, 23, 17, 30))  # a Friday, after the 09:00-17:00 window
    await say(rapport, "log Dana today: coffee", NEW_YORK)
    assert "next nudge Fri Nov 6" in await say(rapport, "show Dana", NEW_YORK)
    clock.set(_ny(11, 6, 8, 0))
    due = await say(rapport, "due", NEW_YORK)
    assert "Mon Nov 9" not in due, due
    assert await _sweep(engine, clock, _ny(11, 6, 9, 0)) == [
        "It has been 2 weeks since you talked to Dana Scully"]


async def test_a_day_logged_at_noon_is_asked_about_at_the_window_start(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    clock.set(_ny(10, 1, 10))
    await say(rapport, "add Lee Park every 2 weeks", NEW_YORK)
    clock.set(_ny(10, 23, 10))
    await say(rapport, "log Lee tues: lunch", NEW_YORK)  # Tue Oct 20, kept at noon
    assert await _sweep(engine, clock, _ny(11, 3, 9, 0)) == [
        "It has been 2 weeks since you talked to Lee Park"]


async def test_done_in_the_evening_restarts_the_rhythm_from_that_day(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    clock.set(_ny(10, 9, 10))
    await say(rapport, "add Kim Wu every 1 week", NEW_YORK)
    assert len(await _sweep(engine, clock, _ny(10, 16, 12, 0))) == 1
    clock.set(_ny(10, 16, 17, 30))
    await say(rapport, "done #1", NEW_YORK)
    assert "next nudge Fri Oct 23" in await say(rapport, "show Kim", NEW_YORK)
    assert len(await _sweep(engine, clock, _ny(10, 23, 9, 0))) == 1


async def test_a_monthly_rhythm_from_an_evening_before_the_clocks_change(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    clock.set(_ny(10, 1, 10))
    await say(rapport, "add Ana Diaz monthly", NEW_YORK)
    clock.set(_ny(10, 31, 21, 0))  # Saturday evening, EDT; the clocks go back on Nov 1
    await say(rapport, "log Ana today: dinner", NEW_YORK)
    assert "next nudge Mon Nov 30" in await say(rapport, "show Ana", NEW_YORK)
    [headline] = await _sweep(engine, clock, _ny(11, 30, 9, 0))
    assert headline.endswith("since you talked to Ana Diaz")
