"""A snooze's answer and its `undo` name the moment the nudge really comes back, as the sweep
brings it: a snooze to a day off is held to the next working day, and `undo` names that day
too; a snooze of hours that ends after the delivery window names the day and time the window
next opens (the sweep's own `planner.next_delivery_moment`), not an hour nothing comes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.context import Actor
from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say

FRIDAY = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)  # Fri Dec 4, Mon-Fri working days
ALEX = console_user("alex")
LOS_ANGELES = console_user("alex", tz="America/Los_Angeles")
MONDAY_1630_LA = datetime(2026, 12, 8, 0, 30, tzinfo=UTC)  # Mon Dec 7 16:30 in Los Angeles


def _sweeper(engine: AsyncEngine, clock: Clock, inbox: Inbox) -> Sweeper:
    return Sweeper(sessions=db.session_factory(engine), messengers={"console": inbox},
                   owner="test", clock=clock)


async def _out(rapport: Rapport, engine: AsyncEngine, clock: Clock, now: datetime,
               user: Actor) -> int:
    """Dana's weekly rhythm nudge (added on the clock's Mon Nov 23), out at `now`: its
    number."""
    await say(rapport, "add Dana Scully every 1 week", user)
    clock.set(now)
    assert (await _sweeper(engine, clock, Inbox()).sweep()).sent == 1
    [nudge] = (await rapport.handle_text(user, "due")).nudges
    return nudge.nudge_id


async def test_undo_names_the_working_day_the_snooze_held_it_to(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    n = await _out(rapport, engine, clock, FRIDAY, ALEX)
    assert await say(rapport, f"snooze #{n}", ALEX) == (
        "Snoozed the reminder to talk to Dana Scully until Mon Dec 7: Sat Dec 5 is not one "
        "of your working days.")
    assert await say(rapport, "undo", ALEX) == (
        f"Undone: snoozed nudge #{n} about Dana Scully until Mon Dec 7. It's open again: "
        "see “due”.")


async def test_hours_past_the_window_name_when_it_comes(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    n = await _out(rapport, engine, clock, MONDAY_1630_LA, LOS_ANGELES)
    assert await say(rapport, f"snooze #{n} 2 hours", LOS_ANGELES) == (
        "Snoozed the reminder to talk to Dana Scully for 2 hours (until 18:30; it comes back "
        "tomorrow (Tue Dec 8) at 09:00, inside your delivery window).")
    # The sweep agrees: nothing at 18:30 or before 09:00, then the nudge.
    inbox = Inbox()
    for moment in (datetime(2026, 12, 8, 2, 31, tzinfo=UTC),
                   datetime(2026, 12, 8, 16, 59, tzinfo=UTC)):
        clock.set(moment)
        await _sweeper(engine, clock, inbox).sweep()
        assert inbox.delivered == []
    clock.set(datetime(2026, 12, 8, 17, 0, tzinfo=UTC))  # Tue Dec 8 09:00 in Los Angeles
    await _sweeper(engine, clock, inbox).sweep()
    assert [item.nudge_id for message in inbox.delivered for item in message.items] == [n]


async def test_hours_inside_the_window_say_so(rapport: Rapport, engine: AsyncEngine,
                                              clock: Clock) -> None:
    n = await _out(rapport, engine, clock, datetime(2026, 12, 7, 18, 0, tzinfo=UTC),
                   LOS_ANGELES)  # Mon Dec 7 10:00 in Los Angeles
    assert await say(rapport, f"snooze #{n} 2 hours", LOS_ANGELES) == (
        "Snoozed the reminder to talk to Dana Scully for 2 hours (until 12:00; it comes back "
        "inside your delivery window).")


async def test_undo_of_a_held_rhythm_names_the_working_day(rapport: Rapport,
                                                           clock: Clock) -> None:
    await say(rapport, "add Dana Scully every 11 days", ALEX)
    clock.set(FRIDAY)
    assert await say(rapport, "snooze Dana", ALEX) == (
        "No nudge about Dana Scully is out; the next one waits until Mon Dec 7: Sat Dec 5 is "
        "not one of your working days.")
    assert await say(rapport, "undo", ALEX) == (
        "Undone: held the next nudge about Dana Scully until Mon Dec 7.")
