"""A reminder the sweep put off to a later moment (outside the window, not a working day, the
daily cap reached) is planned again when what decides delivery moments changes: the time zone
(`settings tz`, or the one the platform reports), the window, the working days, the daily cap.
It used to stay where the old settings had put it: a note "today" written on a Friday evening
in UTC stayed for Monday 09:00 UTC although, once the person's zone was Honolulu, it was
11:45 on Friday there, inside their window."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from rapport.storage.models import Note, Nudge, User
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say

# Friday 21:45 UTC: after the window in UTC, 11:45 on Friday in Honolulu.
FRIDAY_EVENING_UTC = datetime(2026, 11, 27, 21, 45, tzinfo=UTC)
# Saturday 10:00 UTC: inside the window's hours, not a working day.
SATURDAY_MORNING_UTC = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
MONDAY_9_UTC = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TRIP = "Ask Dana about the trip"
NO_ZONE = console_user("alex", tz="")
IN_HONOLULU = console_user("alex", tz="Pacific/Honolulu")
IN_TOKYO = console_user("alex", tz="Asia/Tokyo")


def _sweeper(engine: AsyncEngine, clock: Clock, inbox: Inbox) -> Sweeper:
    return Sweeper(sessions=db.session_factory(engine), messengers={"console": inbox},
                   owner="test", clock=clock)


async def _waiting(engine: AsyncEngine) -> list[tuple[str, datetime]]:
    """(status, deliver_after) of every nudge."""
    async with db.session_factory(engine)() as session:
        return [(status, moment) for status, moment in await session.execute(
            select(Nudge.status, Nudge.deliver_after).order_by(Nudge.id))]


def _headlines(inbox: Inbox) -> list[str]:
    return [item.headline for message in inbox.delivered for item in message.items]


async def _held_for_monday(rapport: Rapport, engine: AsyncEngine, sweeper: Sweeper,
                           note_line: str = "note Dana: ask about the trip today") -> None:
    """Dana's reminder for today, planned and put off by the sweep to Monday 09:00 UTC."""
    await say(rapport, "add Dana Scully")
    await say(rapport, note_line)
    assert (await sweeper.sweep()).sent == 0
    assert await _waiting(engine) == [("planned", MONDAY_9_UTC)]


@pytest.mark.parametrize(("now", "change"), [
    (FRIDAY_EVENING_UTC, "settings tz Pacific/Honolulu"),
    (FRIDAY_EVENING_UTC, "settings window 0:00-24:00"),
    (SATURDAY_MORNING_UTC, "settings days all"),
], ids=["tz", "window", "days"])
async def test_a_settings_change_delivers_the_reminder_held_for_later_the_same_day(
        rapport: Rapport, engine: AsyncEngine, clock: Clock, now: datetime,
        change: str) -> None:
    clock.set(now)
    inbox = Inbox()
    sweeper = _sweeper(engine, clock, inbox)
    await _held_for_monday(rapport, engine, sweeper)

    await say(rapport, change)
    clock.advance(minutes=1)

    assert (await sweeper.sweep()).sent == 1
    assert [line.startswith(TRIP) for line in _headlines(inbox)] == [True]


async def test_a_higher_daily_cap_delivers_the_reminder_held_for_tomorrow_today(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    inbox = Inbox()
    sweeper = _sweeper(engine, clock, inbox)  # Monday 10:00 UTC, inside the window
    await say(rapport, "settings cap 1")
    await say(rapport, "add Dana Scully")
    await say(rapport, "add Lee Park")
    await say(rapport, "note Dana: ask about the trip today")
    assert (await sweeper.sweep()).sent == 1
    await say(rapport, "note Lee: ask about the launch today")
    assert (await sweeper.sweep()).sent == 0  # today's one message is out: tomorrow
    assert [status for status, _ in await _waiting(engine)] == ["sent", "planned"]

    await say(rapport, "settings cap 2")
    clock.advance(minutes=1)

    assert (await sweeper.sweep()).sent == 1
    assert _headlines(inbox)[-1].startswith("Ask Lee about the launch")


async def test_undo_of_the_zone_change_puts_the_reminder_back_where_it_was(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    """The moments the change moved are journaled with it: undo sets them back with the
    zone, so the reminder again waits for the old settings' moment."""
    clock.set(FRIDAY_EVENING_UTC)
    inbox = Inbox()
    sweeper = _sweeper(engine, clock, inbox)
    await _held_for_monday(rapport, engine, sweeper)
    await say(rapport, "settings tz Pacific/Honolulu")
    assert await _waiting(engine) == [("planned", FRIDAY_EVENING_UTC)]

    assert (await say(rapport, "undo")).startswith("Undone: changed settings (time zone)")

    assert await _waiting(engine) == [("planned", MONDAY_9_UTC)]
    assert (await sweeper.sweep()).sent == 0
    clock.set(MONDAY_9_UTC)
    assert (await sweeper.sweep()).sent == 1


async def test_a_settings_change_that_leaves_delivery_alone_leaves_held_reminders_alone(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    clock.set(FRIDAY_EVENING_UTC)
    sweeper = _sweeper(engine, clock, Inbox())
    await _held_for_monday(rapport, engine, sweeper)

    await say(rapport, "settings tone formal")

    assert await _waiting(engine) == [("planned", MONDAY_9_UTC)]


async def test_the_zone_the_platform_reports_later_delivers_the_held_reminder_the_same_day(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    """Slack creates a user with UTC until `users.info` answers: a note "today" written
    then was held for Monday 09:00 UTC, and stayed there once the real zone arrived."""
    clock.set(FRIDAY_EVENING_UTC)
    inbox = Inbox()
    sweeper = _sweeper(engine, clock, inbox)
    await say(rapport, "add Dana Scully", NO_ZONE)
    await say(rapport, "note Dana: ask about the trip today", NO_ZONE)
    assert (await sweeper.sweep()).sent == 0
    assert await _waiting(engine) == [("planned", MONDAY_9_UTC)]

    await say(rapport, "due", IN_HONOLULU)
    clock.advance(minutes=1)

    async with db.session_factory(engine)() as session:
        assert await session.scalar(select(User.tz)) == "Pacific/Honolulu"
    assert (await sweeper.sweep()).sent == 1
    assert [line.startswith(TRIP) for line in _headlines(inbox)] == [True]


async def test_the_zone_the_platform_reports_later_moves_a_follow_up_not_yet_planned(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    """A note for tomorrow written while the zone was UTC is asked about at the start of
    tomorrow's window in the zone the platform reports, not at 09:00 UTC (18:00 in Tokyo,
    after the window: the next day)."""
    inbox = Inbox()
    sweeper = _sweeper(engine, clock, inbox)  # Monday 10:00 UTC
    await say(rapport, "add Dana Scully", NO_ZONE)
    await say(rapport, "note Dana: ask about the launch tomorrow", NO_ZONE)

    await say(rapport, "due", IN_TOKYO)

    tuesday_9_in_tokyo = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    async with db.session_factory(engine)() as session:
        assert await session.scalar(select(Note.plan_at)) == tuesday_9_in_tokyo
    clock.set(tuesday_9_in_tokyo)
    assert (await sweeper.sweep()).sent == 1
    assert _headlines(inbox)[0].startswith("Ask Dana about the launch")


async def test_a_shorter_pause_delivers_the_reminder_held_for_the_longer_ones_end(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    """A pause's end is a delivery setting too: a reminder held for Dec 10 comes on Dec 2
    once the pause ends then."""
    inbox = Inbox()
    sweeper = _sweeper(engine, clock, inbox)  # Monday Nov 23 10:00 UTC
    await say(rapport, "add Dana Scully")
    await say(rapport, "pause until Dec 10")
    await say(rapport, "note Dana: ask about the trip today")
    assert (await sweeper.sweep()).sent == 0
    assert await _waiting(engine) == [("planned", datetime(2026, 12, 10, 9, 0, tzinfo=UTC))]

    await say(rapport, "pause until Dec 2")
    clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))

    assert (await sweeper.sweep()).sent == 1
    assert [line.startswith(TRIP) for line in _headlines(inbox)] == [True]
