"""`due` shows a snoozed reminder on the day it comes back (a rhythm's, a note's, a
birthday's), once, and not once it is out again."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, say

# Monday Nov 30: a week after the test clock's start, inside the default window.
MONDAY_30 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


async def _deliver(engine: AsyncEngine, clock: Clock, at: datetime) -> int:
    """Sweep at `at`; how many nudges went out."""
    clock.set(at)
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    return (await sweeper.sweep()).sent


async def test_a_snoozed_rhythm_reminder_comes_back_on_the_snoozed_day_in_due(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await say(rapport, "add Dana Scully every 1 week")
    assert await _deliver(engine, clock, MONDAY_30) == 1
    await say(rapport, "snooze Dana until Wednesday")
    # Not the rhythm's next ask (Mon Dec 7): the snoozed reminder is back first.
    assert await say(rapport, "due") == \
        "Due today, reminded later:\n  Dana Scully: next reminder Wed Dec 2"


async def test_a_snooze_past_the_rhythms_next_ask_says_the_day_it_ends(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await say(rapport, "add Dana Scully every 1 week")
    assert await _deliver(engine, clock, MONDAY_30) == 1
    await say(rapport, "snooze Dana 2 weeks")
    # The sweep plans no weekly ask while her reminder is snoozed (it said Mon Dec 7, a day
    # nothing came): it comes back when the snooze ends, on Dec 14.
    assert await say(rapport, "due") == \
        "Due today, reminded later:\n  Dana Scully: next reminder Mon Dec 14"
    assert await _deliver(engine, clock, datetime(2026, 12, 7, 10, 0, tzinfo=UTC)) == 0
    assert await _deliver(engine, clock, datetime(2026, 12, 14, 10, 0, tzinfo=UTC)) == 1


async def test_a_snoozed_birthday_reminder_is_coming_up_on_the_day_it_comes_back(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await say(rapport, "add Lee Park")
    await say(rapport, "date Lee birthday Dec 3")
    assert await _deliver(engine, clock, MONDAY_30) == 1
    await say(rapport, "snooze Lee 2 days")
    assert await say(rapport, "due") == \
        "Coming up:\n  Lee's birthday on Thu Dec 3: next reminder Wed Dec 2"


async def test_a_snoozed_note_reminder_is_coming_up_on_the_day_it_comes_back(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await say(rapport, "add Kim Wu")
    await say(rapport, "note Kim: hiking trip in Yosemite after Saturday")
    assert await _deliver(engine, clock, MONDAY_30) == 1
    await say(rapport, "snooze Kim until Friday")
    assert await say(rapport, "due") == \
        "Coming up:\n  Ask Kim about the hiking trip in Yosemite Fri Dec 4"


async def test_each_snoozed_reminder_is_listed_once_and_not_once_it_is_out_again(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await say(rapport, "add Dana Scully every 1 week")
    await say(rapport, "note Dana: hiking trip in Yosemite after Saturday")
    await say(rapport, "date Dana birthday Dec 3")
    assert await _deliver(engine, clock, MONDAY_30) == 3
    await say(rapport, "snooze #1 until Wednesday")  # the rhythm
    await say(rapport, "snooze #2 until Friday")  # the note
    await say(rapport, "snooze #3 until Wednesday")  # the birthday
    assert await say(rapport, "due") == "\n".join([
        "Due today, reminded later:",
        "  Dana Scully: next reminder Wed Dec 2",
        "Coming up:",
        "  Dana's birthday on Thu Dec 3: next reminder Wed Dec 2",
        "  Ask Dana about the hiking trip in Yosemite Fri Dec 4"])
    # Wednesday: the rhythm's and the birthday's reminders are out again, as cards; only
    # the note's is still to come.
    assert await _deliver(engine, clock, datetime(2026, 12, 2, 10, 0, tzinfo=UTC)) == 2
    due = await say(rapport, "due")
    assert due.count("Dana's birthday") == 1 and "next reminder" not in due
    assert due.split("Coming up:\n")[1].splitlines()[0] == \
        "  Ask Dana about the hiking trip in Yosemite Fri Dec 4"
