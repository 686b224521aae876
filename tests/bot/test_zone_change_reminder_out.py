"""A zone change keeps each rhythm's due day and moves it to the start of that day in the new
zone (`replan_rhythms`). The rhythm reminder already out then follows what that means: it
stays open while the person is still due in the new zone, and closes when the new due moment
is still to come (as a longer rhythm closes it), to come again once at that moment; `undo`
sets both back. Flying from Tokyo to Los Angeles on the morning of Dana's day used to leave
the reminder out although, in Los Angeles, Dana was due only the next day ("due" listing
it "due now" beside "next nudge Tue Nov 17")."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.context import Actor
from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say

TOKYO = "Asia/Tokyo"
LOS_ANGELES = "America/Los_Angeles"
NEW_YORK = "America/New_York"
SEVEN_DAYS = "It has been 7 days since you talked to Dana Scully"
# Tuesday Nov 10 in Tokyo (21:00), New York (07:00) and Los Angeles (04:00) alike.
TALKED_AT = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def _in(tz: str) -> Actor:
    return console_user("alex", tz=tz)


def _at(tz: str, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo(tz)).astimezone(UTC)


@pytest.fixture
def engine(any_engine: AsyncEngine) -> AsyncEngine:
    """SQLite and, when configured, PostgreSQL."""
    return any_engine


async def _sweep(engine: AsyncEngine, clock: Clock, at: datetime) -> list[str]:
    """Sweep at `at`: the headlines delivered."""
    clock.set(at)
    inbox = Inbox()
    await Sweeper(sessions=db.session_factory(engine), messengers={"console": inbox},
                  owner="test", clock=clock).sweep()
    return [item.headline for message in inbox.delivered for item in message.items]


async def _out_about_dana(rapport: Rapport, tz: str) -> int:
    """How many of `due`'s "Due now" lines are about Dana."""
    due = await say(rapport, "due", _in(tz))
    return len([line for line in due.split("Due now:\n")[-1].splitlines()
                if line.startswith("  #") and "Dana" in line])


async def _reminded_on_tuesday(rapport: Rapport, engine: AsyncEngine, clock: Clock,
                               tz: str) -> None:
    """Dana, every week, talked to on Tuesday Nov 10 in `tz`: the reminder went out on
    Tuesday Nov 17 at the start of the window there, and is open."""
    clock.set(_at(tz, 3, 10))
    await say(rapport, "add Dana Scully every 1 week", _in(tz))
    clock.set(TALKED_AT)
    await say(rapport, "log Dana today: coffee", _in(tz))
    assert await _sweep(engine, clock, _at(tz, 17, 8, 59)) == []
    assert await _sweep(engine, clock, _at(tz, 17, 9, 1)) == [SEVEN_DAYS]
    assert await _out_about_dana(rapport, tz) == 1


async def test_a_move_to_a_zone_where_the_day_has_not_come_closes_the_reminder_out(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await _reminded_on_tuesday(rapport, engine, clock, TOKYO)
    # Tuesday 10:00 in Tokyo is Monday 17:00 in Los Angeles: Dana is due there tomorrow.
    clock.set(_at(TOKYO, 17, 10))

    await say(rapport, f"settings tz {LOS_ANGELES}", _in(TOKYO))

    assert await _out_about_dana(rapport, LOS_ANGELES) == 0
    assert "due in 1 day · next nudge tomorrow" in await say(rapport, "show Dana",
                                                              _in(LOS_ANGELES))
    # Once, at the start of Tuesday's window in Los Angeles.
    assert await _sweep(engine, clock, _at(LOS_ANGELES, 16, 18)) == []
    assert await _sweep(engine, clock, _at(LOS_ANGELES, 17, 8, 59)) == []
    assert await _sweep(engine, clock, _at(LOS_ANGELES, 17, 9, 1)) == [SEVEN_DAYS]
    assert await _sweep(engine, clock, _at(LOS_ANGELES, 17, 16)) == []
    assert await _out_about_dana(rapport, LOS_ANGELES) == 1


async def test_undo_of_that_move_opens_the_reminder_again_and_asks_no_more(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await _reminded_on_tuesday(rapport, engine, clock, TOKYO)
    clock.set(_at(TOKYO, 17, 10))
    await say(rapport, f"settings tz {LOS_ANGELES}", _in(TOKYO))

    assert (await say(rapport, "undo", _in(LOS_ANGELES))).startswith(
        "Undone: changed settings")

    assert await _out_about_dana(rapport, TOKYO) == 1
    assert await _sweep(engine, clock, _at(LOS_ANGELES, 17, 9, 1)) == []
    assert await _sweep(engine, clock, _at(TOKYO, 18, 9, 1)) == []
    assert await _out_about_dana(rapport, TOKYO) == 1


async def test_the_zone_the_platform_reports_closes_it_too(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await _reminded_on_tuesday(rapport, engine, clock, TOKYO)
    clock.set(_at(TOKYO, 17, 10))

    # The person travels: their next command carries Los Angeles.
    assert await _out_about_dana(rapport, LOS_ANGELES) == 0
    assert await _sweep(engine, clock, _at(LOS_ANGELES, 17, 8, 59)) == []
    assert await _sweep(engine, clock, _at(LOS_ANGELES, 17, 9, 1)) == [SEVEN_DAYS]


async def test_a_reminder_waiting_for_the_window_waits_for_the_day_in_the_new_zone(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    clock.set(_at(TOKYO, 3, 10))
    await say(rapport, "add Dana Scully every 1 week", _in(TOKYO))
    clock.set(TALKED_AT)
    await say(rapport, "log Dana today: coffee", _in(TOKYO))
    # Planned on Tuesday at 08:00 in Tokyo, before the window: not out yet.
    assert await _sweep(engine, clock, _at(TOKYO, 17, 8)) == []
    clock.set(_at(TOKYO, 17, 8, 30))

    await say(rapport, f"settings tz {LOS_ANGELES}", _in(TOKYO))

    # Monday 15:30 in Los Angeles, inside the window: still not Dana's day.
    assert await _sweep(engine, clock, _at(LOS_ANGELES, 16, 15, 31)) == []
    assert await _sweep(engine, clock, _at(LOS_ANGELES, 17, 9, 1)) == [SEVEN_DAYS]
    assert await _sweep(engine, clock, _at(LOS_ANGELES, 17, 16)) == []


@pytest.mark.parametrize(("old", "new", "moved_at"), [
    # Westward, the same day in both zones: Tuesday 18:00 in Tokyo, 01:00 in Los Angeles.
    (TOKYO, LOS_ANGELES, _at(TOKYO, 17, 18)),
    # Eastward across the day: Tuesday 10:00 in Los Angeles, Wednesday 03:00 in Tokyo.
    (LOS_ANGELES, TOKYO, _at(LOS_ANGELES, 17, 10)),
    # Eastward, the same day: Tuesday 10:00 in Los Angeles, 13:00 in New York.
    (LOS_ANGELES, NEW_YORK, _at(LOS_ANGELES, 17, 10)),
], ids=["west-same-day", "east-next-day", "east-same-day"])
async def test_a_move_to_a_zone_where_the_person_is_still_due_keeps_the_reminder_out(
        rapport: Rapport, engine: AsyncEngine, clock: Clock, old: str, new: str,
        moved_at: datetime) -> None:
    await _reminded_on_tuesday(rapport, engine, clock, old)
    clock.set(moved_at)

    await say(rapport, f"settings tz {new}", _in(old))

    assert await _out_about_dana(rapport, new) == 1
    # No second reminder on the day in the new zone, nor the next.
    assert await _sweep(engine, clock, _at(new, 17, 9, 1)) == []
    assert await _sweep(engine, clock, _at(new, 17, 16)) == []
    assert await _sweep(engine, clock, _at(new, 18, 9, 1)) == []
    assert await _out_about_dana(rapport, new) == 1
    assert (await say(rapport, "undo", _in(new))).startswith("Undone: changed settings")
    assert await _out_about_dana(rapport, old) == 1


async def test_a_move_east_brings_a_reminder_not_out_yet_on_the_day_there(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    clock.set(_at(LOS_ANGELES, 3, 10))
    await say(rapport, "add Dana Scully every 1 week", _in(LOS_ANGELES))
    clock.set(TALKED_AT)
    await say(rapport, "log Dana today: coffee", _in(LOS_ANGELES))
    # Monday 20:00 in Los Angeles, after the window: Tuesday 13:00 in Tokyo, Dana's day.
    assert await _sweep(engine, clock, _at(LOS_ANGELES, 16, 20)) == []

    await say(rapport, f"settings tz {TOKYO}", _in(LOS_ANGELES))

    assert await _sweep(engine, clock, _at(TOKYO, 17, 13, 1)) == [SEVEN_DAYS]
    assert await _sweep(engine, clock, _at(TOKYO, 17, 16)) == []
    assert await _sweep(engine, clock, _at(LOS_ANGELES, 17, 9, 1)) == []


async def test_moving_back_before_the_day_came_brings_the_reminder_out_again(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await _reminded_on_tuesday(rapport, engine, clock, TOKYO)
    clock.set(_at(TOKYO, 17, 10))
    await say(rapport, f"settings tz {LOS_ANGELES}", _in(TOKYO))
    clock.set(_at(TOKYO, 17, 11))

    # Set back by hand, not by `undo`: Dana is due again in Tokyo, and is asked about once.
    await say(rapport, f"settings tz {TOKYO}", _in(LOS_ANGELES))

    assert await _sweep(engine, clock, _at(TOKYO, 17, 11, 1)) == [SEVEN_DAYS]
    assert await _sweep(engine, clock, _at(TOKYO, 17, 16)) == []
    assert await _sweep(engine, clock, _at(LOS_ANGELES, 17, 9, 1)) == []
    assert await _out_about_dana(rapport, TOKYO) == 1
