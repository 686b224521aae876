"""A rhythm counts days and months on the user's own calendar: `log` and `add` in Berlin,
Auckland and New York put the next nudge on the day their calendar says, not on the day
UTC's calendar would."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from rapport.bot.core.rapport import Rapport
from tests.conftest import Clock, console_user, say


def _local(zone: str, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


async def test_monthly_from_berlins_first_of_the_month_is_the_next_first(
        rapport: Rapport, clock: Clock) -> None:
    berlin = console_user(tz="Europe/Berlin")
    clock.set(_local("Europe/Berlin", 2027, 3, 1, 0, 30))  # Feb 28 23:30 in UTC
    await say(rapport, "add Dana Scully monthly", berlin)
    await say(rapport, "log Dana coffee", berlin)
    assert "next nudge Thu Apr 1" in await say(rapport, "show Dana", berlin)


async def test_monthly_from_a_day_logged_in_auckland_is_that_day_next_month(
        rapport: Rapport, clock: Clock) -> None:
    auckland = console_user(tz="Pacific/Auckland")
    clock.set(_local("Pacific/Auckland", 2027, 3, 2, 10, 0))
    await say(rapport, "add Dana Scully monthly", auckland)
    await say(rapport, "log Dana yesterday", auckland)  # Mar 1 there, Feb 28 in UTC
    assert "next nudge Thu Apr 1" in await say(rapport, "show Dana", auckland)
    # Added on Mar 2 there, never talked to: due Apr 2.
    await say(rapport, "add Lee Park monthly", auckland)
    assert "next nudge Fri Apr 2" in await say(rapport, "show Lee", auckland)


async def test_weekly_from_the_night_before_dst_is_due_the_next_saturday(
        rapport: Rapport, clock: Clock) -> None:
    new_york = console_user(tz="America/New_York")
    clock.set(_local("America/New_York", 2027, 3, 13, 23, 30))
    await say(rapport, "add Dana Scully every week", new_york)
    await say(rapport, "log Dana", new_york)
    clock.set(_local("America/New_York", 2027, 3, 20, 23, 0))
    people = await say(rapport, "people", new_york)
    assert "due today" in people, people
    clock.set(_local("America/New_York", 2027, 3, 21, 10, 0))
    people = await say(rapport, "people", new_york)
    assert "due today" not in people and "overdue" in people, people
